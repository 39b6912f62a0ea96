"""``chipwire report DIR``: one self-contained HTML page over the database of a run folder.

The page must open anywhere, offline, and be safe to forward: plots are PNGs embedded as base64
``data:`` URIs, the table sorting is a few lines of inline JavaScript, the styles are inline, and the
page holds no URL at all (no CDN, no fonts, no links out; article sources are named by host, and
``chipwire show ARTICLE_ID`` prints the rest). Sections: the option timeline by company with the
option clusters, the money figures (sortable, each with its sentence), the most mentioned entities
and which companies appear together, the language mix, the errors and the runs loaded.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the report is written by a command line tool, often on a server

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from chipwire.clusters import STATUS_ORDER
from chipwire.store import Tables, load
from pipeline.write import atomic_file

#: One colour per status, early stages cool, end states warm; also used in the HTML badges.
STATUS_COLORS: dict[str, str] = {
    "considered": "#8da0cb", "planned": "#377eb8", "announced": "#ff7f00", "in_progress": "#984ea3",
    "completed": "#2ca02c", "abandoned": "#d62728", "denied": "#222222",
}
OPTION_MARKERS = {"build": "o", "partner": "s", "diversify": "D", "acquire": "^"}
TOP_ENTITIES = 25
TOP_COMPANIES = 12

# Names in plots can be Chinese or Japanese (unlinked entities keep their surface form); DejaVu has no
# CJK glyphs, so fall back to a CJK font when the machine has one instead of drawing empty boxes.
_CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Droid Sans Fallback")


def _font_family() -> list[str]:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in _CJK_FONTS if name in available]]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _e(value: Any) -> str:
    return html.escape(_text(value), quote=True)


def _day(value: Any) -> str:
    """A date (DuckDB DATE arrives as a pandas Timestamp) as ``YYYY-MM-DD``."""
    return "" if _is_missing(value) else str(value)[:10]


def _list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return list(value)


# --- figures -------------------------------------------------------------------------------------


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    # No metadata: the PNG would otherwise carry the matplotlib version and its homepage URL.
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def timeline_png(clusters: pd.DataFrame) -> str | None:
    """The option timeline: one row per cluster grouped by company, one marker per report.

    Markers are coloured by status and shaped by option; background mentions (precedents an article
    cites) are hollow. Returns the PNG as base64, or None when there is no option.
    """
    if clusters.empty:
        return None
    frame = _ordered(clusters)
    labels = [f"{row.actor} · {row.option}" + (f" → {', '.join(_list(row.counterparties))}"
                                                if len(_list(row.counterparties)) else "")
              for row in frame.itertuples()]
    labels = [label if len(label) <= 48 else label[:47] + "…" for label in labels]
    with plt.rc_context({"font.family": _font_family(), "font.size": 9}):
        fig, ax = plt.subplots(figsize=(11, 1.2 + 0.38 * len(frame)))
        previous_actor = None
        band = False
        for y, row in enumerate(frame.itertuples()):
            if row.actor != previous_actor:
                band = not band
                previous_actor = row.actor
            if band:
                ax.axhspan(y - 0.5, y + 0.5, color="#f2f4f8", zorder=0)
            steps = [s for s in _list(row.status_history) if not _is_missing(s.get("date"))]
            dates = [pd.Timestamp(s["date"]) for s in steps]
            if len(dates) > 1:
                ax.plot([min(dates), max(dates)], [y, y], color="#b0b7c3", lw=1.5, zorder=1)
            for step, when in zip(steps, dates, strict=True):
                color = STATUS_COLORS.get(step["status"], "#999999")
                ax.scatter([when], [y], s=70, marker=OPTION_MARKERS.get(row.option, "o"), zorder=3,
                           facecolors="white" if step.get("background") else color, edgecolors=color,
                           linewidths=1.8)
            if dates:
                ax.annotate(f" {_text(row.current_status).replace('_', ' ')} · {row.n_independent_sources} src",
                            (max(dates), y), xytext=(8, 0), textcoords="offset points", va="center",
                            fontsize=8, color="#333333")
        ax.set_yticks(range(len(frame)), labels)
        ax.set_ylim(len(frame) - 0.5, -0.5)
        ax.grid(axis="x", color="#e3e6eb")
        ax.set_axisbelow(True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("published")
        left, right = ax.get_xlim()
        ax.set_xlim(left, right + (right - left) * 0.12)  # room for the status notes
        handles = [Line2D([], [], ls="", marker="o", color=STATUS_COLORS[s], label=s.replace("_", " "))
                   for s in STATUS_ORDER]
        handles += [Line2D([], [], ls="", marker=m, color="#9aa3ad", label=o) for o, m in OPTION_MARKERS.items()]
        handles.append(Line2D([], [], ls="", marker="o", mfc="white", color="#555555", label="background"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.9 / (1.2 + 0.38 * len(frame))),
                  ncol=6, frameon=False, fontsize=8)
        return _png(fig)


def _ordered(clusters: pd.DataFrame) -> pd.DataFrame:
    """Clusters by company (case-insensitive), then option, then first report."""
    order = sorted(range(len(clusters)), key=lambda i: (
        _text(clusters["actor"].iloc[i]).casefold(), _text(clusters["option"].iloc[i]),
        _day(clusters["first_seen"].iloc[i]), _text(clusters["cluster_id"].iloc[i]),
    ))
    return clusters.iloc[order]


def cooccurrence(entities: pd.DataFrame, *, label: str = "ORG", top: int = TOP_COMPANIES) -> pd.DataFrame:
    """Articles in which two companies both appear, for the ``top`` companies by article count.

    Returns:
        A square DataFrame indexed and columned by canonical name; the diagonal is each company's own
        article count.
    """
    orgs = entities[entities["label"] == label][["article_id", "canonical"]].drop_duplicates()
    names = orgs.groupby("canonical")["article_id"].nunique().sort_values(ascending=False, kind="stable")
    names = names[names > 0].head(top)
    chosen = list(names.index)
    matrix = pd.DataFrame(0, index=chosen, columns=chosen, dtype=int)
    for _, group in orgs[orgs["canonical"].isin(chosen)].groupby("article_id"):
        present = sorted(set(group["canonical"]))
        for name in present:
            matrix.loc[name, name] += 1
        for first, second in itertools.combinations(present, 2):
            matrix.loc[first, second] += 1
            matrix.loc[second, first] += 1
    return matrix


def heatmap_png(matrix: pd.DataFrame) -> str | None:
    """The co-occurrence heat map (diagonal left blank: it would dwarf the pairs)."""
    if len(matrix) < 2:
        return None
    values = matrix.to_numpy(dtype=float, copy=True)
    counts = np.diag(values).astype(int)
    np.fill_diagonal(values, np.nan)
    labels = [f"{name} ({count})" for name, count in zip(matrix.index, counts, strict=True)]
    with plt.rc_context({"font.family": _font_family(), "font.size": 9}):
        size = 2.5 + 0.42 * len(matrix)
        fig, ax = plt.subplots(figsize=(size + 1.5, size))
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(1.0, float(np.nanmax(values))))
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for i, j in itertools.product(range(len(labels)), repeat=2):
            if i != j and values[i, j] > 0:
                ax.text(j, i, str(int(values[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if values[i, j] > np.nanmax(values) / 2 else "#222222")
        bar = fig.colorbar(image, ax=ax, shrink=0.7, label="articles naming both")
        bar.locator = MaxNLocator(integer=True)  # counts of articles: no 0.25 ticks
        bar.update_ticks()
        ax.set_title("Companies named in the same article (their own article count in brackets)", fontsize=9)
        return _png(fig)


# --- HTML pieces ---------------------------------------------------------------------------------


def _badge(status: Any) -> str:
    status = _text(status)
    color = STATUS_COLORS.get(status, "#999999")
    return f'<span class="badge" style="background:{color}">{_e(status.replace("_", " "))}</span>'


def _table(headers: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]], *, sortable: bool = False,
           table_id: str = "") -> str:
    """An HTML table; ``headers`` are (label, kind) with kind ``num`` or ``text`` for sorting."""
    cls = ' class="sortable"' if sortable else ""
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f'<th data-type="{kind}">{_e(label)}</th>' for label, kind in headers)
    body = "\n".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    return f"<table{ident}{cls}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _td(value: Any, *, sort: Any = None, cls: str = "", raw: bool = False) -> str:
    attrs = ""
    if sort is not None and not _is_missing(sort):
        attrs += f' data-sort="{_e(sort)}"'
    if cls:
        attrs += f' class="{cls}"'
    return f"<td{attrs}>{value if raw else _e(value)}</td>"


def format_amount(value: Any) -> str:
    """A money amount for reading: ``48.1 bn``, ``700``, ``0.04``."""
    if _is_missing(value):
        return ""
    number = float(value)
    for size, suffix in ((1e12, " tn"), (1e9, " bn"), (1e6, " m")):
        if abs(number) >= size:
            return f"{number / size:,.3g}{suffix}"
    return f"{number:,.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:,.0f}"


def highlight(sentence: str, needle: str) -> str:
    """``sentence`` escaped, with the first occurrence of ``needle`` wrapped in ``<mark>``."""
    at = sentence.find(needle) if needle else -1
    if at < 0:
        return _e(sentence)
    end = at + len(needle)
    return f"{_e(sentence[:at])}<mark>{_e(sentence[at:end])}</mark>{_e(sentence[end:])}"


def _article_label(article: dict[str, Any] | None, article_id: str) -> str:
    if not article:
        return f'<span class="mono">{_e(article_id)}</span>'
    title = _text(article.get("title")) or "(untitled)"
    source = _text(article.get("host"))
    meta = " · ".join(x for x in (_text(article.get("language")), source, _text(article.get("published"))[:10]) if x)
    return (f'<span class="title">{_e(title)}</span><br><span class="meta">{_e(meta)} · '
            f'<span class="mono">{_e(article_id)}</span></span>')


def clusters_section(tables: Tables) -> str:
    """The timeline figure and the cluster table with each cluster's status history."""
    clusters = tables.option_clusters
    png = timeline_png(clusters)
    if png is None:
        return "<p class='empty'>No strategic option found yet.</p>"
    rows = []
    frame = _ordered(clusters)
    for row in frame.to_dict("records"):
        steps = []
        for step in _list(row["status_history"]):
            when = _text(step.get("published"))[:10] or "undated"
            flags = " ".join(f for f in ("background" if step.get("background") else "",
                                         "rumoured" if step.get("rumored") else "") if f)
            steps.append(
                f"<li>{_e(when)} {_badge(step.get('status'))} <span class='meta'>{_e(step.get('language'))}"
                f" · {_e(step.get('source') or 'unknown source')} · {_e(step.get('novelty', '').replace('_', ' '))}"
                f"{' · ' + _e(flags) if flags else ''} · <span class='mono'>{_e(step.get('article_id'))}</span>"
                f"</span><br><q>{_e(step.get('quote'))}</q> <span class='sentence'>{_e(step.get('sentence'))}</span>"
                "</li>"
            )
        history = f"<details><summary>{len(steps)} report(s)</summary><ol>{''.join(steps)}</ol></details>"
        rows.append([
            _td(row["actor"]), _td(row["option"]), _td(", ".join(_list(row["counterparties"])) or "—"),
            _td(_badge(row["current_status"]), sort=row["current_status"], raw=True),
            _td(row["n_independent_sources"], cls="num"), _td(row["n_articles"], cls="num"),
            _td(", ".join(_list(row["languages"]))), _td(_day(row["first_seen"]), cls="date"), _td(_day(row["last_seen"]), cls="date"),
            _td(_text(row["novelty"]).replace("_", " ")), _td(history, raw=True),
        ])
    table = _table(
        [("company", "text"), ("option", "text"), ("counterparties", "text"), ("status", "text"),
         ("independent sources", "num"), ("articles", "num"), ("languages", "text"), ("first seen", "text"),
         ("last seen", "text"), ("latest report", "text"), ("history", "text")],
        rows, sortable=True, table_id="clusters",
    )
    return (
        f'<figure><img id="timeline" alt="Timeline of strategic options by company" '
        f'src="data:image/png;base64,{png}"><figcaption>Each row is one option cluster (same company, option '
        "and counterparties across articles and languages); each marker one report, coloured by the status it "
        "gave, hollow when the article cited it as background. The note gives the current status and the "
        "number of independent sources.</figcaption></figure>\n" + table
    )


def money_section(tables: Tables, articles: dict[str, dict[str, Any]]) -> str:
    """Every monetary figure, sortable, with the sentence it occurs in."""
    money = tables.money
    if money.empty:
        return "<p class='empty'>No monetary figure found.</p>"
    rows = []
    records = money.to_dict("records")
    # Largest first: the amount to sort by is the value, else the range's upper bound.
    records.sort(key=lambda m: -float(next((m[k] for k in ("value", "upper", "lower") if not _is_missing(m[k])), 0)))
    for m in records:
        sort_value = next((m[k] for k in ("value", "upper", "lower") if not _is_missing(m[k])), None)
        if _is_missing(m["value"]):
            amount = f"{format_amount(m['lower'])}–{format_amount(m['upper'])}"
        else:
            amount = format_amount(m["value"])
        notes = ", ".join(x for x in (
            _text(m["qualifier"]).replace("_", " "), "vague" if m["vague"] is True else "",
            f"per {_text(m['period'])}" if _text(m["period"]) else "", f"per {_text(m['per'])}" if _text(m["per"]) else "",
        ) if x)
        article = articles.get(m["article_id"])
        rows.append([
            _td(amount, sort=sort_value, cls="num"), _td(m["currency"]), _td(m["text"]), _td(notes),
            _td(highlight(_text(m["sentence"]), _text(m["text"])), raw=True, cls="sentence"),
            _td(_article_label(article, m["article_id"]), raw=True, sort=(article or {}).get("title")),
            _td((article or {}).get("language")),
        ])
    return _table(
        [("amount", "num"), ("currency", "text"), ("as written", "text"), ("notes", "text"),
         ("sentence", "text"), ("article", "text"), ("lang", "text")],
        rows, sortable=True, table_id="money",
    )


def entities_section(tables: Tables) -> str:
    """The most mentioned entities and the company co-occurrence heat map with its top pairs."""
    entities = tables.entities
    if entities.empty:
        return "<p class='empty'>No entity found.</p>"
    grouped = (
        entities.assign(entity_id=entities["entity_id"].fillna(""))
        .groupby(["canonical", "label"], dropna=False)
        .agg(mentions=("idx", "size"), articles=("article_id", "nunique"), entity_id=("entity_id", "max"))
        .reset_index()
        .sort_values(["mentions", "articles", "canonical"], ascending=[False, False, True], kind="stable")
        .head(TOP_ENTITIES)
    )
    top = _table(
        [("entity", "text"), ("label", "text"), ("mentions", "num"), ("articles", "num"), ("knowledge-base id", "text")],
        ([_td(r.canonical), _td(r.label), _td(r.mentions, cls="num"), _td(r.articles, cls="num"),
          _td(r.entity_id or "—", cls="mono")] for r in grouped.itertuples()),
        sortable=True, table_id="entities",
    )
    matrix = cooccurrence(entities)
    png = heatmap_png(matrix)
    pairs = Counter({
        (a, b): int(matrix.loc[a, b]) for a, b in itertools.combinations(matrix.index, 2) if matrix.loc[a, b] > 0
    })
    pair_table = _table(
        [("company", "text"), ("company", "text"), ("articles naming both", "num")],
        ([_td(a), _td(b), _td(n, cls="num")] for (a, b), n in pairs.most_common(15)),
        sortable=True, table_id="pairs",
    ) if pairs else "<p class='empty'>No two companies appear in the same article.</p>"
    figure = (f'<figure><img id="cooccurrence" alt="Companies named in the same article" '
              f'src="data:image/png;base64,{png}"></figure>') if png else ""
    return (f"<h3>Most mentioned (top {TOP_ENTITIES})</h3>{top}<h3>Which companies appear together</h3>"
            f"<div class='split'>{figure}<div>{pair_table}</div></div>")


def languages_section(tables: Tables) -> str:
    """Articles per language with their share, options and money figures."""
    articles = tables.articles
    if articles.empty:
        return "<p class='empty'>No article.</p>"
    counts = articles["language"].fillna("und").value_counts()
    options = tables.options.merge(articles[["article_id", "language"]], on="article_id")["language"].value_counts()
    money = tables.money.merge(articles[["article_id", "language"]], on="article_id")["language"].value_counts()
    total = int(counts.sum())
    rows = []
    for lang, n in counts.items():
        share = 100 * int(n) / total
        bar = f'<div class="bar"><span style="width:{share:.1f}%"></span></div>'
        rows.append([_td(lang), _td(int(n), cls="num"), _td(f"{share:.0f} %", sort=share, cls="num"),
                     _td(bar, raw=True), _td(int(options.get(lang, 0)), cls="num"),
                     _td(int(money.get(lang, 0)), cls="num")])
    return _table([("language", "text"), ("articles", "num"), ("share", "num"), ("", "text"),
                   ("options", "num"), ("money figures", "num")], rows, sortable=True, table_id="languages")


def errors_section(tables: Tables) -> str:
    """Error counts by code, then every error entry."""
    errors = tables.errors
    if errors.empty:
        return "<p class='empty'>No errors: every input item became a record or a duplicate.</p>"
    by_code = errors.groupby(["code", "stage"]).size().reset_index(name="n").sort_values("n", ascending=False)
    summary = _table([("code", "text"), ("stage", "text"), ("items", "num")],
                     ([_td(r.code, cls="mono"), _td(r.stage), _td(r.n, cls="num")] for r in by_code.itertuples()))
    detail = _table(
        [("code", "text"), ("stage", "text"), ("source", "text"), ("reason", "text"), ("last run", "num")],
        ([_td(r.code, cls="mono"), _td(r.stage), _td(r.source_id or r.path, cls="mono"), _td(r.reason),
          _td(r.last_run_id, cls="num")] for r in errors.itertuples()),
        sortable=True, table_id="errors",
    )
    return summary + detail


def runs_section(tables: Tables) -> str:
    """The runs loaded into the database."""
    runs = tables.runs.sort_values("run_id")
    return _table(
        [("run", "num"), ("first loaded (UTC)", "text"), ("loads", "num"), ("inputs", "num"), ("records", "num"),
         ("new", "num"), ("changed", "num"), ("unchanged", "num"), ("errors", "num"), ("duplicates", "num")],
        ([_td(r.run_id, cls="num"), _td(str(r.first_loaded_at)[:19]), _td(r.n_loads, cls="num"),
          _td(r.inputs, cls="num"), _td(r.records, cls="num"), _td(r.articles_new, cls="num"),
          _td(r.articles_changed, cls="num"), _td(r.articles_unchanged, cls="num"), _td(r.errors, cls="num"),
          _td(r.duplicates, cls="num")] for r in runs.itertuples()),
    )


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK JP",sans-serif;
 color:#1f2328;margin:0;background:#fafbfc}
header{background:#1d2b3a;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0;color:#c9d3de}
nav{padding:8px 32px;background:#eef1f5;border-bottom:1px solid #dde2e8;position:sticky;top:0;z-index:2}
nav a{margin-right:18px;color:#1d4e89;text-decoration:none;font-weight:600}
main{padding:8px 32px 40px;max-width:1500px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:12px 20px;margin:18px 0;overflow-x:auto}
h2{font-size:18px;margin:6px 0 10px} h3{font-size:15px;margin:16px 0 8px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:14px 0 0}
.card{background:#fff;color:#1f2328;border:1px solid #e1e4e8;border-radius:6px;padding:8px 14px;min-width:92px}
.card b{display:block;font-size:22px} .card span{color:#57606a;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 12px}
th,td{border-bottom:1px solid #eaecef;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
table.sortable th{cursor:pointer} table.sortable th:hover{background:#e8edf3}
th[aria-sort=ascending]::after{content:" ▲"} th[aria-sort=descending]::after{content:" ▼"}
tbody tr:nth-child(even){background:#fbfcfd}
td.date{white-space:nowrap} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.meta{color:#57606a;font-size:12px} .title{font-weight:600}
.sentence{color:#3a3f45;max-width:560px} mark{background:#ffe08a;padding:0 1px;border-radius:2px}
.badge{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}
q{font-style:italic;background:#fff4cc}
details summary{cursor:pointer;color:#1d4e89} details ol{margin:4px 0;padding-left:20px;max-width:640px}
details li{margin-bottom:6px}
figure{margin:6px 0 14px} figure img{max-width:100%;height:auto;border:1px solid #eaecef}
figcaption{color:#57606a;font-size:12px;max-width:900px}
.bar{background:#eef1f5;width:220px;height:12px;border-radius:3px}
.bar span{display:block;height:12px;background:#4c78a8;border-radius:3px}
.split{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap} .split figure{flex:0 1 640px}
.split>div{flex:1 1 300px} .empty{color:#57606a;font-style:italic}
"""

# Sorting: click a header of a .sortable table; numbers sort by data-sort, text case-insensitively.
# Also checks that the embedded images decoded (data-images-ok on <body>), which the browser test reads.
JS = """
(function(){
  document.querySelectorAll('table.sortable').forEach(function(table){
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function(th, col){
      th.setAttribute('aria-sort','none'); th.title = 'click to sort';
      th.addEventListener('click', function(){
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function(h){ h.setAttribute('aria-sort','none'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var num = th.dataset.type === 'num', body = table.tBodies[0];
        var key = function(row){ var c = row.cells[col]; if (!c) return num ? NaN : '';
          var v = c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim();
          return num ? parseFloat(v) : v.toLowerCase(); };
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(a, b){ var x = key(a), y = key(b);
          if (num) { if (isNaN(x)) return isNaN(y) ? 0 : 1; if (isNaN(y)) return -1; return asc ? x - y : y - x; }
          return asc ? x.localeCompare(y) : y.localeCompare(x); });
        rows.forEach(function(r){ body.appendChild(r); });
      });
    });
  });
  window.addEventListener('load', function(){
    var imgs = document.images, ok = 0;
    for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
    document.body.dataset.imagesOk = ok + '/' + imgs.length;
  });
})();
"""


def render_report(tables: Tables, *, title: str, generated: datetime | None = None) -> str:
    """The whole report as one HTML string."""
    generated = generated or datetime.now(UTC)
    articles = {r["article_id"]: r for r in tables.articles.to_dict("records")}
    languages = tables.articles["language"].nunique() if not tables.articles.empty else 0
    cards = [
        ("articles", len(tables.articles)), ("languages", languages), ("option reports", len(tables.options)),
        ("option clusters", len(tables.option_clusters)), ("money figures", len(tables.money)),
        ("entity mentions", len(tables.entities)), ("errors", len(tables.errors)), ("runs", len(tables.runs)),
    ]
    sections = [
        ("timeline", "Strategic options by company", clusters_section(tables)),
        ("money", "Money figures", money_section(tables, articles)),
        ("entities", "Entities", entities_section(tables)),
        ("languages", "Language mix", languages_section(tables)),
        ("errors", "Errors", errors_section(tables)),
        ("runs", "Runs in this database", runs_section(tables)),
    ]
    nav = "".join(f'<a href="#{ident}">{_e(heading)}</a>' for ident, heading, _ in sections)
    body = "\n".join(f'<section id="{ident}"><h2>{_e(heading)}</h2>\n{content}\n</section>'
                     for ident, heading, content in sections)
    card_html = "".join(f"<div class='card'><b>{n}</b><span>{_e(label)}</span></div>" for label, n in cards)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title><style>{CSS}</style></head>
<body>
<header><h1>{_e(title)}</h1><p>Generated {_e(generated.strftime('%Y-%m-%d %H:%M UTC'))} from
chipwire.duckdb · offline page, no external resources</p>
<div class="cards">{card_html}</div></header>
<nav>{nav}</nav>
<main>
{body}
</main>
<script>{JS}</script>
</body></html>
"""


def write_report(out_dir: Path | str, out_file: Path | str | None = None) -> Path:
    """Write the HTML report of a run folder's database (default ``DIR/report.html``).

    The folder's latest run is loaded into the database first if it is not there yet.

    Returns:
        The path written.
    """
    out_dir = Path(out_dir)
    target = Path(out_file) if out_file else out_dir / "report.html"
    tables = load(out_dir)
    page = render_report(tables, title=f"chipwire report — {out_dir.resolve().name}")
    with atomic_file(target) as handle:
        handle.write(page)
    return target
