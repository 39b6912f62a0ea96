"""Option clusters: one strategic option followed across articles, sources and languages.

Every option record says that one actor considers or takes one move with some counterparties, as of
one article's publication. Analysts want the story behind several such records: who first reported
it, how many *independent* sources repeat it, in which languages, and how its status moved. These
pure functions turn the ``options`` and ``articles`` tables (pandas DataFrames, as stored in DuckDB
by :mod:`chipwire.store`) into one row per cluster; they read no file and hold no state, so the
tests drive them with small tables of cases (``tests/cases/clusters/``).

A cluster is keyed by (option, actor, counterparties): the actor and counterparties by canonical
name, case-folded, the counterparties as a set, so "OpenAI partners with NVIDIA" reported in French,
German and English is one cluster whatever the surface forms were.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

#: The statuses of OPTIONS.md, from the earliest stage to the latest; the last two end an option.
STATUS_ORDER: tuple[str, ...] = (
    "considered", "planned", "announced", "in_progress", "completed", "abandoned", "denied",
)
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}

#: ``novelty`` of a status-history step (and of a cluster: its latest step's).
NOVELTY = ("first_report", "status_change", "new_source", "repeat")

CLUSTER_COLUMNS: tuple[str, ...] = (
    "cluster_id", "option", "actor", "actor_id", "counterparties", "n_mentions", "n_articles",
    "n_independent_sources", "languages", "first_seen", "last_seen", "current_status", "n_status_changes",
    "novelty", "background_only", "rumored_only", "article_ids", "status_history",
)

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


def parse_published(value: str | None) -> pd.Timestamp | None:
    """A record's ``published`` string as a naive UTC timestamp, for ordering.

    Partial dates take the first day of their period (``2023-10`` → 2023-10-01): they sort before any
    full date of that month, which is right for "first seen" (the article may be the earliest).

    Args:
        value: ISO 8601 date or date-time, partial allowed, or None.

    Returns:
        The timestamp, or None when ``value`` is empty or has no leading year.
    """
    if not value or not isinstance(value, str):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        stamp = None
    if stamp is None or pd.isna(stamp) or len(value.strip()) < 10:
        # Partial or odd dates: pandas guesses differently per shape, so read the leading fields only.
        match = _DATE.match(value)
        if not match:
            return None
        year, month, day = (int(g) if g else 1 for g in match.groups())
        try:
            return pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def published_date(value: str | None) -> date | None:
    """The calendar date of ``published`` (UTC), or None; see :func:`parse_published`."""
    stamp = parse_published(value)
    return None if stamp is None else stamp.date()


def source_host(url: str | None, feed: str | None = None, extra: Mapping[str, Any] | None = None) -> str | None:
    """The publisher an article came from: its URL's host without ``www.``, else what the input said.

    Args:
        url: The article's URL.
        feed: The feed it came from (a URL or a title).
        extra: The record's ``extra`` (trafilatura fills ``hostname``; JSONL corpora often ``publisher``).

    Returns:
        A lower-case host or publisher name, or None when nothing tells.
    """
    for candidate in (url, feed):
        if candidate and "//" in candidate:
            host = (urlsplit(candidate).hostname or "").lower()
            if host:
                return host.removeprefix("www.")
    extra = extra or {}
    for key in ("hostname", "publisher", "sitename"):
        value = extra.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower().removeprefix("www.")
    if feed and feed.strip():
        return feed.strip().lower()
    return None


def _norm(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def cluster_id(option: str, actor: str | None, counterparties: Iterable[str]) -> str:
    """The stable id of the cluster of (option, actor, counterparties); order and case do not matter.

    The same id is written on every ``options`` row, so a mention finds its cluster without a join key
    of three columns.
    """
    parties = "\x1e".join(sorted({_norm(c) for c in counterparties if _norm(c)}))
    key = f"{option}\x1f{_norm(actor)}\x1f{parties}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def source_keys(articles: pd.DataFrame, duplicates: pd.DataFrame | None = None) -> dict[str, set[str]]:
    """For each article, the keys that tie it to other copies of the same report.

    Two articles are one source when they share a key: the same publisher host, the same content hash
    (a syndicated copy kept under another id), the same ``story_id`` (near-duplicate story clusters, when
    the pipeline supplies them), or a ``duplicates`` row linking them.

    Args:
        articles: Needs ``article_id``; uses ``host``, ``content_hash`` and ``story_id`` when present.
        duplicates: Rows with ``duplicate_of``; ``article_id`` (a near-duplicate that was kept as a
            record) and ``story_id`` are used when present.

    Returns:
        article_id → set of keys (``host:…``, ``hash:…``, ``story:…``, ``dup:…``).
    """
    keys: dict[str, set[str]] = {str(a): set() for a in articles["article_id"]}
    for column, prefix in (("host", "host"), ("content_hash", "hash"), ("story_id", "story")):
        if column not in articles.columns:
            continue
        for article, value in zip(articles["article_id"], articles[column], strict=True):
            if isinstance(value, str) and value:
                keys[str(article)].add(f"{prefix}:{value}")
    if duplicates is not None and not duplicates.empty and "duplicate_of" in duplicates.columns:
        for row in duplicates.to_dict("records"):
            original = row.get("duplicate_of")
            if not isinstance(original, str) or original not in keys:
                continue
            keys[original].add(f"dup:{original}")
            copy = row.get("article_id")
            if isinstance(copy, str) and copy in keys:
                keys[copy].add(f"dup:{original}")
            story = row.get("story_id")
            if isinstance(story, str) and story:
                keys[original].add(f"story:{story}")
    return keys


def independent_groups(article_ids: Iterable[str], keys: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Group articles that share any key (transitively); each group is one independent source.

    Grouping is done among ``article_ids`` only: two stories that an unrelated third article links
    elsewhere in the database stay apart here.

    Returns:
        article_id → the smallest article_id of its group (a deterministic group name).
    """
    ids = sorted(dict.fromkeys(article_ids))
    parent = {a: a for a in ids}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    owner: dict[str, str] = {}
    for article in ids:
        for key in sorted(keys.get(article, ())):
            if key in owner:
                first, second = find(owner[key]), find(article)
                if first != second:
                    parent[max(first, second)] = min(first, second)
            else:
                owner[key] = article
    return {a: find(a) for a in ids}


def _status_rank(status: str) -> int:
    return _STATUS_RANK.get(status, -1)


def _first_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _counterparty_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _flag(value: Any) -> bool:
    return bool(value) if value is not None and not (isinstance(value, float) and pd.isna(value)) else False


def build_clusters(
    options: pd.DataFrame, articles: pd.DataFrame, duplicates: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per (option, actor, counterparties) across all articles.

    Columns (see ``docs/REPORT.md`` for the stored types): ``cluster_id``, ``option``, ``actor``,
    ``actor_id``, ``counterparties`` (canonical names as first reported, sorted), ``n_mentions`` (option
    records), ``n_articles``, ``n_independent_sources`` (articles grouped by :func:`independent_groups`),
    ``languages`` (sorted), ``first_seen`` / ``last_seen`` (published dates), ``current_status``,
    ``n_status_changes``, ``novelty`` (the latest step's), ``background_only``, ``rumored_only``,
    ``article_ids`` and ``status_history``: a list of steps ordered by published date, each a dict with
    ``published``, ``date``, ``status``, ``article_id``, ``language``, ``source``, ``quote``, ``sentence``,
    ``background``, ``rumored`` and ``novelty``:

    - ``first_report``: the first step;
    - ``status_change``: the status differs from the previous step's;
    - ``new_source``: same status, from a source not seen in the cluster before (a confirmation);
    - ``repeat``: same status from a source already seen (a syndicated copy, or the same publisher).

    ``current_status`` is the latest step's status, background mentions (precedents an article cites)
    set aside unless the cluster has nothing else; steps on the same date are ordered by
    :data:`STATUS_ORDER`, so a denial outranks a same-day rumour.

    Args:
        options: Needs ``article_id``, ``option``, ``actor``, ``counterparty`` (list of names) and
            ``status``; uses ``actor_id``, ``quote``, ``sentence``, ``background`` and ``rumored``.
        articles: Needs ``article_id``, ``published`` and ``language``; uses ``host``, ``content_hash``
            and ``story_id`` (see :func:`source_keys`).
        duplicates: The duplicates table, if any (see :func:`source_keys`).

    Returns:
        The clusters, sorted by actor, option and first_seen.
    """
    if options.empty:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in CLUSTER_COLUMNS})
    keys = source_keys(articles, duplicates)
    info = {str(row["article_id"]): row for row in articles.to_dict("records")}
    mentions: dict[str, list[dict[str, Any]]] = {}
    for row in options.to_dict("records"):
        parties = _counterparty_list(row.get("counterparty"))
        cid = cluster_id(row["option"], row["actor"], parties)
        article = info.get(str(row["article_id"]), {})
        published = _first_text(article.get("published"))
        stamp = parse_published(published)
        mentions.setdefault(cid, []).append({
            "row": row,
            "parties": parties,
            "stamp": stamp,
            "step": {
                "published": published,
                "date": None if stamp is None else stamp.date(),
                "status": row["status"],
                "article_id": str(row["article_id"]),
                "language": _first_text(article.get("language")),
                "source": _first_text(article.get("host")),
                "quote": _first_text(row.get("quote")),
                "sentence": _first_text(row.get("sentence")),
                "background": _flag(row.get("background")),
                "rumored": _flag(row.get("rumored")),
            },
        })
    rows = [_cluster_row(cid, items, keys) for cid, items in mentions.items()]
    rows.sort(key=lambda r: (_norm(r["actor"]), r["option"], r["first_seen"] is None,
                             r["first_seen"] or date.min, r["cluster_id"]))
    return pd.DataFrame(rows, columns=list(CLUSTER_COLUMNS))


def _cluster_row(cid: str, items: list[dict[str, Any]], keys: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    # Undated steps go last. Within a day, by status stage so that the later stage wins "current":
    # many sources give a date only, so their time of day is unknown and cannot order them.
    items = sorted(items, key=lambda m: (
        m["stamp"] is None, m["step"]["date"] or date.min, _status_rank(m["step"]["status"]),
        m["stamp"] or pd.Timestamp.min, m["step"]["article_id"],
    ))
    article_ids = [m["step"]["article_id"] for m in items]
    groups = independent_groups(article_ids, keys)
    history: list[dict[str, Any]] = []
    seen_groups: set[str] = set()
    previous_status: str | None = None
    for item in items:
        step = dict(item["step"])
        group = groups[step["article_id"]]
        if not history:
            step["novelty"] = "first_report"
        elif step["status"] != previous_status:
            step["novelty"] = "status_change"
        elif group not in seen_groups:
            step["novelty"] = "new_source"
        else:
            step["novelty"] = "repeat"
        seen_groups.add(group)
        previous_status = step["status"]
        history.append(step)
    current = [s for s in history if not s["background"]] or history
    dates = [s["date"] for s in history if s["date"] is not None]
    first = items[0]["row"]
    actor_ids = [m["row"].get("actor_id") for m in items if _first_text(m["row"].get("actor_id"))]
    return {
        "cluster_id": cid,
        "option": first["option"],
        "actor": first["actor"],
        "actor_id": actor_ids[0] if actor_ids else None,
        "counterparties": sorted(dict.fromkeys(items[0]["parties"]), key=_norm),
        "n_mentions": len(items),
        "n_articles": len(set(article_ids)),
        "n_independent_sources": len(set(groups.values())),
        "languages": sorted({s["language"] for s in history if s["language"]}),
        "first_seen": min(dates) if dates else None,
        "last_seen": max(dates) if dates else None,
        "current_status": current[-1]["status"],
        "n_status_changes": sum(s["novelty"] == "status_change" for s in history),
        "novelty": history[-1]["novelty"],
        "background_only": all(s["background"] for s in history),
        "rumored_only": all(s["rumored"] for s in history),
        "article_ids": list(dict.fromkeys(article_ids)),
        "status_history": history,
    }
