"""Per-language knowledge, loaded from YAML data files.

Each extractor keeps its language knowledge in ``extractors/lang/<section>/``:
``base.yaml`` holds what every language shares and ``<lang>.yaml`` adds or
overrides per language. Adding a language is adding a file; no code branches
on the language code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANG_DIR = Path(__file__).parent / "lang"


class LangDataError(ValueError):
    """A language data file is missing, malformed or has an unknown key."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LangDataError(f"{path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LangDataError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` onto ``base``: mappings merge recursively, lists and scalars replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def available_languages(section: str) -> list[str]:
    """Language codes that have a data file in ``section``."""
    folder = LANG_DIR / section
    return sorted(p.stem for p in folder.glob("*.yaml") if p.stem != "base")


@cache
def load_section(section: str, lang: str) -> dict[str, Any]:
    """Return the merged data of ``section`` for ``lang`` (``base.yaml`` alone when it has no file).

    The result is cached per process: data files are read once, never per article.
    Callers must treat it as read-only.

    Raises:
        LangDataError: when the section folder does not exist or a file is malformed.
    """
    folder = LANG_DIR / section
    if not folder.is_dir():
        raise LangDataError(f"no language data section {section!r} under {LANG_DIR}")
    base_path = folder / "base.yaml"
    base = _read_yaml(base_path) if base_path.exists() else {}
    lang_path = folder / f"{lang}.yaml"
    if not lang_path.exists():
        return base
    return merge(base, _read_yaml(lang_path))
