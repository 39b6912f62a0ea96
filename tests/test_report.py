"""The HTML report (parsed, then as a person sees it in headless Chromium) and ``chipwire show``."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from chipwire.report import format_amount, highlight, write_report
from chipwire.show import ArticleNotFound, find_record, highlighted_text, show
from chipwire.store import update_database
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.run import RunSummary, Tools, run_batch
from tests.conftest import REPO

SAMPLE = REPO / "corpus" / "sample"
SECTIONS = ("timeline", "money", "entities", "languages", "errors", "runs")
SEED_FILE = "openai-custom-chips-2023-10.fr.txt"  # the seed article: nine options, money figures


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, settings: Settings, tools: Tools) -> Path:
    """The sample corpus run once for the module, with one error entry added, loaded into its database."""
    out = tmp_path_factory.mktemp("report-sample")
    summary: RunSummary = run_batch([SAMPLE], out, settings, tools=tools)
    with (out / "errors.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"source": {"id": "bad.json", "path": "in/bad.json", "url": None, "feed": None},
                                 "stage": "ingest", "code": "E005_malformed_json", "reason": "line 3: <oops>"}) + "\n")
    update_database(out, summary.to_dict())
    return out


@pytest.fixture(scope="module")
def seed_id(run_dir: Path) -> str:
    """The seed article's id (it depends on the path the corpus was read from)."""
    for line in (run_dir / "records.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["source"]["path"].endswith(SEED_FILE):
            return str(record["article_id"])
    raise AssertionError("seed article missing")


@pytest.fixture(scope="module")
def report(run_dir: Path) -> Path:
    return write_report(run_dir)


class _Page(HTMLParser):
    """Collects what the checks below need: section ids, images, resource attributes, table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.resources: list[str] = []
        self.rows: dict[str, int] = {}
        self.marks = 0
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "section":
            self.sections.append(attr.get("id") or "")
        if tag == "img":
            self.images.append(attr.get("src") or "")
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if attr.get(name):
                self.resources.append(f"{tag}.{name}={attr[name]}")
        if tag == "table":
            self._table = attr.get("id") or ""
            self.rows[self._table] = 0
        if tag == "tr" and self._table is not None:
            self.rows[self._table] += 1
        if tag == "mark":
            self.marks += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def test_report_has_every_section_and_embedded_plots(report: Path, run_dir: Path) -> None:
    assert report == run_dir / "report.html"
    _, page = _parse(report)
    assert page.sections == list(SECTIONS)
    assert len(page.images) == 2  # option timeline, company co-occurrence
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


def test_report_needs_no_network(report: Path) -> None:
    text, page = _parse(report)
    assert not re.search(r"(?i)\b(?:https?|ftp):|//[a-z0-9-]+\.[a-z]", text.replace("data:image/png;base64,", ""))
    external = [r for r in page.resources if not re.match(r"^[a-z]+\.(?:src=data:|href=#)", r)]
    assert external == []
    assert "@import" not in text and "url(" not in text


def test_report_tables(report: Path, run_dir: Path) -> None:
    text, page = _parse(report)
    records = [json.loads(line) for line in (run_dir / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    n_money = sum(len(r["money"]) for r in records)
    assert page.rows["money"] == n_money + 1  # + header row
    assert page.marks >= n_money  # every figure highlighted in its sentence (where it is found)
    assert page.rows["clusters"] > 1 and page.rows["entities"] == 26
    assert "E005_malformed_json" in text and "line 3: &lt;oops&gt;" in text  # escaped, never raw HTML
    assert 'class="sortable"' in text and "addEventListener('click'" in text
    assert "OpenAI" in text and "sa propre puce" in text


def test_report_of_an_empty_database(tmp_path: Path) -> None:
    (tmp_path / "records.jsonl").write_text(json.dumps({
        "schema_version": "1", "article_id": "a1", "source": {"id": "a", "path": "a.txt", "url": None, "feed": None},
        "title": None, "published": None, "language": "und", "language_probability": 0.0, "text": "x",
        "entities": [], "money": [], "quantities": [], "options": [], "provenance": {}, "extra": {}}) + "\n")
    path = write_report(tmp_path, tmp_path / "r.html")
    text, page = _parse(path)
    assert page.sections == list(SECTIONS) and page.images == []
    assert "No strategic option found yet" in text and "No errors" in text


@pytest.mark.parametrize(("value", "expected"), [
    (48_100_000_000, "48.1 bn"), (16_600_000_000, "16.6 bn"), (700, "700"), (0.04, "0.04"), (1599.5, "1,599.5"),
    (2_500_000, "2.5 m"), (None, ""),
])
def test_format_amount(value: float | None, expected: str) -> None:
    assert format_amount(value) == expected


def test_highlight_escapes_and_marks() -> None:
    assert highlight("a <b> $5 c", "$5") == "a &lt;b&gt; <mark>$5</mark> c"
    assert highlight("no figure", "$5") == "no figure"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_report_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    """What a person sees: the images decode, the tables became sortable, the page is not blank."""
    from PIL import Image, ImageStat

    browser = _chromium()
    assert browser
    url = report.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout
    assert 'data-images-ok="2/2"' in dom, "an embedded image did not decode"
    assert 'aria-sort="none"' in dom, "the sorting script did not run"
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
             "--window-size=1280,2000", url],
            capture_output=True, timeout=120, check=True,
        )
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 2000)
    # Not blank: the dark header band, the white page and the plot all show up as distinct grey levels.
    histogram = image.histogram()
    assert sum(1 for n in histogram if n > 200) > 20
    header, body = image.crop((0, 0, 1280, 60)), image.crop((0, 400, 1280, 900))
    assert ImageStat.Stat(header).mean[0] < 100 < ImageStat.Stat(body).mean[0]


def test_show_highlights_evidence(run_dir: Path, seed_id: str) -> None:
    record = find_record(run_dir, seed_id[:8])
    assert record["article_id"] == seed_id
    text = highlighted_text(record)
    styled = {text.plain[span.start:span.end] for span in text.spans if "yellow" in str(span.style)}
    quotes = {e["quote"] for o in record["options"] for e in o["evidence"]}
    assert quotes and quotes <= styled
    console = Console(width=120, record=True, color_system=None)
    show(run_dir, seed_id, console)
    out = console.export_text()
    assert "L'ère des puces personnalisées" in out and "Options (9)" in out and "OpenAI" in out
    assert "environ 48,1 milliards de dollars" in out


def test_show_falls_back_to_the_database(run_dir: Path, seed_id: str, tmp_path: Path) -> None:
    shutil.copy(run_dir / "chipwire.duckdb", tmp_path / "chipwire.duckdb")
    record = find_record(tmp_path, seed_id)
    assert len(record["options"]) == 9 and record["options"][0]["evidence"][0]["quote"]
    text = highlighted_text(record)
    assert any("yellow" in str(span.style) for span in text.spans)


def test_show_unknown_or_ambiguous_id(run_dir: Path) -> None:
    with pytest.raises(ArticleNotFound, match="no article"):
        find_record(run_dir, "ffffffffffff")
    with pytest.raises(ArticleNotFound, match="several"):
        find_record(run_dir, "")


def test_cli_report_and_show(run_dir: Path, seed_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                             ) -> None:
    target = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(target)]) == 0
    assert target.exists() and "report written" in capsys.readouterr().out
    assert main(["show", seed_id, "--dir", str(run_dir)]) == 0
    assert "OpenAI" in capsys.readouterr().out
    assert main(["show", "nope", "--dir", str(run_dir)]) == 2
    assert main(["report", str(tmp_path / "missing")]) == 2
