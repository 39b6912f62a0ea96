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
from itertools import pairwise
from typing import Any

import numpy as np

from extractors.option_classifier import (
    CALIBRATION_PATH,
    PARAMS,
    Calibration,
    OptionClassifier,
    cue_mask,
    fit_calibration,
    load_rows,
    out_of_fold,
    shipped_model,
)
from extractors.option_cues import OPTIONS, find_cues, option_data, sentence_cue_labels

THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
RULE_THRESHOLDS = (0.05, 0.2, 0.3, 0.4, 0.5, 0.6)
#: The extractor's own rule (``extractors.options.MIN_PROB``): a cue naming chips stands alone,
#: another cue needs the classifier's support.
EXTRACTOR_RULE = "cues+chip, non-chip cue needs clf>=0.05"
BINS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)


def _raw_cues(text: str, lang: str) -> set[str]:
    return {m.cue.option for m in find_cues(text, option_data(lang))}


def _score(rows: Sequence[dict[str, Any]], preds: Sequence[set[str]], only: str | None = None) -> dict[str, float]:
    tp = fp = fn = hard_fp = 0
    for row, pred in zip(rows, preds, strict=True):
        gold = set(row["labels"]) if only is None else set(row["labels"]) & {only}
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
    for t in RULE_THRESHOLDS:
        # The extractor's rule: a cue that names chips stands alone, others need the classifier.
        out[f"cues+chip, non-chip cue needs clf>={t}"] = [
            (c & {o for o in OPTIONS if p[o] >= t}) | (c & k) for c, k, p in zip(chip, chip_cue, probs, strict=True)]
    out["cues+chip OR clf>=0.5"] = [c | {o for o in OPTIONS if p[o] >= 0.5} for c, p in zip(chip, probs, strict=True)]
    out["cues OR clf>=0.8"] = [c | {o for o in OPTIONS if p[o] >= 0.8} for c, p in zip(raw, probs, strict=True)]
    return out


def cross_validate(rows: Sequence[dict[str, Any]], folds: int = 5) -> list[dict[str, float]]:
    """Out-of-fold classifier probabilities for ``rows`` (grouped by article)."""
    return _dicts(out_of_fold(rows, PARAMS, folds))


def _dicts(matrix: np.ndarray) -> list[dict[str, float]]:
    return [{o: float(p) for o, p in zip(OPTIONS, row, strict=True)} for row in matrix]


def _table(title: str, rows: Sequence[dict[str, Any]], probs: Sequence[dict[str, float]]) -> None:
    print(f"\n{title}: {len(rows)} sentences, {sum(bool(r['labels']) for r in rows)} positive, "
          f"{sum(r['hard_negative'] for r in rows)} hard negatives")
    print(f"{'system':42} {'P':>6} {'R':>6} {'F1':>6} {'hard-neg flagged':>17}")
    preds = systems(rows, probs)
    for name, pred in preds.items():
        s = _score(rows, pred)
        print(f"{name:42} {s['P']:6.3f} {s['R']:6.3f} {s['F1']:6.3f} {s['hard_neg_flagged']:17.3f}")
    print(f"per option (system '{EXTRACTOR_RULE}', then 'classifier>=0.5'); precision on hard negatives ="
          " share of them with no option predicted")
    print(f"{'option':10} {'gold':>5} {'P':>6} {'R':>6} {'F1':>6}   {'P':>6} {'R':>6} {'F1':>6}")
    for option in OPTIONS:
        cells = []
        for name in (EXTRACTOR_RULE, "classifier>=0.5"):
            s = _score(rows, [p & {option} for p in preds[name]], only=option)
            cells.append(f"{s['P']:6.3f} {s['R']:6.3f} {s['F1']:6.3f}")
        gold = sum(option in r["labels"] for r in rows)
        print(f"{option:10} {gold:5d} {cells[0]}   {cells[1]}")
    for name in (EXTRACTOR_RULE, "classifier>=0.5"):
        print(f"hard-negative precision ({name}): {1 - _score(rows, preds[name])['hard_neg_flagged']:.3f}")


def reliability(probs: np.ndarray, labels: np.ndarray, calibration: Calibration | None) -> None:
    """Bins of (calibrated) probability: count, mean probability, share of true labels."""
    values = np.array([calibration(p) for p in probs]) if calibration is not None else probs
    print(f"{'bin':<12} {'pairs':>6} {'mean p':>7} {'true':>6}")
    for lo, hi in pairwise(BINS):
        sel = (values >= lo) & ((values < hi) if hi < 1 else (values <= hi))
        if sel.any():
            print(f"[{lo:.1f}, {hi:.1f}{']' if hi == 1 else ')'}  {int(sel.sum()):6d} {values[sel].mean():7.3f} "
                  f"{labels[sel].mean():6.3f}")
    brier = float(np.mean((values - labels) ** 2)) if len(values) else 0.0
    print(f"Brier score {brier:.3f} over {len(values)} (sentence, option) pairs with a cue of the option")


def main() -> None:
    """Print the cross-validation table (and the test table with ``--test``), then refit the calibration."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test", action="store_true", help="also fit on train and score the test split")
    ap.add_argument("--no-write", dest="write", action="store_false",
                    help=f"do not rewrite the shipped calibration ({CALIBRATION_PATH.name})")
    args = ap.parse_args()
    rows = load_rows()
    train = [r for r in rows if r["split"] == "train"]
    oof = out_of_fold(train, PARAMS)
    _table("5-fold CV on the train split (grouped by article)", train, _dicts(oof))
    train_labels = np.array([[o in r["labels"] for o in OPTIONS] for r in train])
    train_mask = cue_mask(train)
    calibration = Calibration.fit(oof[train_mask], train_labels[train_mask], "train-only")
    if args.test:
        test = [r for r in rows if r["split"] == "test"]
        clf = OptionClassifier(PARAMS).fit([r["text"] for r in train], [r["labels"] for r in train],
                                           [r["lang"] for r in train])
        probs = clf.predict_matrix([r["text"] for r in test], [r["lang"] for r in test])
        _table("test split (classifier fitted on train only)", test, _dicts(probs))
        labels = np.array([[o in r["labels"] for o in OPTIONS] for r in test])
        mask = cue_mask(test)
        print(f"\nreliability on the test split, Platt calibration fitted on the train split's out-of-fold "
              f"predictions (a={calibration.a:.3f}, b={calibration.b:.3f})")
        reliability(probs[mask], labels[mask].astype(float), calibration)
        print("\nthe same pairs, uncalibrated classifier probability")
        reliability(probs[mask], labels[mask].astype(float), None)
    model = shipped_model()
    print(f"\nshipped model: fitted on splits {PARAMS['splits']}, {model.n_sentences} sentences, "
          f"hash {model.model_hash}")
    if args.write:
        shipped_rows = [r for r in rows if r["split"] in PARAMS["splits"]]
        fitted = fit_calibration(shipped_rows, PARAMS, model.model_hash)
        CALIBRATION_PATH.write_text(fitted.to_json(), encoding="utf-8")
        print(f"wrote {CALIBRATION_PATH} (Platt a={fitted.a:.3f}, b={fitted.b:.3f}, {fitted.n} pairs, "
              f"{fitted.positives} positive)")
    elif model.calibration is None:
        print(f"WARNING: {CALIBRATION_PATH.name} is missing or stale for this model: run `make train`")


if __name__ == "__main__":
    main()
