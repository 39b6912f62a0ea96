"""Record confidence: the probability that an option record's (actor, option) is right.

The sentence classifier's calibrated probability answers another question (is this sentence about
the option?) and, on labelled articles the extractor never saw, it sits near 0.3 while about eight
records in ten are right. This model is fitted on the records themselves: every record chipwire wrote
for the labelled development batches, each marked right or wrong against the batch's gold
(``extractors/data/options/record_outcomes.csv``; how it was made and measured:
``extractors/data/options/README.md``, "Record confidence"). It is a logistic regression over a few
record features; the shipped file holds its coefficients only (JSON, nothing unpickled).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from extractors.option_cues import OPTIONS

OUTCOMES_PATH = Path(__file__).parent / "data" / "options" / "record_outcomes.csv"
RECORD_CALIBRATION_PATH = Path(__file__).parent / "data" / "options" / "record_calibration.json"

#: Feature names, in the order of the coefficients.
FEATURES: tuple[str, ...] = ("logit_probability", "via_coref", "evidence", "counterparty", "background",
                             *(f"option_{o}" for o in OPTIONS[1:]))
#: Evidence sentences beyond this many add nothing (a long article repeats a deal).
_EVIDENCE_CAP = 4
#: Inverse regularisation strength of the logistic regression (sklearn's ``C``).
_C = 1.0
_EPS = 1e-3


def record_features(option: str, probability: float, via_coref: bool, evidence: int,
                    counterparty: bool, background: bool) -> list[float]:
    """The feature vector of one record (the order of :data:`FEATURES`)."""
    q = min(max(probability, _EPS), 1 - _EPS)
    return [float(np.log(q / (1 - q))), float(via_coref), min(evidence, _EVIDENCE_CAP) / _EVIDENCE_CAP,
            float(counterparty), float(background), *(float(option == o) for o in OPTIONS[1:])]


def _row_features(row: dict[str, str]) -> list[float]:
    return record_features(row["option"], float(row["classifier_probability"]), row["via_coref"] == "1",
                           int(row["evidence"]), row["counterparty"] == "1", row["background"] == "1")


def load_outcomes(path: Path = OUTCOMES_PATH) -> list[dict[str, str]]:
    """The shipped table of labelled records (one dict per CSV row)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@dataclass(frozen=True)
class RecordCalibration:
    """Logistic regression from record features to the probability that the record is right."""

    coef: tuple[float, ...]
    intercept: float
    n: int
    positives: int

    def __call__(self, features: list[float]) -> float:
        return float(expit(float(np.dot(self.coef, features)) + self.intercept))

    @classmethod
    def fit(cls, rows: list[dict[str, str]]) -> RecordCalibration:
        """Fit on outcome rows (deterministic: lbfgs on a convex loss)."""
        x = np.array([_row_features(r) for r in rows])
        y = np.array([int(r["correct"]) for r in rows])
        lr = LogisticRegression(C=_C, solver="lbfgs", max_iter=1000).fit(x, y)
        return cls(tuple(float(c) for c in lr.coef_[0]), float(lr.intercept_[0]), len(y), int(y.sum()))

    def to_json(self) -> str:
        """The shipped form: coefficients named by feature."""
        return json.dumps({"method": "logistic", "features": list(FEATURES),
                           "coef": [round(c, 6) for c in self.coef], "intercept": round(self.intercept, 6),
                           "n": self.n, "positives": self.positives}, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path = RECORD_CALIBRATION_PATH) -> RecordCalibration:
        """Read the shipped coefficients; a file for other features is an error, not a guess."""
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("method") != "logistic" or tuple(raw.get("features", ())) != FEATURES:
            raise ValueError(f"{path}: not a record calibration for features {FEATURES}")
        return cls(tuple(float(c) for c in raw["coef"]), float(raw["intercept"]), int(raw["n"]),
                   int(raw["positives"]))


def leave_one_batch_out(rows: list[dict[str, str]]) -> list[tuple[float, int]]:
    """(predicted probability, outcome) for each row, from a model fitted without its batch."""
    out: list[tuple[float, int]] = []
    for batch in sorted({r["batch"] for r in rows}):
        fitted = RecordCalibration.fit([r for r in rows if r["batch"] != batch])
        out += [(fitted(_row_features(r)), int(r["correct"])) for r in rows if r["batch"] == batch]
    return out
