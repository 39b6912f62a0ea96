"""Option clusters across articles and languages: the case table, then the helpers one by one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from chipwire.clusters import (
    CLUSTER_COLUMNS,
    build_clusters,
    cluster_id,
    independent_groups,
    parse_published,
    source_host,
)
from tests.conftest import CASES

CASE_FILE = CASES / "clusters" / "cases.yaml"
CLUSTER_CASES: list[dict[str, Any]] = yaml.safe_load(Path(CASE_FILE).read_text(encoding="utf-8"))["cases"]
OPTION_DEFAULTS = {"actor_id": None, "quote": None, "sentence": None, "background": False, "rumored": False}


def _tables(case: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    options = pd.DataFrame([{**OPTION_DEFAULTS, **o} for o in case["options"]],
                           columns=["article_id", "option", "actor", "counterparty", "status", *OPTION_DEFAULTS])
    articles = pd.DataFrame(case["articles"])
    duplicates = pd.DataFrame(case["duplicates"]) if case.get("duplicates") else None
    return options, articles, duplicates


def _comparable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.mark.parametrize("case", CLUSTER_CASES, ids=lambda c: f"{c['group']}-{c['id']}")
def test_cluster_cases(case: dict[str, Any]) -> None:
    clusters = build_clusters(*_tables(case))
    assert list(clusters.columns) == list(CLUSTER_COLUMNS)
    got = clusters.to_dict("records")
    assert len(got) == len(case["expected"]), [(g["actor"], g["option"], g["counterparties"]) for g in got]
    for row, expected in zip(got, case["expected"], strict=True):
        for key, value in expected.items():
            if key == "history":
                steps = [[s["article_id"], s["status"], s["novelty"]] for s in row["status_history"]]
                assert steps == value, case["id"]
            else:
                assert _comparable(row[key]) == value, (case["id"], key)


def test_history_steps_carry_their_evidence() -> None:
    case = next(c for c in CLUSTER_CASES if c["id"] == "single-report")
    (row,) = build_clusters(*_tables(case)).to_dict("records")
    (step,) = row["status_history"]
    assert step == {
        "published": "2023-10", "date": date(2023, 10, 1), "status": "considered", "article_id": "a1",
        "language": "fr", "source": "lemonde.fr", "quote": "sa propre puce", "sentence": None,
        "background": False, "rumored": False, "novelty": "first_report",
    }


def test_cluster_id_ignores_order_case_and_spacing() -> None:
    assert cluster_id("partner", "OpenAI", ["NVIDIA", "AMD"]) == cluster_id("partner", " openai ", ["amd", "Nvidia"])
    assert cluster_id("partner", "OpenAI", ["NVIDIA"]) != cluster_id("build", "OpenAI", ["NVIDIA"])
    assert cluster_id("partner", "OpenAI", []) != cluster_id("partner", "OpenAI", ["NVIDIA"])


@pytest.mark.parametrize(("value", "expected"), [
    ("2023-10", pd.Timestamp("2023-10-01")),
    ("2023", pd.Timestamp("2023-01-01")),
    ("2019-08-27", pd.Timestamp("2019-08-27")),
    ("1987-04-09T16:27:52", pd.Timestamp("1987-04-09 16:27:52")),
    ("2024-08-28T01:00:00+02:00", pd.Timestamp("2024-08-27 23:00:00")),
    ("2016-02-01T16:22:00+00:00", pd.Timestamp("2016-02-01 16:22:00")),
    (None, None),
    ("", None),
    ("sometime soon", None),
], ids=str)
def test_parse_published(value: str | None, expected: pd.Timestamp | None) -> None:
    assert parse_published(value) == expected


@pytest.mark.parametrize(("url", "feed", "extra", "expected"), [
    ("https://www.heise.de/developer/meldung/x.html", None, None, "heise.de"),
    ("http://WWW.Tagesschau.de/a", None, None, "tagesschau.de"),
    (None, "https://www.heise.de/developer/rss/news-atom.xml", None, "heise.de"),
    (None, None, {"hostname": "tomshardware.com"}, "tomshardware.com"),
    (None, None, {"publisher": "GNT"}, "gnt"),
    (None, "Heise Developer", None, "heise developer"),
    (None, None, {"lang": "en"}, None),
], ids=["url", "url-case", "feed-url", "hostname", "publisher", "feed-title", "nothing"])
def test_source_host(url: str | None, feed: str | None, extra: dict[str, Any] | None, expected: str | None) -> None:
    assert source_host(url, feed, extra) == expected


def test_independent_groups_are_transitive_and_named_by_smallest_id() -> None:
    keys = {"c": {"host:x"}, "a": {"hash:1"}, "b": {"hash:1", "host:x"}, "d": {"host:y"}}
    assert independent_groups(["c", "a", "b", "d"], keys) == {"a": "a", "b": "a", "c": "a", "d": "d"}
