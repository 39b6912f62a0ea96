"""Text normalisation: Unicode NFC, whitespace, and repair of glued sentences.

Scraped and re-published news often loses the space between sentences
(``sujet.Ces``, ``NVIDIA.Le PDG``) or between a name and the next sentence
(``ChatGPTQuel est``). Sentence splitters and NER then merge two sentences,
so the glue is repaired before any NLP. Repairs only ever insert a space,
never delete text, and leave ``Amazon.com``, ``U.S.``, ``3.5``, ``e.g.``,
URLs and e-mail addresses alone.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

from extractors.langdata import LangDataError, available_languages, load_section
from pipeline.records import Article, RawArticle

# Characters that carry no text: zero-width space/joiners, BOM, soft hyphen, word joiner.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = regex.compile(r"[\p{Cc}--[\n\t]]", flags=regex.V1)
_LINE_BREAKS = regex.compile(r"\r\n?|[\u2028\u2029\u0085\v\f]")
# One no-break or thin space alone is meaningful (``10 000``, ``80 %``): keep it.
_KEPT_SPACES = frozenset("\u00a0\u202f\u2009")
# A lone ASCII space is already folded: matching only other runs spares a call per word.
_HSPACE_RUN = regex.compile(r"[^\S\n]{2,}|[^\S\n ]")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# A word of two or more letters/digits (or a closing bracket/quote after one),
# then sentence-final punctuation glued to a capitalised word: "sujet.Ces",
# "NVIDIA.Le", "2015.OpenAI", "GPU).L'". A single letter before the dot is an
# initial or abbreviation ("U.S.", "M.Altman" is left for NER), and a lower-case
# letter after it is a domain or file name ("Amazon.com").
_GLUED_STOP = regex.compile(r"(?<=[\p{L}\p{N}]{2}|[\p{L}\p{N}][)\]\"»”’])[.!?](?=\p{Lu}[\p{Ll}'’])")
# "?" and "!" end a sentence even after a space ("sujet ?Trouvez", French spacing).
_GLUED_MARK = regex.compile(r"(?<=\s)[!?](?=\p{Lu}\p{Ll})")
# Tokens that must never be split: URLs, e-mail addresses, bare domains with a path.
# The lookbehinds only skip start positions whose match would begin one character earlier (or
# not at all), so the matches are the same; without them every character of every word starts
# a scan to the end of its word.
_PROTECTED = re.compile(r"(?:(?<![a-z])[a-z][a-z0-9+.-]*://|www\.)\S+|(?<!\S)\S+@\S+\.\S+", flags=re.IGNORECASE)
# A capitalised word glued after an acronym or camel-case name ("ChatGPTQuel"):
# split only when the tail is a known sentence opener, so "GPUs" or "LinkedIn" stay whole.
_GLUED_CAMEL = regex.compile(r"\b(\w*\p{Lu})(\p{Lu}\p{Ll}+)\b")


@dataclass(frozen=True)
class Normalizer:
    """Normalises titles and bodies; built once per run from the language data files.

    Attributes:
        openers: Lower-cased words that may start a sentence after glued text (all languages,
            because normalisation runs before language identification).
    """

    openers: frozenset[str]

    def text(self, raw: str) -> str:
        """Normalise a body: NFC, invisible characters removed, whitespace folded, glue repaired."""
        text = unicodedata.normalize("NFC", raw).translate(_INVISIBLE)
        text = _LINE_BREAKS.sub("\n", text)
        text = _CONTROL.sub("", text)
        text = _HSPACE_RUN.sub(_fold_space, text)
        text = "\n".join(line.strip() for line in text.split("\n"))
        text = _MANY_NEWLINES.sub("\n\n", text).strip()
        return self.repair_glue(text)

    def title(self, raw: str) -> str:
        """Normalise a title: as a body, but on one line."""
        return " ".join(self.text(raw).split())

    def repair_glue(self, text: str) -> str:
        """Insert the missing space in glued sentences, outside URLs and e-mail addresses."""
        pieces: list[str] = []
        last = 0
        # Most articles hold no URL or address: then the scan is skipped.
        maybe_protected = "@" in text or "://" in text or "www." in text.lower()
        for match in _PROTECTED.finditer(text) if maybe_protected else ():
            pieces.append(self._repair_span(text[last : match.start()]))
            pieces.append(match.group())
            last = match.end()
        pieces.append(self._repair_span(text[last:]))
        return "".join(pieces)

    def _repair_span(self, span: str) -> str:
        span = _GLUED_STOP.sub(lambda m: m.group() + " ", span)
        span = _GLUED_MARK.sub(lambda m: m.group() + " ", span)
        return _GLUED_CAMEL.sub(self._split_camel, span)

    def _split_camel(self, match: regex.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        if len(head) >= 2 and tail.casefold() in self.openers:
            return f"{head} {tail}"
        return match.group()


def _fold_space(match: re.Match[str]) -> str:
    run = match.group()
    return run if len(run) == 1 and run in _KEPT_SPACES else " "


@lru_cache(maxsize=1)
def build_normalizer() -> Normalizer:
    """Return the normaliser built from every language's ``normalize`` data file."""
    openers: set[str] = set()
    for lang in available_languages("normalize"):
        words = load_section("normalize", lang).get("sentence_openers", [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise LangDataError(f"normalize/{lang}.yaml: 'sentence_openers' must be a list of non-empty strings")
        openers.update(w.casefold() for w in words)
    return Normalizer(openers=frozenset(openers))


_DATE_HEADER = regex.compile(r"^date\s+\d{4}(?:-\d{2}){0,2}\s+", flags=regex.IGNORECASE)


def strip_repeated_title(body: str, title: str | None) -> str:
    """Drop a first body line that only repeats the title (optionally after a ``date …`` header).

    Sources often put the title at the top of the text as well; analysing it twice
    would double every entity in it.
    """
    if not title:
        return body
    first, _sep, rest = body.partition("\n")
    if _DATE_HEADER.sub("", first).strip().casefold() == title.strip().casefold():
        return rest.lstrip("\n")
    return body


def article_id(raw: RawArticle) -> str:
    """A stable id from where the article came from (file path and item id)."""
    key = f"{raw.source.path}\x00{raw.source.id}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def normalize_article(raw: RawArticle, normalizer: Normalizer) -> Article:
    """Turn a raw article into the normalised ``Article`` that every later stage reads.

    The record's text is the normalised title, a blank line, then the normalised body;
    ``body_start`` is the body's offset in it.
    """
    title = normalizer.title(raw.title) if raw.title else None
    body = strip_repeated_title(normalizer.text(raw.body), title)
    if title and body:
        text, body_start = f"{title}\n\n{body}", len(title) + 2
    elif title:
        text, body_start = title, len(title)
    else:
        text, body_start = body, 0
    content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Article(
        article_id=article_id(raw),
        source=raw.source,
        title=title or None,
        published=raw.published,
        text=text,
        body_start=body_start,
        fmt=raw.fmt,
        content_hash=content_hash,
        extra=dict(raw.extra),
    )
