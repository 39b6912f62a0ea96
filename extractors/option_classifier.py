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
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion

from extractors.option_confidence import RECORD_CALIBRATION_PATH, RecordCalibration
from extractors.option_cues import OPTIONS, find_cues, has_chip_term, option_data

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
    # Indicators of the language's cue patterns (per option: a cue fires / fires with a chip word /
    # names chips itself; plus "the sentence names chips"), appended to the n-grams with this weight.
    "cue_features": 0.0,
    "version": 2,
}
#: Folds of the out-of-fold predictions the confidence calibration is fitted on (grouped by article).
CALIBRATION_FOLDS = 5
CALIBRATION_PATH = Path(__file__).parent / "data" / "options" / "calibration.json"
_SPACE = re.compile(r"\s+")


def normalize_sentence(text: str) -> str:
    """Fold whitespace (Reuters bodies are hard-wrapped) so that layout is not a feature."""
    return _SPACE.sub(" ", text).strip()


def load_rows(path: Path = DATA_PATH) -> list[dict[str, Any]]:
    """The labelled sentences, sorted by id so that fitting does not depend on file order."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return sorted(rows, key=lambda r: r["id"])


def cue_features(texts: Sequence[str], langs: Sequence[str]) -> sparse.csr_matrix:
    """What the cue patterns say about each sentence, as 13 binary columns (see ``PARAMS``)."""
    out = np.zeros((len(texts), 3 * len(OPTIONS) + 1))
    for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        data = option_data(lang)
        chip = has_chip_term(text, data)
        fired = find_cues(text, data)
        for j, option in enumerate(OPTIONS):
            raw = any(c.cue.option == option for c in fired)
            named = any(c.cue.option == option and c.cue.chip for c in fired)
            out[i, 3 * j:3 * j + 3] = (raw, raw and (chip or named), named)
        out[i, -1] = chip
    return sparse.csr_matrix(out)


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

    def fit(self, texts: Sequence[str], labels: Sequence[Iterable[str]], langs: Sequence[str]) -> OptionClassifier:
        """Fit one binary model per option (an option without positives gets probability 0)."""
        self.features_ = self._features()
        x = self.features_.fit_transform([normalize_sentence(t) for t in texts])
        if self.params.get("cue_features"):
            x = sparse.hstack([x, cue_features(texts, langs) * self.params["cue_features"]]).tocsr()
        self.models_: dict[str, LogisticRegression | None] = {}
        for option in OPTIONS:
            y = np.array([option in set(ls) for ls in labels], dtype=int)
            if y.sum() == 0:
                self.models_[option] = None
                continue
            model = LogisticRegression(C=self.params["C"], class_weight=self.params["class_weight"],
                                       max_iter=self.params["max_iter"], solver=self.params["solver"])
            self.models_[option] = model.fit(x, y)
        # The four binary models as one weight matrix, so that prediction is one sparse product
        # (the same arithmetic as LogisticRegression.predict_proba, without its per-call checks).
        self.coef_ = np.zeros((x.shape[1], len(OPTIONS)))
        self.intercept_ = np.zeros(len(OPTIONS))
        self.fitted_ = np.zeros(len(OPTIONS), dtype=bool)
        for j, model in enumerate(self.models_.values()):
            if model is not None:
                self.coef_[:, j] = model.coef_.ravel()
                self.intercept_[j] = model.intercept_[0]
                self.fitted_[j] = True
        return self

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> sparse.csr_matrix:
        """The feature matrix of ``texts`` (word n-grams, character n-grams, cue indicators)."""
        norm = [normalize_sentence(t) for t in texts]
        blocks = [vec.transform(norm) for _, vec in self.features_.transformer_list]
        if self.params.get("cue_features"):
            blocks.append(cue_features(texts, langs) * self.params["cue_features"])
        return sparse.hstack(blocks).tocsr()

    def predict_matrix(self, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """Probabilities as an array, one row per text and one column per option (``OPTIONS`` order)."""
        if not texts:
            return np.zeros((0, len(OPTIONS)))
        probs = expit(self.transform(texts, langs) @ self.coef_ + self.intercept_)
        probs[:, ~self.fitted_] = 0.0  # an option without positives is never predicted
        return np.asarray(probs)

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str]) -> list[dict[str, float]]:
        """Probability of each option for each text (``langs``: the texts' languages, for the cues)."""
        return [{o: float(p) for o, p in zip(OPTIONS, row, strict=True)}
                for row in self.predict_matrix(texts, langs)]


def fold_classifiers(rows: Sequence[dict[str, Any]], params: dict[str, Any], folds: int = CALIBRATION_FOLDS
                     ) -> list[tuple[OptionClassifier, np.ndarray]]:
    """For each fold (``GroupKFold`` by article: deterministic, no shuffling), the classifier fitted
    on the other folds and the indices of the fold's rows."""
    out: list[tuple[OptionClassifier, np.ndarray]] = []
    groups = [r["article_id"] for r in rows]
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(rows, groups=groups):
        train = [rows[i] for i in train_idx]
        clf = OptionClassifier(params).fit([r["text"] for r in train], [r["labels"] for r in train],
                                           [r["lang"] for r in train])
        out.append((clf, test_idx))
    return out


def out_of_fold(rows: Sequence[dict[str, Any]], params: dict[str, Any], folds: int = CALIBRATION_FOLDS,
                fitted: Sequence[tuple[OptionClassifier, np.ndarray]] | None = None) -> np.ndarray:
    """Out-of-fold probabilities for ``rows``; ``fitted`` reuses :func:`fold_classifiers`' output."""
    probs = np.zeros((len(rows), len(OPTIONS)))
    for clf, test_idx in fitted if fitted is not None else fold_classifiers(rows, params, folds):
        probs[test_idx] = clf.predict_matrix([rows[i]["text"] for i in test_idx], [rows[i]["lang"] for i in test_idx])
    return probs


def cue_mask(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """Which (sentence, option) pairs the extractor would consider: a cue of that option fires."""
    mask = np.zeros((len(rows), len(OPTIONS)), dtype=bool)
    for i, r in enumerate(rows):
        fired = {c.cue.option for c in find_cues(r["text"], option_data(r["lang"]))}
        mask[i] = [o in fired for o in OPTIONS]
    return mask


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of the classifier's probability: ``1 / (1 + exp(-(a * logit(p) + b)))``.

    Fitted on out-of-fold probabilities of the (sentence, option) pairs where a cue of the option
    fires, against the label: the population the extractor turns into mentions.
    """

    a: float
    b: float
    model_hash: str
    n: int
    positives: int

    def __call__(self, p: float) -> float:
        q = min(max(p, 1e-6), 1 - 1e-6)
        return float(expit(self.a * np.log(q / (1 - q)) + self.b))

    @classmethod
    def fit(cls, probs: np.ndarray, labels: np.ndarray, model_hash: str) -> Calibration:
        """Fit on matching arrays of probabilities and 0/1 labels (logistic regression on the logit)."""
        q = np.clip(probs, 1e-6, 1 - 1e-6)
        x = np.log(q / (1 - q)).reshape(-1, 1)
        lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000).fit(x, labels.astype(int))
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]), model_hash, len(labels), int(labels.sum()))

    def to_json(self) -> str:
        return json.dumps({"method": "platt", "a": round(self.a, 6), "b": round(self.b, 6),
                           "model_hash": self.model_hash, "n": self.n, "positives": self.positives},
                          indent=1) + "\n"

    @classmethod
    def load(cls, path: Path = CALIBRATION_PATH) -> Calibration:
        """The shipped calibration (two numbers in JSON; nothing is unpickled)."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("method") != "platt":
            raise ValueError(f"{path}: unknown calibration method {raw.get('method')!r}")
        return cls(float(raw["a"]), float(raw["b"]), str(raw["model_hash"]), int(raw["n"]), int(raw["positives"]))


def fit_calibration(rows: Sequence[dict[str, Any]], params: dict[str, Any], model_hash: str) -> Calibration:
    """Calibration from out-of-fold predictions on ``rows`` (what ``make train`` writes)."""
    probs = out_of_fold(rows, params)
    mask = cue_mask(rows)
    labels = np.array([[o in r["labels"] for o in OPTIONS] for r in rows])
    return Calibration.fit(probs[mask], labels[mask], model_hash)


@dataclass(frozen=True)
class ShippedModel:
    """The fitted classifier with its provenance."""

    classifier: OptionClassifier
    model_hash: str
    n_sentences: int
    calibration: Calibration | None
    #: Record-level confidence (extractors/option_confidence.py); None where the file is absent.
    record_calibration: RecordCalibration | None = None


_CACHE: dict[str, ShippedModel] = {}


def shipped_model() -> ShippedModel:
    """The classifier fitted on the shipped sentences (once per process)."""
    cached = _CACHE.get("model")
    if cached is None:
        rows = [r for r in load_rows() if r["split"] in PARAMS["splits"]]
        clf = OptionClassifier(PARAMS).fit([r["text"] for r in rows], [r["labels"] for r in rows],
                                           [r["lang"] for r in rows])
        model_hash = data_hash(rows, PARAMS)
        calibration = Calibration.load() if CALIBRATION_PATH.exists() else None
        if calibration is not None and calibration.model_hash != model_hash:
            calibration = None  # stale: fitted for other data or parameters (``make train`` refits it)
        record_calibration = RecordCalibration.load() if RECORD_CALIBRATION_PATH.exists() else None
        cached = ShippedModel(clf, model_hash, len(rows), calibration, record_calibration)
        _CACHE["model"] = cached
    return cached
