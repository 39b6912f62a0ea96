"""A multi-label sentence classifier for the four strategic options, refitted from shipped data.

No model file is shipped: the model is fitted from ``extractors/data/options/sentences.jsonl`` the
first time it is needed in a process (about a second), deterministically (fixed parameters, a
solver without randomness, sorted inputs). Nothing a user could swap is unpickled, and the model's
identity is the hash of its training data and parameters (:attr:`OptionClassifier.model_hash`),
which every option record carries in ``details``.

The classifier is a filter and a confidence signal for the cue patterns
(:mod:`extractors.option_cues`), which carry the recall: positives are scarce (about 120 sentences).
``python -m extractors.data.options.train`` measures both on the data's train/test split.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from extractors.option_cues import OPTIONS

DATA_PATH = Path(__file__).parent / "data" / "options" / "sentences.jsonl"

#: Every parameter of the model; part of the model hash. Changing one changes the hash.
PARAMS: dict[str, Any] = {
    "char_ngram_range": [2, 5],
    "word_ngram_range": [1, 2],
    "min_df": 2,
    "sublinear_tf": True,
    "C": 4.0,
    "class_weight": "balanced",
    "max_iter": 2000,
    "solver": "liblinear",
    # Which splits of sentences.jsonl the shipped model is fitted on (the test split was
    # measured once on a train-only fit before being folded in; see the data README).
    "splits": ["test", "train"],
    "version": 1,
}
_SPACE = re.compile(r"\s+")


def normalize_sentence(text: str) -> str:
    """Fold whitespace (Reuters bodies are hard-wrapped) so that layout is not a feature."""
    return _SPACE.sub(" ", text).strip()


def load_rows(path: Path = DATA_PATH) -> list[dict[str, Any]]:
    """The labelled sentences, sorted by id so that fitting does not depend on file order."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return sorted(rows, key=lambda r: r["id"])


def data_hash(rows: Sequence[dict[str, Any]], params: dict[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the training rows' text and labels plus the parameters."""
    digest = hashlib.sha256()
    digest.update(json.dumps(params, sort_keys=True).encode("utf-8"))
    for row in rows:
        digest.update(json.dumps([row["id"], row["text"], row["labels"], row["split"]]).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass
class OptionClassifier:
    """One-vs-rest logistic regressions over word and character n-grams.

    Follows scikit-learn's conventions: ``__init__`` stores parameters, :meth:`fit` returns
    ``self``, learned attributes end in ``_``.
    """

    params: dict[str, Any]

    def _features(self) -> FeatureUnion:
        p = self.params
        return FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(p["word_ngram_range"]), min_df=p["min_df"],
                                     sublinear_tf=p["sublinear_tf"], lowercase=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngram_range"]),
                                     min_df=p["min_df"], sublinear_tf=p["sublinear_tf"], lowercase=True)),
        ])

    def fit(self, texts: Sequence[str], labels: Sequence[Iterable[str]]) -> OptionClassifier:
        """Fit one binary model per option (an option without positives gets probability 0)."""
        self.features_ = self._features()
        x = self.features_.fit_transform([normalize_sentence(t) for t in texts])
        self.models_: dict[str, LogisticRegression | None] = {}
        for option in OPTIONS:
            y = np.array([option in set(ls) for ls in labels], dtype=int)
            if y.sum() == 0:
                self.models_[option] = None
                continue
            model = LogisticRegression(C=self.params["C"], class_weight=self.params["class_weight"],
                                       max_iter=self.params["max_iter"], solver=self.params["solver"])
            self.models_[option] = model.fit(x, y)
        return self

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Probability of each option for each text."""
        if not texts:
            return []
        x = self.features_.transform([normalize_sentence(t) for t in texts])
        out: list[dict[str, float]] = [{} for _ in texts]
        for option, model in self.models_.items():
            probs = model.predict_proba(x)[:, 1] if model is not None else np.zeros(len(texts))
            for row, p in zip(out, probs, strict=True):
                row[option] = float(p)
        return out


@dataclass(frozen=True)
class ShippedModel:
    """The fitted classifier with its provenance."""

    classifier: OptionClassifier
    model_hash: str
    n_sentences: int


_CACHE: dict[str, ShippedModel] = {}


def shipped_model() -> ShippedModel:
    """The classifier fitted on the shipped sentences (once per process)."""
    cached = _CACHE.get("model")
    if cached is None:
        rows = [r for r in load_rows() if r["split"] in PARAMS["splits"]]
        clf = OptionClassifier(PARAMS).fit([r["text"] for r in rows], [r["labels"] for r in rows])
        cached = ShippedModel(clf, data_hash(rows, PARAMS), len(rows))
        _CACHE["model"] = cached
    return cached
