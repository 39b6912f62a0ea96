"""Ingest: turn input files and folders into raw articles or error entries.

Formats: plain text and Markdown (including the seed's ``date YYYY-MM Title``
first line), JSON Lines (``id``, ``title``, ``text``, ``published``, ``url``;
other keys kept under ``extra``), HTML pages (main text, title and date with
trafilatura) and RSS/Atom feeds (feedparser). Every problem with an item
becomes an :class:`ErrorEntry`; nothing here raises for bad input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.sax import SAXParseException

import feedparser
import regex
import trafilatura
from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import html as lxml_html

from pipeline.config import LimitSettings
from pipeline.errors import Code, Stage
from pipeline.records import ErrorEntry, RawArticle, Source

if TYPE_CHECKING:
    from pipeline.fetch import Fetcher

Item = RawArticle | ErrorEntry

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf", ".feed"})
# Files in an input folder that describe the folder rather than hold an article.
SKIPPED_NAMES = regex.compile(r"^(readme|licen[cs]e|licen[cs]es|notice|copying)(\..*)?$", flags=regex.IGNORECASE)

JSONL_FIELDS = frozenset({"id", "title", "text", "published", "url"})
_SEED_HEADER = regex.compile(r"^\s*date\s+(\d{4}(?:-\d{2}){0,2})\s+(.+?)\s*$", flags=regex.IGNORECASE)
_FRONT_MATTER = regex.compile(r"\A---\s*\n(.*?)\n---\s*\n", flags=regex.DOTALL)
_MD_IMAGE = regex.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = regex.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = regex.compile(r"^#{1,6}\s+", flags=regex.MULTILINE)
_MD_EMPHASIS = regex.compile(r"(\*\*|__)(.+?)\1")
_ISO_PARTIAL = regex.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "table",
     "section", "article", "figure", "figcaption", "pre", "hr"}
)


def iter_items(inputs: Iterable[Path | str], limits: LimitSettings, *, fetcher: Fetcher | None = None
               ) -> Iterator[Item]:
    """Yield a raw article or an error entry for every item found in ``inputs``.

    A folder is read recursively in sorted order, skipping hidden files and
    README/LICENSE files. An ``http(s)://`` input is fetched with ``fetcher`` (a
    :class:`pipeline.fetch.Fetcher`); without one it is an error entry.
    """
    for entry in inputs:
        if isinstance(entry, str) and entry.startswith(("http://", "https://")):
            if fetcher is None:
                yield _error(Source(id=entry, path=entry, url=entry), Code.UNSUPPORTED_FORMAT,
                             "URL inputs need a fetcher")
            else:
                yield from fetcher.read(entry, limits)
            continue
        path = Path(entry)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or SKIPPED_NAMES.match(file.name):
                    continue
                yield from read_file(file, limits)
        else:
            yield from read_file(path, limits)


def read_file(path: Path, limits: LimitSettings) -> Iterator[Item]:
    """Yield the items of one file, dispatching on its suffix (or its content when unknown)."""
    source = Source(id=str(path), path=str(path))
    if not path.exists():
        yield _error(source, Code.INPUT_NOT_FOUND, f"no such file or folder: {path}")
        return
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            yield _error(source, Code.TOO_LARGE, f"file is {size} bytes, limit is {limits.max_file_bytes}")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield _error(source, Code.UNREADABLE, f"cannot read file: {exc.strerror or exc}")
        return
    yield from read_data(str(path), data, limits)


def read_data(name: str, data: bytes, limits: LimitSettings, *, url: str | None = None) -> Iterator[Item]:
    """Yield the items of one input's bytes; ``name`` is its path or URL (it gives the format's suffix).

    Args:
        name: File path or URL: the items' ``source.path`` and the fallback of their ids.
        data: The input's bytes.
        limits: Size limits.
        url: The URL the bytes were fetched from, if any (an HTML page's ``source.url``).
    """
    source = Source(id=name, path=name, url=url)
    if not data.strip():
        yield _error(source, Code.EMPTY_INPUT, "file is empty")
        return
    fmt = detect_format(name, data)
    if fmt == "binary":
        yield _error(source, Code.BINARY_INPUT, "file looks binary (NUL bytes); not a text, JSONL, HTML or feed")
        return
    if fmt == "html":
        yield from _read_html(name, data, source, limits.min_html_letters)
        return
    reader = {"text": _read_text, "jsonl": _read_jsonl, "feed": _read_feed}[fmt]
    yield from reader(name, data, source)


def suffix_of(name: Path | str) -> str:
    """The lower-case suffix of a path, or of a URL's path (``https://x/feed.xml?a=1`` → ``.xml``)."""
    text = str(name)
    if text.startswith(("http://", "https://")):
        text = urlsplit(text).path
    return PurePosixPath(text).suffix.lower()


def detect_format(path: Path | str, data: bytes) -> str:
    """``text``, ``jsonl``, ``html``, ``feed`` or ``binary``, from the suffix, else from the first bytes."""
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    suffix = suffix_of(path)
    if suffix in JSONL_SUFFIXES or suffix == ".json":
        return "jsonl"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in FEED_SUFFIXES:
        return "feed"
    if suffix in TEXT_SUFFIXES:
        return "text"
    sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<!doctype html", b"<html")):
        return "html"
    if sniff.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")):
        return "feed"
    if sniff.startswith(b"{"):
        return "jsonl"
    return "text"


def decode(data: bytes) -> tuple[str, str] | None:
    """Decode bytes as UTF-8 (with or without BOM), else as the charset detected; None if undecodable."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    return str(best), best.encoding


# --- plain text and Markdown -------------------------------------------------------------------

def _read_text(path: str, data: bytes, source: Source) -> Iterator[Item]:
    decoded = decode(data)
    if decoded is None:
        yield _error(source, Code.UNDECODABLE, "bytes are neither UTF-8 nor any detectable encoding")
        return
    text, encoding = decoded
    extra: dict[str, Any] = {} if encoding == "utf-8" else {"encoding": encoding}
    title, published, body = split_header(text)
    if suffix_of(path) in {".md", ".markdown"}:
        title, published, body = _markdown(title, published, body)
    if not body.strip() and not title:
        yield _error(source, Code.EMPTY_TEXT, "file has no text")
        return
    yield RawArticle(source=source, title=title, body=body, published=published, fmt="text", extra=extra)


def split_header(text: str) -> tuple[str | None, str | None, str]:
    """Split the seed format's first line ``date YYYY-MM[-DD] Title`` off a text.

    Returns:
        ``(title, published, body)``; title and published are None when there is no such line.
    """
    first, _, rest = text.lstrip("\ufeff").lstrip().partition("\n")
    match = _SEED_HEADER.match(first)
    if match and iso_date(match.group(1)):
        return match.group(2), match.group(1), rest
    return None, None, text


def _markdown(title: str | None, published: str | None, body: str) -> tuple[str | None, str | None, str]:
    front = _FRONT_MATTER.match(body)
    if front:
        body = body[front.end():]
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            value = value.strip().strip("\"'")
            if key.strip() == "title" and not title:
                title = value or None
            elif key.strip() == "date" and not published:
                published = iso_date(value[:10])
    if not title:
        first, _, rest = body.lstrip().partition("\n")
        if first.startswith("# "):
            title, body = first[2:].strip(), rest
    body = _MD_IMAGE.sub("", body)
    body = _MD_LINK.sub(r"\1", body)
    body = _MD_HEADING.sub("", body)
    body = _MD_EMPHASIS.sub(r"\2", body)
    return title, published, body


# --- JSON Lines --------------------------------------------------------------------------------

def _read_jsonl(path: str, data: bytes, source: Source) -> Iterator[Item]:
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix_of(path) == ".json" and stripped.startswith(b"["):
        yield from _read_json_array(path, stripped, source)
        return
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = Source(id=f"{path}:{lineno}", path=str(path))
        try:
            obj = json.loads(line.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            yield _error(where, Code.UNDECODABLE, f"line {lineno} is not UTF-8: {exc.reason} at byte {exc.start}")
            continue
        except json.JSONDecodeError as exc:
            yield _error(where, Code.MALFORMED_JSON, f"line {lineno}: {exc.msg} at column {exc.colno}")
            continue
        yield _jsonl_article(obj, path, where)


def _read_json_array(path: str, data: bytes, source: Source) -> Iterator[Item]:
    try:
        rows = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        yield _error(source, Code.MALFORMED_JSON, f"not a JSON array of articles: {exc}")
        return
    for i, obj in enumerate(rows, start=1):
        yield _jsonl_article(obj, path, Source(id=f"{path}:{i}", path=str(path)))


def _jsonl_article(obj: Any, path: str, where: Source) -> Item:
    if not isinstance(obj, dict):
        return _error(where, Code.MALFORMED_JSON, f"expected a JSON object, got {type(obj).__name__}")
    item_id = obj.get("id")
    source = Source(
        id=str(item_id) if item_id not in (None, "") else where.id,
        path=str(path),
        url=obj["url"] if isinstance(obj.get("url"), str) else None,
    )
    text = obj.get("text")
    if not isinstance(text, str):
        return _error(source, Code.MISSING_FIELD, "no 'text' string in the JSON object")
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    extra = {k: v for k, v in obj.items() if k not in JSONL_FIELDS}
    published = _published(obj.get("published"), extra)
    if title is None:
        header_title, header_date, body = split_header(text)
        if header_title:
            title, text = header_title, body
            published = published or header_date
    if not text.strip() and not (title or "").strip():
        return _error(source, Code.EMPTY_TEXT, "'text' and 'title' are empty")
    return RawArticle(source=source, title=title, body=text, published=published, fmt="jsonl", extra=extra)


def _published(value: Any, extra: dict[str, Any]) -> str | None:
    """ISO date of ``value``; an unparseable one is kept verbatim as ``extra['published_raw']``."""
    if value in (None, ""):
        return None
    parsed = iso_date(str(value))
    if parsed is None:
        extra["published_raw"] = value
    return parsed


def iso_date(value: str) -> str | None:
    """Normalise a date string to ISO 8601, keeping its precision; None when it is not a valid date.

    Accepts partial ISO dates (``2023``, ``2023-10``), full ISO timestamps and RFC 822 dates.
    """
    value = value.strip()
    if _ISO_PARTIAL.match(value):
        if len(value) == 10:
            try:
                date.fromisoformat(value)
            except ValueError:
                return None
        return value
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


# --- HTML pages --------------------------------------------------------------------------------

def _read_html(path: str, data: bytes, source: Source, min_letters: int) -> Iterator[Item]:
    page = extract_page(data, min_letters)
    if isinstance(page, str):
        yield _error(source, Code.NO_MAIN_TEXT, page)
        return
    url = page.pop("url", None) or source.url
    title, body, published = page.pop("title"), page.pop("body"), page.pop("published")
    yield RawArticle(source=Source(id=path, path=path, url=url), title=title, body=body, published=published,
                     fmt="html", extra=page)


def extract_page(data: bytes, min_letters: int) -> dict[str, Any] | str:
    """Main text and metadata of an HTML page with trafilatura, or the reason there is none.

    Returns:
        ``{"title", "body", "published", "url", and author/sitename/hostname when found}``, or a
        reason string when the page cannot be parsed or has too little text to be an article.
    """
    try:
        doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    except Exception as exc:  # noqa: BLE001 - trafilatura/lxml raise many types on hostile markup
        return f"HTML could not be parsed: {type(exc).__name__}: {exc}"
    text = str(getattr(doc, "text", None) or "")
    letters = sum(ch.isalpha() for ch in text)
    if letters < min_letters:
        return f"no main text found in the HTML page ({letters} letters < {min_letters})"
    page: dict[str, Any] = {
        "title": getattr(doc, "title", None),
        "body": text,
        "published": iso_date(str(found_date)) if (found_date := getattr(doc, "date", None)) else None,
        "url": getattr(doc, "url", None),
    }
    for key in ("author", "sitename", "hostname"):
        value = getattr(doc, key, None)
        if value:
            page[key] = value
    return page


def html_fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed item's content), block elements on their own lines."""
    if "<" not in fragment:
        return fragment
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # noqa: BLE001 - lxml raises ParserError or XMLSyntaxError on junk; keep the raw text
        return fragment
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
    return root.text_content()


# --- RSS / Atom feeds --------------------------------------------------------------------------

def _read_feed(path: str, data: bytes, source: Source) -> Iterator[Item]:
    refusal = _refuse_entities(data)
    if refusal:
        yield _error(source, Code.MALFORMED_FEED, refusal)
        return
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception")
    # feedparser's loose parser "recovers" items from broken XML by guessing; a truncated or
    # corrupt feed is reported instead, so nobody mistakes guessed items for the feed's content.
    # An encoding override (bytes not in the declared charset) is not malformed XML.
    if isinstance(problem, SAXParseException) or (problem is not None and not parsed.entries):
        yield _error(source, Code.MALFORMED_FEED, f"feed XML is malformed: {problem}")
        return
    if not parsed.entries:
        yield _error(source, Code.EMPTY_INPUT, "feed has no items")
        return
    feed_name = parsed.feed.get("link") or parsed.feed.get("title") or path
    for index, entry in enumerate(parsed.entries, start=1):
        yield _feed_article(entry, index, path, feed_name)


def _refuse_entities(data: bytes) -> str | None:
    """Refuse feeds that declare entities (XML bombs, external entities) before any parser expands them."""
    try:
        defused_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return f"feed declares XML entities, refused for safety: {type(exc).__name__}"
    except Exception:  # noqa: BLE001 - malformed XML is feedparser's to judge (it recovers many feeds)
        return None
    return None


def _feed_article(entry: Any, index: int, path: str, feed_name: str) -> Item:
    link = entry.get("link")
    item_id = entry.get("id") or link or f"{path}#{index}"
    source = Source(id=str(item_id), path=str(path), url=link, feed=feed_name)
    content = entry.get("content") or []
    html_body = content[0].get("value", "") if content else entry.get("summary", "")
    body = html_fragment_to_text(html_body or "")
    title = html_fragment_to_text(entry["title"]) if entry.get("title") else None
    if not body.strip() and not (title or "").strip():
        return _error(source, Code.EMPTY_TEXT, f"feed item {index} has no title, content or summary")
    extra: dict[str, Any] = {"feed_item_index": index}
    if entry.get("author"):
        extra["author"] = entry["author"]
    return RawArticle(
        source=source, title=title, body=body, published=_feed_date(entry, extra), fmt="feed", extra=extra
    )


def _feed_date(entry: Any, extra: dict[str, Any]) -> str | None:
    for key in ("published", "updated"):
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            try:
                return datetime(*parsed[:6]).replace(tzinfo=UTC).isoformat()
            except (TypeError, ValueError):
                pass
        if entry.get(key):
            extra["published_raw"] = entry[key]
    return None


def _error(source: Source, code: Code, reason: str) -> ErrorEntry:
    return ErrorEntry(source=source, stage=Stage.INGEST.value, code=code.value, reason=reason)
