"""Hostile input, generated on the fly: every case becomes a record or one clear error entry,
the run goes on, and memory stays bounded (nothing of these sizes is committed to the repo)."""

from __future__ import annotations

import json
import resource
from collections.abc import Callable
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.config import Settings
from pipeline.run import Tools, run_batch

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><title>&lol4;</title><item><title>&lol4;</title><description>x</description></item>
</channel></rss>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title><description>x</description></item>
</channel></rss>"""
SENTENCE = "Die Halbleiterfabrik in Dresden wächst weiter und stellt neue Mitarbeiter ein. "


def _jsonl(text: str, **extra: object) -> bytes:
    return (json.dumps({"id": "hostile", "title": "Test", "text": text, **extra}, ensure_ascii=False) + "\n").encode()


# (id, file name, bytes builder, expected outcome: "record" or an error code)
CASES: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("xml-bomb", "bomb.rss", lambda: BOMB, "E007_malformed_feed"),
    ("external-entity", "xxe.rss", lambda: EXTERNAL, "E007_malformed_feed"),
    ("50-mb-article", "huge.jsonl", lambda: _jsonl("Chip " * 10_000_000), "E011_too_large"),
    ("article-just-over-the-limit", "over.jsonl", lambda: _jsonl(SENTENCE * 13_000), "E011_too_large"),
    ("1-mb-line", "line.jsonl", lambda: _jsonl(SENTENCE * 12_500), "record"),
    ("1-mb-line-without-newline-or-json", "junk.jsonl", lambda: b"{" + b"a" * 1_000_000, "E005_malformed_json"),
    ("deeply-nested-html", "nested.html",
     lambda: b"<html><body>" + b"<div>" * 100_000 + SENTENCE.encode() * 3 + b"</div>" * 100_000 + b"</body></html>",
     "record|E008_no_main_text"),
    ("binary-data", "blob.jsonl", lambda: bytes(range(256)) * 64, "E003_binary_input"),
    ("latin-1-text-without-declaration", "latin.txt",
     lambda: ("Ação da Petrobras sobe após anúncio de investimento em semicondutores. " * 3).encode("latin-1"),
     "record"),
    ("utf-8-feed-declared-latin-1", "declared.rss",
     lambda: ('<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title>'
              "<item><title>Übernahme</title><description>Die Übernahme des Chipherstellers ist perfekt.</description>"
              "</item></channel></rss>").encode(), "record"),
    ("invalid-utf-8-jsonl", "bad.jsonl", lambda: b'{"id": "x", "text": "caf\xe9 \xff\xfe"}\n', "E004_undecodable"),
    ("utf-16-text", "utf16.txt", lambda: ("Nvidia meldet einen Rekordumsatz im Rechenzentrum. " * 3).encode("utf-16"),
     "record"),
    ("invalid-dates", "dates.jsonl", lambda: _jsonl(SENTENCE, published="2023-02-30"), "record"),
    ("control-characters", "ctrl.txt", lambda: ("Intel\x07 baut\x1b[31m eine Fabrik. " * 5).encode(), "record"),
    ("empty-json-object", "empty.jsonl", lambda: b"{}\n", "E006_missing_field"),
]


@pytest.mark.parametrize(("name", "make", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_becomes_a_record_or_one_error(name: str, make: Callable[[], bytes], expected: str,
                                                     tmp_path: Path, settings: Settings, tools: Tools) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / name).write_bytes(make())
    (inp / "ok.txt").write_text("Nvidia meldet einen Rekordumsatz mit Chips für Rechenzentren.", encoding="utf-8")
    out = tmp_path / "out"
    summary = run_batch([inp], out, settings, tools=tools)
    assert summary.inputs == summary.records + summary.duplicates + summary.errors == 2
    records = [json.loads(x) for x in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(r["source"]["path"].endswith("ok.txt") for r in records)  # the batch went on
    hostile = [e["code"] for e in errors] or ["record"]
    assert hostile[0] in expected.split("|"), errors
    for error in errors:
        assert error["reason"] and len(error["reason"]) < 500  # clear, and no 50 MB echo of the input
    if name == "dates.jsonl":
        assert records[0]["published"] is None and records[0]["extra"]["published_raw"] == "2023-02-30"
    # Bounded memory: the largest case (50 MB) costs a few copies of its bytes, not unbounded growth.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 1024 * 1024  # KiB: under 4 GiB


@Language.component("chipwire_test_fails_on_boom")
def _fails_on_boom(doc: Doc) -> Doc:
    if "BOOM" in doc.text:
        raise ValueError("component failed on this text")
    return doc


def test_a_text_spacy_fails_on_is_one_error_and_the_others_are_records(tmp_path: Path, settings: Settings) -> None:
    # nlp.pipe raises in the middle of a batch: the texts it had not yielded are parsed one by one,
    # so only the culprit becomes an error.
    tools = Tools.load(settings)
    nlp = tools.models.get("de")
    nlp.add_pipe("chipwire_test_fails_on_boom", last=True)
    texts = ["Infineon baut in Dresden eine neue Chipfabrik für Leistungshalbleiter.",
             "BOOM Bosch investiert in Reutlingen weitere Milliarden in Siliziumkarbid.",
             "GlobalFoundries erweitert sein Werk in Dresden mit Beihilfen des Bundes."]
    batch = tmp_path / "de.jsonl"
    batch.write_text("".join(json.dumps({"id": f"de-{i}", "text": t}, ensure_ascii=False) + "\n"
                             for i, t in enumerate(texts)), encoding="utf-8")
    summary = run_batch([batch], tmp_path / "out", settings, tools=tools)
    assert (summary.records, summary.errors) == (2, 1)
    [error] = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert error["source"]["id"] == "de-1" and "spaCy failed" in error["reason"]
