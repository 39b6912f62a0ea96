"""Measure the option cues and the sentence classifier on ``sentences.jsonl`` (reproducible).

Usage (from the repository root)::

    .venv/bin/python -m extractors.data.options.train           # cross-validation on the train split
    .venv/bin/python -m extractors.data.options.train --test    # plus the test-split figures (report once)

Cross-validation is grouped by article (5 folds, ``GroupKFold`` has no randomness), so sentences of
one article never sit on both sides. Systems compared, sentence level, micro-averaged over the four
options: the cues alone (with and without the chip-word condition), the classifier alone, the cues
filtered by the classifier at several thresholds, and the **extractor itself**
(:func:`extractors.options.detect_options` run on each article with the fold's classifier). For the
extractor, each article is rebuilt from its labelled sentences (in order, one paragraph each) and
parsed by the run's own spaCy pipelines and entities extractor, so the chip scope, the arguments and
the knowledge-base roles are decided as in a run; a sentence is predicted to state an option when a
record of that option has evidence in it. The shipped model needs no artefact: it is refitted from
the data at load time (:func:`extractors.option_classifier.shipped_model`); its hash is printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby, pairwise
from pathlib import Path
from typing import Any

import numpy as np
from spacy.tokens import Doc

from extractors.base import ExtractContext, remember_text
from extractors.entities import extract_entities
from extractors.money import extract_quantities
from extractors.option_classifier import (
    CALIBRATION_PATH,
    PARAMS,
    Calibration,
    OptionClassifier,
    ShippedModel,
    cue_mask,
    fit_calibration,
    fold_classifiers,
    load_rows,
    out_of_fold,
    shipped_model,
)
from extractors.option_confidence import (
    RECORD_CALIBRATION_PATH,
    RecordCalibration,
    leave_one_batch_out,
    load_outcomes,
)
from extractors.option_cues import OPTIONS, find_cues, option_data, sentence_cue_labels
from extractors.options import MIN_PROB, detect_options
from pipeline.config import load_settings
from pipeline.nlp import ModelPool

THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
RULE_THRESHOLDS = (0.05, 0.2, 0.3, 0.4, 0.5, 0.6)
#: Classifier thresholds (``extractors.options.MIN_PROB``) the extractor itself is run with.
EXTRACTOR_THRESHOLDS = tuple(sorted({0.0, 0.02, 0.05, 0.1, 0.2, MIN_PROB}))
#: The shipped system: the extractor with its own threshold.
EXTRACTOR_RULE = f"extractor, clf>={MIN_PROB}"
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


def systems(rows: Sequence[dict[str, Any]], probs: Sequence[dict[str, float]],
            extractor: dict[str, list[set[str]]] | None = None) -> dict[str, list[set[str]]]:
    """Predictions of every compared system for ``rows`` given the classifier's ``probs``.

    ``extractor`` adds the extractor's own predictions (system name -> one set per row).
    """
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
    out.update(extractor or {})
    return out


# ---------------------------------------------------------------------------------------------
# The extractor itself, on articles rebuilt from the labelled sentences


@dataclass(frozen=True)
class RebuiltArticle:
    """An article rebuilt from its labelled sentences, parsed as a run parses it."""

    article_id: str
    rows: tuple[dict[str, Any], ...]
    spans: tuple[tuple[int, int], ...]  # each row's sentence in ``doc``'s text
    doc: Doc
    ctx: ExtractContext


def _sentence_number(row: dict[str, Any]) -> int:
    return int(row["id"].rsplit("#", 1)[1])


def rebuild_articles(rows: Sequence[dict[str, Any]]) -> dict[str, RebuiltArticle]:
    """Each article of ``rows`` as one text (its sentences in order, one paragraph each), parsed.

    The run's spaCy pipelines (statistical for en/fr, blank elsewhere) and entities extractor are
    used, so that the extractor sees the organisations a run would give it.
    """
    pool = ModelPool(load_settings())
    out: dict[str, RebuiltArticle] = {}
    ordered = sorted(rows, key=lambda r: (r["article_id"], _sentence_number(r)))
    for article_id, group in groupby(ordered, key=lambda r: r["article_id"]):
        members = tuple(group)
        spans: list[tuple[int, int]] = []
        pos = 0
        for row in members:
            spans.append((pos, pos + len(row["text"])))
            pos += len(row["text"]) + 2
        text = "\n\n".join(row["text"] for row in members)
        lang = members[0]["lang"]
        doc = pool.get(lang)(text)
        remember_text(doc, text)
        entities = extract_entities(doc, ExtractContext(lang=lang))
        out[article_id] = RebuiltArticle(article_id, members, tuple(spans), doc,
                                         ExtractContext(lang=lang, found={"entities": entities,
                                                                          "quantities": extract_quantities(doc, lang=lang)}))
    return out


def extractor_labels(article: RebuiltArticle, model: ShippedModel, min_prob: float) -> dict[str, set[str]]:
    """Options the extractor finds in each sentence of ``article`` (row id -> options)."""
    found: dict[str, set[str]] = {row["id"]: set() for row in article.rows}
    for option in detect_options(article.doc, article.ctx, model=model, min_prob=min_prob):
        for ev in option.evidence:
            for row, (s, e) in zip(article.rows, article.spans, strict=True):
                if s <= ev.start < e:
                    found[row["id"]].add(option.option)
    return found


def extractor_systems(rows: Sequence[dict[str, Any]], articles: dict[str, RebuiltArticle],
                      models: dict[str, ShippedModel]) -> dict[str, list[set[str]]]:
    """The extractor's predictions for ``rows`` at each threshold (``models``: article id -> classifier)."""
    out: dict[str, list[set[str]]] = {}
    for t in EXTRACTOR_THRESHOLDS:
        found: dict[str, set[str]] = {}
        for article_id in sorted({r["article_id"] for r in rows}):
            found.update(extractor_labels(articles[article_id], models[article_id], t))
        out[f"extractor, clf>={t}"] = [found[r["id"]] for r in rows]
    return out


def _as_model(clf: OptionClassifier, name: str, n: int) -> ShippedModel:
    return ShippedModel(clf, name, n, None)


def fold_models(rows: Sequence[dict[str, Any]], fitted: Sequence[tuple[OptionClassifier, np.ndarray]]
                ) -> dict[str, ShippedModel]:
    """For each article of ``rows``, the classifier of its fold (``fitted``: :func:`fold_classifiers`)."""
    out: dict[str, ShippedModel] = {}
    for k, (clf, test_idx) in enumerate(fitted):
        model = _as_model(clf, f"fold-{k}", len(rows) - len(test_idx))
        out.update({rows[i]["article_id"]: model for i in test_idx})
    return out


def _dicts(matrix: np.ndarray) -> list[dict[str, float]]:
    return [{o: float(p) for o, p in zip(OPTIONS, row, strict=True)} for row in matrix]


def _table(title: str, rows: Sequence[dict[str, Any]], probs: Sequence[dict[str, float]],
           extractor: dict[str, list[set[str]]]) -> None:
    print(f"\n{title}: {len(rows)} sentences, {sum(bool(r['labels']) for r in rows)} positive, "
          f"{sum(r['hard_negative'] for r in rows)} hard negatives")
    print(f"{'system':42} {'P':>6} {'R':>6} {'F1':>6} {'hard-neg flagged':>17}")
    preds = systems(rows, probs, extractor)
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


def reliability(probs: np.ndarray, labels: np.ndarray, calibration: Calibration | None,
                unit: str = "(sentence, option) pairs with a cue of the option") -> None:
    """Bins of (calibrated) probability: count, mean probability, share of true labels."""
    values = np.array([calibration(p) for p in probs]) if calibration is not None else probs
    print(f"{'bin':<12} {'pairs':>6} {'mean p':>7} {'true':>6}")
    for lo, hi in pairwise(BINS):
        sel = (values >= lo) & ((values < hi) if hi < 1 else (values <= hi))
        if sel.any():
            print(f"[{lo:.1f}, {hi:.1f}{']' if hi == 1 else ')'}  {int(sel.sum()):6d} {values[sel].mean():7.3f} "
                  f"{labels[sel].mean():6.3f}")
    brier = float(np.mean((values - labels) ** 2)) if len(values) else 0.0
    print(f"Brier score {brier:.3f} over {len(values)} {unit}")


def _development_articles() -> set[str]:
    """Ids of the development articles (``tests/eval/articles.jsonl``; empty outside a checkout)."""
    path = Path(__file__).resolve().parents[3] / "tests" / "eval" / "articles.jsonl"
    if not path.exists():
        return set()
    return {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def main() -> None:
    """Print the cross-validation table (and the test table with ``--test``), then refit the calibration."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test", action="store_true", help="also fit on train and score the test split")
    ap.add_argument("--no-write", dest="write", action="store_false",
                    help=f"do not rewrite the shipped calibration ({CALIBRATION_PATH.name})")
    args = ap.parse_args()
    rows = load_rows()
    train = [r for r in rows if r["split"] == "train"]
    folds = fold_classifiers(train, PARAMS)
    oof = out_of_fold(train, PARAMS, fitted=folds)
    articles = rebuild_articles(rows)
    cv_extractor = extractor_systems(train, articles, fold_models(train, folds))
    _table("5-fold CV on the train split (grouped by article)", train, _dicts(oof), cv_extractor)
    train_labels = np.array([[o in r["labels"] for o in OPTIONS] for r in train])
    train_mask = cue_mask(train)
    calibration = Calibration.fit(oof[train_mask], train_labels[train_mask], "train-only")
    if args.test:
        test = [r for r in rows if r["split"] == "test"]
        clf = OptionClassifier(PARAMS).fit([r["text"] for r in train], [r["labels"] for r in train],
                                           [r["lang"] for r in train])
        probs = clf.predict_matrix([r["text"] for r in test], [r["lang"] for r in test])
        train_model = _as_model(clf, "train-only", len(train))
        test_extractor = extractor_systems(test, articles, {r["article_id"]: train_model for r in test})
        _table("test split (classifier fitted on train only)", test, _dicts(probs), test_extractor)
        # Rules written on development-article misses can have seen test sentences of the same
        # articles (docs/EVALUATION.md): the rest of the split is the cleaner, smaller measure.
        keep = [i for i, r in enumerate(test) if r["article_id"] not in _development_articles()]
        outside = [test[i] for i in keep]
        _table(f"test split, articles outside the development set ({len(outside)} sentences)", outside,
               _dicts(probs[keep]), extractor_systems(outside, articles, {r["article_id"]: train_model for r in outside}))
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
    record_confidence(write=args.write)


def record_confidence(*, write: bool) -> None:
    """Leave-one-batch-out reliability of the record confidence, then refit it on every batch."""
    outcomes = load_outcomes()
    batches = sorted({r["batch"] for r in outcomes})
    pairs = leave_one_batch_out(outcomes)
    print(f"\nrecord confidence: leave-one-batch-out over {len(batches)} labelled batches ({len(outcomes)} records, "
          f"{sum(int(r['correct']) for r in outcomes)} right)")
    reliability(np.array([p for p, _ in pairs]), np.array([y for _, y in pairs], dtype=float), None,
                unit="records (each predicted by a model fitted without its batch)")
    if write:
        fitted = RecordCalibration.fit(outcomes)
        RECORD_CALIBRATION_PATH.write_text(fitted.to_json(), encoding="utf-8")
        print(f"wrote {RECORD_CALIBRATION_PATH} ({fitted.n} records, {fitted.positives} right)")


if __name__ == "__main__":
    main()
