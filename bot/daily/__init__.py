"""The daily channel question: subscriptions, the scheduler pass, answers and reveals."""
