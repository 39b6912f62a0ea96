"""``chipwire show ARTICLE_ID``: one article's record in the terminal, its evidence highlighted.

The record is looked up in the folder's ``records.jsonl`` (the latest run) and, failing that, in its
``chipwire.duckdb`` (every run so far), by full id or by a unique prefix. The text is printed with
option evidence in reverse yellow, money figures in bold green and entity mentions underlined, so a
reader checks each extraction against its words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from chipwire.store import database_path

EVIDENCE_STYLE = "bold black on yellow"
MONEY_STYLE = "bold green"
ENTITY_STYLE = "underline cyan"


class ArticleNotFound(LookupError):
    """No article, or more than one, matches the id given."""


def _from_records(out_dir: Path, wanted: str) -> list[dict[str, Any]]:
    path = out_dir / "records.jsonl"
    if not path.exists():
        return []
    found = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            # Cheap pre-filter: parse only the lines that can hold the id.
            if wanted in line:
                record = json.loads(line)
                if str(record.get("article_id", "")).startswith(wanted):
                    found.append(record)
    return found


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _from_database(out_dir: Path, wanted: str) -> list[dict[str, Any]]:
    """Rebuild record-like dicts from the database tables (same keys as ``records.jsonl``)."""
    path = database_path(out_dir)
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        articles = _rows(con, "SELECT * FROM articles WHERE starts_with(article_id, ?)", [wanted])
        records = []
        for a in articles:
            aid = [a["article_id"]]
            entities = _rows(con, "SELECT * FROM entities WHERE article_id = ? ORDER BY idx", aid)
            money = _rows(con, "SELECT * FROM money WHERE article_id = ? ORDER BY idx", aid)
            options = _rows(con, "SELECT * FROM options WHERE article_id = ? ORDER BY idx", aid)
            records.append({
                "article_id": a["article_id"], "title": a["title"], "published": a["published"],
                "language": a["language"], "language_probability": a["language_probability"], "text": a["text"],
                "source": {"id": a["source_id"], "path": a["path"], "url": a["url"], "feed": a["feed"]},
                "entities": [{"text": e["text"], "label": e["label"], "canonical": e["canonical"],
                              "id": e["entity_id"], "start": e["start_char"], "end": e["end_char"]}
                             for e in entities],
                "money": [{**m, "start": m["start_char"], "end": m["end_char"]} for m in money],
                "options": [{
                    **json.loads(o["details"] or "{}"), "option": o["option"], "subtype": o["subtype"],
                    "actor": {"name": o["actor_name"], "canonical": o["actor"], "id": o["actor_id"]},
                    "counterparty": list(o["counterparty"] or []), "status": o["status"],
                    "confidence": o["confidence"], "rumored": o["rumored"], "background": o["background"],
                    "attribution": {"type": o["attribution_type"], "text": o["attribution_text"]},
                    "evidence": json.loads(o["evidence"] or "[]"),
                } for o in options],
                "provenance": {"pipeline_version": a["pipeline_version"]},
            })
        return records
    finally:
        con.close()


def find_record(out_dir: Path | str, article_id: str) -> dict[str, Any]:
    """The record of ``article_id`` (or of the one article whose id starts with it).

    Raises:
        ArticleNotFound: No article matches, or the prefix is ambiguous.
    """
    out_dir = Path(out_dir)
    wanted = article_id.strip()
    matches = _from_records(out_dir, wanted) or _from_database(out_dir, wanted)
    exact = [r for r in matches if r["article_id"] == wanted]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ArticleNotFound(f"no article {wanted!r} in {out_dir} (records.jsonl or {database_path(out_dir).name})")
    ids = ", ".join(sorted(r["article_id"] for r in matches)[:10])
    raise ArticleNotFound(f"{wanted!r} matches several articles: {ids}")


def _amount(m: dict[str, Any]) -> str:
    if m.get("value") is not None:
        return f"{m['value']:,}" if isinstance(m["value"], int) else str(m["value"])
    return f"{m.get('lower')}–{m.get('upper')}"


def highlighted_text(record: dict[str, Any]) -> Text:
    """The record's text with entities, money and option evidence styled (evidence drawn last, on top)."""
    text = Text(record.get("text") or "")
    size = len(text.plain)

    def mark(start: Any, end: Any, style: str) -> None:
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= size:
            text.stylize(style, start, end)

    for entity in record.get("entities") or []:
        mark(entity.get("start"), entity.get("end"), ENTITY_STYLE)
    for money in record.get("money") or []:
        mark(money.get("start"), money.get("end"), MONEY_STYLE)
    for option in record.get("options") or []:
        for evidence in option.get("evidence") or []:
            mark(evidence.get("start"), evidence.get("end"), EVIDENCE_STYLE)
    return text


def render(record: dict[str, Any], *, max_entities: int = 15) -> Group:
    """The record as rich renderables: header, entities, money, options, then the highlighted text."""
    source = record.get("source") or {}
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("article", record["article_id"])
    prob = record.get("language_probability")
    head.add_row("language", f"{record.get('language')}" + (f" ({prob:.2f})" if isinstance(prob, float) else ""))
    head.add_row("published", str(record.get("published") or "—"))
    head.add_row("source", str(source.get("url") or source.get("path") or source.get("id") or "—"))
    parts: list[Any] = [Panel(head, title=Text(record.get("title") or "(untitled)", style="bold"), expand=False)]

    counts: dict[tuple[str, str, str], int] = {}
    for entity in record.get("entities") or []:
        key = (entity.get("canonical") or entity.get("text") or "", entity.get("label") or "", entity.get("id") or "")
        counts[key] = counts.get(key, 0) + 1
    if counts:
        table = Table(title=f"Entities ({len(counts)} distinct, top {min(max_entities, len(counts))})",
                      title_justify="left")
        for column in ("entity", "label", "mentions", "id"):
            table.add_column(column, justify="right" if column == "mentions" else "left")
        for (name, label, ident), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))[:max_entities]:
            table.add_row(name, label, str(n), ident or "—")
        parts.append(table)

    money = record.get("money") or []
    if money:
        table = Table(title=f"Money ({len(money)})", title_justify="left")
        for column in ("as written", "amount", "currency", "notes"):
            table.add_column(column, style=MONEY_STYLE if column == "as written" else None)
        for m in money:
            notes = ", ".join(str(x) for x in (m.get("qualifier"), m.get("period"), m.get("per")) if x)
            table.add_row(m.get("text") or "", _amount(m), m.get("currency") or "", notes)
        parts.append(table)

    options = record.get("options") or []
    table = Table(title=f"Options ({len(options)})", title_justify="left")
    for column in ("option", "actor", "counterparties", "status", "conf.", "evidence"):
        table.add_column(column)
    for option in options:
        actor = option.get("actor")
        actor_name = actor.get("canonical") or actor.get("name") if isinstance(actor, dict) else str(actor)
        flags = [f for f, on in (("background", option.get("background")), ("rumoured", option.get("rumored"))) if on]
        status = option.get("status") or ""
        quotes = Text(" | ").join(Text(e.get("quote") or "", style=EVIDENCE_STYLE) for e in option.get("evidence") or [])
        conf = option.get("confidence")
        table.add_row(
            f"{option.get('option')}" + (f"\n{option['subtype']}" if option.get("subtype") else ""),
            actor_name or "", ", ".join(option.get("counterparty") or []) or "—",
            status + (f"\n({', '.join(flags)})" if flags else ""),
            f"{conf:.2f}" if isinstance(conf, float) else "", quotes,
        )
    parts.append(table if options else Text("No strategic option in this article.", style="dim"))
    legend = Text.assemble("Text  ", ("option evidence", EVIDENCE_STYLE), "  ", ("money", MONEY_STYLE), "  ",
                           ("entity", ENTITY_STYLE))
    parts.append(Panel(highlighted_text(record), title=legend, title_align="left"))
    return Group(*parts)


def show(out_dir: Path | str, article_id: str, console: Console | None = None) -> None:
    """Print one article's record with its evidence highlighted.

    Raises:
        ArticleNotFound: See :func:`find_record`.
    """
    (console or Console()).print(render(find_record(out_dir, article_id)))
