"""aws-quiz core: platform-free study bot logic (knowledge, lookup, router)."""
