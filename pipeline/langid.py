"""Language identification with langdetect, made deterministic.

langdetect samples n-grams at random; with a fixed seed on our own detector
factory (not the library's module-level one) the same text always gets the same
answer, and two runs of a batch give the same records.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any

import regex
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from pipeline.config import LanguageSettings
from pipeline.records import LangGuess

UNDETERMINED = "und"
_LETTER = regex.compile(r"\p{L}")
# langdetect speaks BCP 47-ish codes; records use ISO 639-1.
_TO_ISO = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass
class LanguageDetector:
    """A langdetect detector factory loaded once, with a fixed seed."""

    settings: LanguageSettings
    _factory: DetectorFactory

    @classmethod
    def create(cls, settings: LanguageSettings) -> LanguageDetector:
        """Load langdetect's language profiles (about 1 s) for reuse across all articles."""
        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        factory.set_seed(settings.seed)
        return cls(settings=settings, _factory=factory)

    def detect(self, text: str) -> LangGuess:
        """Return the language of ``text`` as ISO 639-1 with its probability, or ``und`` with a reason.

        The lead (``sample_chars``) decides when the detector is confident about it; a doubtful
        lead is decided on up to ``max_chars`` characters instead.
        """
        sample = text[: self.settings.max_chars]
        # Only whether there are enough letters matters: stop counting there.
        letters = sum(1 for _ in islice(_LETTER.finditer(sample), self.settings.min_letters))
        if letters == 0:
            return LangGuess(UNDETERMINED, 0.0, "no letters in text")
        if letters < self.settings.min_letters:
            return LangGuess(UNDETERMINED, 0.0, f"too short: {letters} letters < {self.settings.min_letters}")
        lead = text[: self.settings.sample_chars]
        if len(lead) < len(sample):
            first = self._ranked(lead)
            if isinstance(first, list) and first and first[0].prob >= self.settings.confident:
                return self._guess(first)
        ranked = self._ranked(sample)
        if isinstance(ranked, str):
            return LangGuess(UNDETERMINED, 0.0, ranked)
        return self._guess(ranked)

    def _ranked(self, sample: str) -> list[Any] | str:
        """langdetect's ranked candidates for ``sample``, or the reason it has none."""
        try:
            detector = self._factory.create()
            detector.n_trial = self.settings.trials
            detector.append(sample)
            ranked: list[Any] = detector.get_probabilities()
        except LangDetectException as exc:
            return f"undecidable: {exc}"
        return ranked

    def _guess(self, ranked: list[Any]) -> LangGuess:
        if not ranked:
            return LangGuess(UNDETERMINED, 0.0, "undecidable: no candidate language")
        best = ranked[0]
        if best.prob < self.settings.min_probability:
            return LangGuess(
                UNDETERMINED,
                round(best.prob, 4),
                f"undecidable: best guess {best.lang} at {best.prob:.2f} < {self.settings.min_probability}",
            )
        return LangGuess(_TO_ISO.get(best.lang, best.lang), round(best.prob, 4))
