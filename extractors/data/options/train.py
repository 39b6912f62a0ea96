"""Measure the option cues and the sentence classifier on ``sentences.jsonl`` (reproducible).

Usage (from the repository root)::

    .venv/bin/python -m extractors.data.options.train           # cross-validation on the train split
    .venv/bin/python -m extractors.data.options.train --test    # plus the test-split figures (report once)

Cross-validation is grouped by article (5 folds, ``GroupKFold`` has no randomness), so sentences of
one article never sit on both sides. Systems compared, sentence level, micro-averaged over the four
options: the cues alone (with and without the chip-word condition), the classifier alone, and the cues
filtered by the classifier at several thresholds. The shipped model needs no artefact: it is refitted
from the data at load time (:func:`extractors.option_classifier.shipped_model`); its hash is printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from sklearn.model_selection import GroupKFold

from extractors.option_classifier import PARAMS, OptionClassifier, load_rows, shipped_model
from extractors.option_cues import OPTIONS, find_cues, option_data, sentence_cue_labels

THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def _raw_cues(text: str, lang: str) -> set[str]:
    return {m.cue.option for m in find_cues(text, option_data(lang))}


def _score(rows: Sequence[dict[str, Any]], preds: Sequence[set[str]]) -> dict[str, float]:
    tp = fp = fn = hard_fp = 0
    for row, pred in zip(rows, preds, strict=True):
        gold = set(row["labels"])
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
        hard_fp += bool(row["hard_negative"] and pred)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    hard = sum(r["hard_negative"] for r in rows)
    return {"P": p, "R": r, "F1": f, "hard_neg_flagged": hard_fp / hard if hard else 0.0}


def systems(rows: Sequence[dict[str, Any]], probs: Sequence[dict[str, float]]) -> dict[str, list[set[str]]]:
    """Predictions of every compared system for ``rows`` given the classifier's ``probs``."""
    raw = [_raw_cues(r["text"], r["lang"]) for r in rows]
    chip = [sentence_cue_labels(r["text"], r["lang"]) for r in rows]
    out: dict[str, list[set[str]]] = {"cues": raw, "cues+chip": chip}
    clf: Callable[[float], list[set[str]]] = lambda t: [{o for o in OPTIONS if p[o] >= t} for p in probs]
    out["classifier>=0.5"] = clf(0.5)
    for t in THRESHOLDS:
        out[f"cues AND clf>={t}"] = [c & {o for o in OPTIONS if p[o] >= t} for c, p in zip(raw, probs, strict=True)]
    chip_cue = [{m.cue.option for m in find_cues(r["text"], option_data(r["lang"])) if m.cue.chip} for r in rows]
    for t in (0.02, 0.05, 0.1):
        # The extractor's rule: a cue that names chips stands alone, others need the classifier.
        out[f"cues+chip, non-chip cue needs clf>={t}"] = [
            (c & {o for o in OPTIONS if p[o] >= t}) | (c & k) for c, k, p in zip(chip, chip_cue, probs, strict=True)]
    out["cues+chip OR clf>=0.5"] = [c | {o for o in OPTIONS if p[o] >= 0.5} for c, p in zip(chip, probs, strict=True)]
    out["cues OR clf>=0.8"] = [c | {o for o in OPTIONS if p[o] >= 0.8} for c, p in zip(raw, probs, strict=True)]
    return out


def cross_validate(rows: Sequence[dict[str, Any]], folds: int = 5) -> list[dict[str, float]]:
    """Out-of-fold classifier probabilities for ``rows`` (grouped by article)."""
    probs: list[dict[str, float]] = [{} for _ in rows]
    groups = [r["article_id"] for r in rows]
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(rows, groups=groups):
        train = [rows[i] for i in train_idx]
        clf = OptionClassifier(PARAMS).fit([r["text"] for r in train], [r["labels"] for r in train])
        for i, p in zip(test_idx, clf.predict_proba([rows[i]["text"] for i in test_idx]), strict=True):
            probs[i] = p
    return probs


def _table(title: str, rows: Sequence[dict[str, Any]], probs: Sequence[dict[str, float]]) -> None:
    print(f"\n{title}: {len(rows)} sentences, {sum(bool(r['labels']) for r in rows)} positive")
    print(f"{'system':24} {'P':>6} {'R':>6} {'F1':>6} {'hard-neg flagged':>17}")
    for name, preds in systems(rows, probs).items():
        s = _score(rows, preds)
        print(f"{name:24} {s['P']:6.3f} {s['R']:6.3f} {s['F1']:6.3f} {s['hard_neg_flagged']:17.3f}")


def main() -> None:
    """Print the cross-validation table (and the test table with ``--test``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test", action="store_true", help="also fit on train and score the test split")
    args = ap.parse_args()
    rows = load_rows()
    train = [r for r in rows if r["split"] == "train"]
    _table("5-fold CV on the train split (grouped by article)", train, cross_validate(train))
    if args.test:
        test = [r for r in rows if r["split"] == "test"]
        clf = OptionClassifier(PARAMS).fit([r["text"] for r in train], [r["labels"] for r in train])
        _table("test split (classifier fitted on train only)", test, clf.predict_proba([r["text"] for r in test]))
    model = shipped_model()
    print(f"\nshipped model: fitted on splits {PARAMS['splits']}, {model.n_sentences} sentences, "
          f"hash {model.model_hash}")


if __name__ == "__main__":
    main()
