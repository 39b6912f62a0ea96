"""The explicit list of extractors, by versioned name.

A run's settings name the extractors to apply, in order; their names go into
every record's provenance, so a change of output must come with a new version.
"""

from __future__ import annotations

from extractors.base import Extractor
from extractors.entities import extract_entities

EXTRACTORS: dict[str, Extractor] = {
    e.name: e
    for e in (
        Extractor("entities.v1", "entities", extract_entities),
    )
}
