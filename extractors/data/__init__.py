"""Data files of the extractors (knowledge base, option patterns) and the KB build script."""
