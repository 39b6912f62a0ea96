"""Feeds from the network: a threaded HTTP server on 127.0.0.1 serves real feeds and pages, and
slow, failing, redirecting and oversized responses; each becomes items or one clear error entry."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main
from pipeline.config import FetchSettings, Settings, load_settings
from pipeline.errors import ChipwireError
from pipeline.fetch import Fetcher, canonical_url, read_feed_list
from pipeline.run import Tools, run_batch
from tests.conftest import TESTS

FIXTURES = TESTS / "fixtures" / "net"
FEED = (FIXTURES / "heise.atom").read_bytes()
PAGE = (FIXTURES / "computerbase.de.htc.html").read_bytes()
FAST = load_settings(fetch={"timeout": 0.5, "max_seconds": 2.0, "max_bytes": 1_000_000, "max_redirects": 3})


class Handler(BaseHTTPRequestHandler):
    """Routes of the test server; ``server.seen`` records (path, If-None-Match) of every request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("If-None-Match")))  # type: ignore[attr-defined]
        port = self.server.server_address[1]
        if self.path == "/heise.atom":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304)
            else:
                self._send(200, FEED, {"Content-Type": "application/atom+xml", "ETag": '"v1"'})
        elif self.path == "/linked.rss":
            items = "".join(f"<item><title>Meldung {i}</title><link>http://127.0.0.1:{port}/{target}</link>"
                            f"<description>Kurzfassung {i} der Meldung über HTC und O2.</description></item>"
                            for i, target in enumerate(("page.html", "missing.html")))
            self._send(200, f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode())
        elif self.path.startswith("/many.rss"):
            items = "".join(f"<item><title>Meldung {i}</title><link>http://127.0.0.1:{port}/slowpage/{i}</link>"
                            f"<description>Kurzfassung {i}.</description></item>" for i in range(6))
            self._send(200, f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode())
        elif self.path.startswith("/slowpage/"):
            with self.server.lock:  # type: ignore[attr-defined]
                self.server.active += 1  # type: ignore[attr-defined]
                self.server.peak = max(self.server.peak, self.server.active)  # type: ignore[attr-defined]
            time.sleep(0.3)
            with self.server.lock:  # type: ignore[attr-defined]
                self.server.active -= 1  # type: ignore[attr-defined]
            self._send(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
        elif self.path == "/page.html":
            self._send(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
        elif self.path == "/slow.rss":
            time.sleep(2)
            self._send(200, FEED)
        elif self.path == "/trickle.rss":  # every read is quick, the whole response is not
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"<!-- -->" * 10)
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/huge.rss":  # no Content-Length: the cap must hold while streaming
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"<!--" + b"x" * 65536 + b"-->")
        elif self.path == "/lying.rss":
            self._send(200, b"", {"Content-Length": "999999999"})
        elif self.path == "/loop.rss":
            self._send(302, headers={"Location": "/loop.rss"})
        elif self.path == "/moved.atom":
            self._send(301, headers={"Location": "/heise.atom"})
        else:
            self._send(404, b"not found")


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.seen = []  # type: ignore[attr-defined]
    httpd.lock, httpd.active, httpd.peak = threading.Lock(), 0, 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_feed_url_then_conditional_get(server: ThreadingHTTPServer, tmp_path: Path, tools: Tools) -> None:
    out = tmp_path / "out"
    first = run_batch([_url(server, "/heise.atom")], out, FAST, tools=tools)
    assert (first.records, first.errors) == (15, 0)
    records = _jsonl(out / "records.jsonl")
    assert records[0]["source"]["path"] == _url(server, "/heise.atom") and records[0]["source"]["feed"]
    second = run_batch([_url(server, "/heise.atom")], out, FAST, tools=tools)
    assert second.inputs == 0  # 304 Not Modified: no item to look at
    assert server.seen[-1] == ("/heise.atom", '"v1"')  # type: ignore[attr-defined]
    assert len(_jsonl(out / "records.jsonl")) == 15  # the records of the first run stay


@pytest.mark.parametrize(("path", "code", "reason"), [
    ("/slow.rss", "E010_unreadable", "timed out"),
    ("/trickle.rss", "E010_unreadable", "longer than"),
    ("/huge.rss", "E011_too_large", "exceeds"),
    ("/lying.rss", "E011_too_large", "declares"),
    ("/loop.rss", "E010_unreadable", "redirects"),
    ("/gone.rss", "E010_unreadable", "HTTP 404"),
], ids=["slow", "trickle", "oversized-streamed", "oversized-declared", "redirect-loop", "not-found"])
def test_bad_responses_become_one_error_each(server: ThreadingHTTPServer, tmp_path: Path, tools: Tools,
                                             path: str, code: str, reason: str) -> None:
    summary = run_batch([_url(server, path), _url(server, "/moved.atom")], tmp_path, FAST, tools=tools)
    [error] = _jsonl(tmp_path / "errors.jsonl")
    assert (error["code"], error["stage"]) == (code, "ingest") and reason in error["reason"]
    assert summary.records == 15  # the good feed (reached through a redirect) is not held up


def test_follow_links_takes_the_page_text(server: ThreadingHTTPServer, tmp_path: Path, tools: Tools) -> None:
    settings = load_settings(fetch={"timeout": 2.0, "follow_links": True})
    run_batch([_url(server, "/linked.rss")], tmp_path, settings, tools=tools)
    followed, missing = _jsonl(tmp_path / "records.jsonl")
    assert "Xda Nova" in followed["text"] and len(followed["text"]) > 500
    assert followed["extra"]["followed_url"] == _url(server, "/page.html")
    assert "Kurzfassung 1" in missing["text"] and "404" in missing["extra"]["follow_error"]


def test_linked_pages_are_fetched_together(server: ThreadingHTTPServer, tmp_path: Path, tools: Tools) -> None:
    settings = load_settings(fetch={"timeout": 2.0, "follow_links": True, "concurrency": 3})
    summary = run_batch([_url(server, "/many.rss")], tmp_path, settings, tools=tools)
    assert summary.records == 6
    assert [r["extra"]["followed_url"] for r in _jsonl(tmp_path / "records.jsonl")] == [
        _url(server, f"/slowpage/{i}") for i in range(6)]  # input order kept
    assert server.peak == 3  # type: ignore[attr-defined]


def test_new_pipeline_refetches_an_unmodified_feed(server: ThreadingHTTPServer, tmp_path: Path,
                                                   tools: Tools) -> None:
    # Validators belong to the pipeline that processed the feed: after an upgrade or a change of
    # settings, a 304 would leave the old records in place, so the feed is fetched in full again.
    out = tmp_path / "out"
    run_batch([_url(server, "/heise.atom")], out, FAST, tools=tools)
    changed = load_settings(fetch={"timeout": 0.5}, entities={"fuzzy_threshold": 95.0})
    again = run_batch([_url(server, "/heise.atom")], out, changed, tools=tools)
    assert server.seen[-1] == ("/heise.atom", None)  # type: ignore[attr-defined]
    assert (again.updated, again.records) == (15, 15)
    third = run_batch([_url(server, "/heise.atom")], out, changed, tools=tools)
    assert third.inputs == 0 and server.seen[-1] == ("/heise.atom", '"v1"')  # type: ignore[attr-defined]


def test_feed_lists(tmp_path: Path, server: ThreadingHTTPServer, settings: Settings) -> None:
    url = _url(server, "/heise.atom")
    (tmp_path / "list.feeds").write_text(f"# chip news\n{url}\n\n")
    (tmp_path / "list.opml").write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body><outline text="x"><outline xmlUrl="{url}"/>'
        "</outline></body></opml>")
    assert read_feed_list(tmp_path / "list.feeds") == read_feed_list(tmp_path / "list.opml") == [url]
    (tmp_path / "bad.feeds").write_text("ftp://example.org/feed\n")
    with pytest.raises(ChipwireError, match="not an http"):
        read_feed_list(tmp_path / "bad.feeds")
    with Fetcher(settings.fetch) as fetcher:
        assert fetcher.expand([tmp_path / "list.opml", "x.jsonl"], settings.limits) == [url, Path("x.jsonl")]


def test_cli_feeds_option(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    (tmp_path / "list.feeds").write_text(_url(server, "/heise.atom") + "\n")
    assert main(["run", "--feeds", str(tmp_path / "list.feeds"), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert len(_jsonl(tmp_path / "o" / "records.jsonl")) == 15
    assert main(["run", "--out", str(tmp_path / "o"), "--quiet"]) == 2  # no input at all


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTPS://Example.ORG:443/a?utm_source=x&id=3#top", "https://example.org/a?id=3"),
    ("http://example.org", "http://example.org/"),
    ("http://example.org:8080/x?b=1&fbclid=2", "http://example.org:8080/x?b=1"),
], ids=["case-port-tracking-fragment", "empty-path", "other-port"])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_no_fetch_settings_escape_validation() -> None:
    with pytest.raises(ChipwireError):
        load_settings(fetch={"timeout": 0.0})
    assert FetchSettings().max_redirects == 5
