"""Language understanding shared by lookup and grading: normalising, stemming, query reading, semantics."""
