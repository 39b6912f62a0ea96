"""chipwire's pipeline: ingest → normalise → language → spaCy → extractors → records on disk."""

from __future__ import annotations

__version__ = "0.1.0"
