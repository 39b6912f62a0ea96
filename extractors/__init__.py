"""chipwire's extractors: pure functions over a spaCy ``Doc``, listed in a versioned registry."""
