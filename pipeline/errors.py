"""Coded errors: every input item that cannot become a record gets one of these codes.

Codes are stable strings (they appear in ``errors.jsonl`` and the run summary),
so scripts can filter on them; the reason text is for people.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Pipeline stages, in order; an error entry names the one that failed."""

    INGEST = "ingest"
    NORMALIZE = "normalize"
    LANGUAGE = "language"
    NLP = "nlp"
    EXTRACT = "extract"
    WRITE = "write"


class Code(StrEnum):
    """Stable error codes."""

    INPUT_NOT_FOUND = "E001_input_not_found"
    EMPTY_INPUT = "E002_empty_input"
    BINARY_INPUT = "E003_binary_input"
    UNDECODABLE = "E004_undecodable"
    MALFORMED_JSON = "E005_malformed_json"
    MISSING_FIELD = "E006_missing_field"
    MALFORMED_FEED = "E007_malformed_feed"
    NO_MAIN_TEXT = "E008_no_main_text"
    EMPTY_TEXT = "E009_empty_text"
    UNREADABLE = "E010_unreadable"
    TOO_LARGE = "E011_too_large"
    UNSUPPORTED_FORMAT = "E012_unsupported_format"
    NLP_FAILED = "E020_nlp_failed"
    EXTRACTOR_FAILED = "E021_extractor_failed"
    INTERNAL = "E099_internal"


class ChipwireError(Exception):
    """Base class for errors that stop a run before it starts (bad arguments, bad configuration)."""


class ConfigError(ChipwireError):
    """The configuration is invalid; the message names the bad key."""


class ItemError(Exception):
    """A failure confined to one input item; the runner turns it into an error entry."""

    def __init__(self, code: Code, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
