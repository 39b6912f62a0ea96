"""Feeds and pages from the network, fetched with httpx under strict limits.

Every request has connect/read timeouts, a wall-clock limit, a redirect limit and a size cap
checked while streaming (a missing or lying Content-Length cannot get past it, nor can a gzip
bomb: the cap applies to decoded bytes). Feeds are fetched with a conditional GET: the ETag and
Last-Modified of the last complete run are in the state database, and an unmodified feed (304)
yields no items. feedparser only ever parses bytes fetched here; it never fetches anything itself.

Every failure becomes an error entry of the input (``E010_unreadable`` with the HTTP status or the
network error, ``E011_too_large`` over the size cap), never an exception that stops the run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from defusedxml.ElementTree import fromstring as defused_fromstring

from pipeline.config import FetchSettings, LimitSettings
from pipeline.errors import ChipwireError, Code, Stage
from pipeline.ingest import Item, extract_page, read_data
from pipeline.records import ErrorEntry, RawArticle, Source
from pipeline.state import StateStore, Validators

# Files read as lists of feeds rather than as articles.
FEED_LIST_SUFFIXES = frozenset({".opml", ".feeds", ".urls"})
# Query parameters that only track a click; two URLs differing in them are one article.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid")


def is_url(value: str) -> bool:
    """True for an ``http://`` or ``https://`` URL."""
    return value.startswith(("http://", "https://"))


def canonical_url(url: str) -> str:
    """``url`` with scheme and host lower-cased, default port, fragment and tracking parameters dropped."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and not ((parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(_TRACKING)]
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", urlencode(query), ""))


def read_feed_list(path: Path) -> list[str]:
    """The feed URLs of an OPML file or of a text file with one URL a line (``#`` comments).

    Raises:
        ChipwireError: when the file cannot be read or is not a feed list.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChipwireError(f"cannot read feed list {path}: {exc.strerror or exc}") from exc
    if data.lstrip().startswith(b"<"):
        try:
            root = defused_fromstring(data)
        except Exception as exc:
            raise ChipwireError(f"feed list {path} is not valid OPML: {exc}") from exc
        urls = [el.get("xmlUrl", "") for el in root.iter("outline") if el.get("xmlUrl")]
    else:
        lines = data.decode("utf-8", errors="replace").splitlines()
        urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    bad = [u for u in urls if not is_url(u)]
    if bad:
        raise ChipwireError(f"feed list {path}: not an http(s) URL: {bad[0]!r}")
    return urls


@dataclass(frozen=True)
class Fetched:
    """The outcome of one GET: bytes, ``not_modified``, or an error code and reason."""

    url: str
    data: bytes | None = None
    not_modified: bool = False
    code: Code | None = None
    reason: str = ""
    validators: Validators | None = None


class Fetcher:
    """An httpx client with chipwire's limits, opened lazily on the first URL.

    Args:
        settings: Timeouts, size cap, redirect limit.
        state: The output folder's state (validators for conditional GETs), or None.
        transport: An httpx transport to use instead of the network (tests).
    """

    def __init__(self, settings: FetchSettings, state: StateStore | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.state = state
        self.transport = transport
        self.validators: dict[str, Validators] = {}
        self._client: httpx.Client | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> httpx.Client:
        """The HTTP client (created on first use: runs over local files never open one)."""
        if self._client is None:
            s = self.settings
            self._client = httpx.Client(
                timeout=httpx.Timeout(s.timeout), follow_redirects=True, max_redirects=s.max_redirects,
                headers={"User-Agent": s.user_agent}, transport=self.transport, trust_env=False)
        return self._client

    def expand(self, inputs: Iterable[Path | str], limits: LimitSettings) -> list[Path | str]:
        """Inputs with feed lists (``.opml``, ``.feeds``, ``.urls``) replaced by their URLs."""
        out: list[Path | str] = []
        for entry in inputs:
            text = str(entry)
            if is_url(text):
                out.append(text)
            elif Path(text).suffix.lower() in FEED_LIST_SUFFIXES and Path(text).is_file():
                out.extend(read_feed_list(Path(text)))
            else:
                out.append(Path(text))
        return out

    def get(self, url: str, *, conditional: bool) -> Fetched:
        """GET ``url`` within the limits; with ``conditional``, send the stored validators."""
        s = self.settings
        headers: dict[str, str] = {}
        stored = self.state.validators(url) if conditional and self.state is not None else None
        if stored is not None:
            if stored.etag:
                headers["If-None-Match"] = stored.etag
            if stored.last_modified:
                headers["If-Modified-Since"] = stored.last_modified
        deadline = time.monotonic() + s.max_seconds
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304 and stored is not None:
                    return Fetched(url, not_modified=True)
                if response.status_code >= 400 or response.status_code == 304:
                    return Fetched(url, code=Code.UNREADABLE, reason=f"HTTP {response.status_code} from {url}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > s.max_bytes:
                    return Fetched(url, code=Code.TOO_LARGE,
                                   reason=f"response declares {declared} bytes, limit is {s.max_bytes}")
                buffer = bytearray()
                for chunk in response.iter_bytes():
                    buffer += chunk
                    if len(buffer) > s.max_bytes:
                        return Fetched(url, code=Code.TOO_LARGE,
                                       reason=f"response exceeds {s.max_bytes} bytes (stopped reading)")
                    if time.monotonic() > deadline:
                        return Fetched(url, code=Code.UNREADABLE,
                                       reason=f"response took longer than {s.max_seconds:g} s (stopped reading)")
                found = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
                return Fetched(str(response.url), data=bytes(buffer), validators=found)
        except httpx.TooManyRedirects:
            return Fetched(url, code=Code.UNREADABLE, reason=f"more than {s.max_redirects} redirects from {url}")
        except httpx.TimeoutException as exc:
            return Fetched(url, code=Code.UNREADABLE,
                           reason=f"timed out after {s.timeout:g} s ({type(exc).__name__}) fetching {url}")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Fetched(url, code=Code.UNREADABLE, reason=f"cannot fetch {url}: {type(exc).__name__}: {exc}")

    def read(self, url: str, limits: LimitSettings) -> Iterator[Item]:
        """The items of a feed (or page, or JSONL file) at ``url``; none when it is unmodified."""
        fetched = self.get(url, conditional=True)
        if fetched.code is not None:
            yield ErrorEntry(Source(id=url, path=url, url=url), Stage.INGEST.value, fetched.code.value,
                             fetched.reason)
            return
        if fetched.not_modified or fetched.data is None:
            return
        if fetched.validators and (fetched.validators.etag or fetched.validators.last_modified):
            self.validators[url] = fetched.validators
        yield from read_data(url, fetched.data, limits, url=url)

    def follow_all(self, raws: list[RawArticle], min_letters: int = 50) -> list[RawArticle]:
        """:meth:`follow` every feed item with a link, ``settings.concurrency`` at a time; in order.

        Items that are not from a feed or have no link come back as they are. Pages are fetched
        in threads (httpx's client is thread-safe), so a slow site delays its own items only.
        """
        todo = [i for i, raw in enumerate(raws) if raw.fmt == "feed" and raw.source.url]
        if not todo:
            return raws
        out = list(raws)
        workers = min(self.settings.concurrency, len(todo))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chipwire-follow") as pool:
            for i, followed in zip(todo, pool.map(lambda i: self.follow(raws[i], min_letters), todo), strict=True):
                out[i] = followed
        return out

    def follow(self, raw: RawArticle, min_letters: int = 50) -> RawArticle:
        """The feed item with its body replaced by the main text of the page it links to.

        When the page cannot be fetched or has no main text, the item keeps the feed's text and
        says why in ``extra['follow_error']``: the feed's summary is still an article.
        """
        assert raw.source.url is not None
        fetched = self.get(raw.source.url, conditional=False)
        if fetched.code is not None or fetched.data is None:
            return replace(raw, extra={**raw.extra, "follow_error": f"{fetched.code}: {fetched.reason}"})
        page = extract_page(fetched.data, min_letters)
        if isinstance(page, str):
            return replace(raw, extra={**raw.extra, "follow_error": page})
        extra = {**raw.extra, "followed_url": fetched.url}
        return replace(raw, body=page["body"], title=raw.title or page["title"],
                       published=raw.published or page["published"], extra=extra)
