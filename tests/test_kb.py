"""Integrity tests of the chip-industry knowledge base (extractors/data/companies.yaml)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from extractors.kb import (
    DEFAULT_PATH,
    ROLES,
    KBEntry,
    KBError,
    KnowledgeBase,
    build_knowledge_base,
    load_kb,
    normalize_alias,
    parse_kb_file,
    without_legal_form,
)

CASES = Path(__file__).parent / "cases" / "kb" / "aliases.yaml"
ALIAS_CASES: dict[str, Any] = yaml.safe_load(CASES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb()


def _entry(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": "acme",
        "canonical": "Acme",
        "kind": "org",
        "wikidata": None,
        "roles": ["chip_designer"],
        "aliases": ["Acme"],
        "sources": ["curated"],
    }
    base.update(over)
    return base


def _build(*entries: dict[str, Any]) -> KnowledgeBase:
    return build_knowledge_base({"entries": list(entries)}, Path("test.yaml"))


# ---------------------------------------------------------------- the shipped file


def test_loads_and_is_cached(kb: KnowledgeBase) -> None:
    assert load_kb() is kb
    assert load_kb(DEFAULT_PATH) is kb


def test_at_least_300_organisations(kb: KnowledgeBase) -> None:
    assert len(kb.orgs) >= 300
    assert len(kb.products) >= 100


def test_every_product_has_an_org_maker(kb: KnowledgeBase) -> None:
    for product in kb.products:
        assert product.maker is not None, product.key
        maker = kb.get(product.maker)
        assert maker is not None and maker.kind == "org", product.key
        assert product.roles == ()


def test_orgs_have_roles_from_the_fixed_set(kb: KnowledgeBase) -> None:
    for org in kb.orgs:
        assert org.roles, org.key
        assert set(org.roles) <= ROLES, org.key
        assert org.maker is None


def test_sources_are_recorded(kb: KnowledgeBase) -> None:
    counts = Counter(s for e in kb for s in e.sources)
    assert counts["eto"] >= 300
    assert counts["sp500"] >= 80
    assert counts["curated"] >= 300
    assert all(e.sources for e in kb)


def test_country_codes_are_alpha2(kb: KnowledgeBase) -> None:
    for entry in kb:
        if entry.country is not None:
            assert len(entry.country) == 2 and entry.country.isupper(), entry.key


def test_known_wikidata_ids(kb: KnowledgeBase) -> None:
    assert kb.get("nvidia").wikidata == "Q182477"  # type: ignore[union-attr]
    assert kb.get("tsmc").wikidata == "Q713418"  # type: ignore[union-attr]
    qids = [e.wikidata for e in kb if e.wikidata]
    assert len(qids) == len(set(qids)), "two entries share a Wikidata id"


def test_file_is_up_to_date_with_its_inputs() -> None:
    # The builder is deterministic: rebuilding gives the committed file byte for byte.
    from extractors.data.build_kb import build

    text, _ = build()
    assert text == DEFAULT_PATH.read_text(encoding="utf-8"), "run python -m extractors.data.build_kb"


def test_file_has_attribution_header() -> None:
    head = DEFAULT_PATH.read_text(encoding="utf-8")[:4000]
    assert "CC BY-NC 4.0" in head and "PDDL" in head
    for role in ROLES:
        assert role in head


@pytest.mark.parametrize(
    "alias",
    ["OpenAI", "NVIDIA", "Microsoft", "Google", "Alphabet", "Amazon", "Annapurna Labs", "Meta", "Bernstein", "ChatGPT"],
)
def test_seed_article_entities_resolve(kb: KnowledgeBase, alias: str) -> None:
    entry = kb.lookup(alias)
    assert entry is not None and entry.canonical == alias


def test_advanced_micro_devices_is_amd(kb: KnowledgeBase) -> None:
    assert kb.canonical("Advanced Micro Devices") == "AMD"


def test_parents(kb: KnowledgeBase) -> None:
    def parent(alias: str) -> str | None:
        entry = kb.lookup(alias)
        assert entry is not None, alias
        return kb.get(entry.parent).canonical if entry.parent else None  # type: ignore[union-attr]

    assert parent("Annapurna Labs") == "Amazon"
    assert parent("AWS") == "Amazon"
    assert parent("Google") == "Alphabet"
    assert parent("Instagram") == "Meta"
    assert parent("HiSilicon") == "Huawei"
    assert [e.canonical for e in kb.parent_chain("deepmind")] == ["Google", "Alphabet"]


@pytest.mark.parametrize(
    ("product", "maker"),
    [
        ("TPU", "Google"),
        ("Trainium", "Amazon"),
        ("Inferentia", "Amazon"),
        ("Graviton", "Amazon"),
        ("Maia", "Microsoft"),
        ("Cobalt", "Microsoft"),
        ("MTIA", "Meta"),
        ("H100", "NVIDIA"),
        ("H200", "NVIDIA"),
        ("B200", "NVIDIA"),
        ("Blackwell", "NVIDIA"),
        ("GeForce", "NVIDIA"),
        ("CUDA", "NVIDIA"),
        ("MI300", "AMD"),
        ("MI450", "AMD"),
        ("Instinct", "AMD"),
        ("Ryzen", "AMD"),
        ("EPYC", "AMD"),
        ("Snapdragon", "Qualcomm"),
        ("Apple M series", "Apple"),
        ("Apple A series", "Apple"),
        ("Gaudi", "Intel"),
        ("Xeon", "Intel"),
        ("Core Ultra", "Intel"),
        ("ChatGPT", "OpenAI"),
        ("GPT-4", "OpenAI"),
        ("Gemini", "Google"),
        ("Llama", "Meta"),
        ("Axion", "Google"),
        ("Spectrum-X", "NVIDIA"),
        ("HGX", "NVIDIA"),
        ("Threadripper", "AMD"),
        ("Falcon Shores", "Intel"),
        ("Dimensity", "MediaTek"),
        ("CloudMatrix", "Huawei"),
        ("FSD Chip", "Tesla"),
        ("SN40L", "SambaNova"),
    ],
)
def test_product_makers(kb: KnowledgeBase, product: str, maker: str) -> None:
    entry = kb.lookup(product)
    assert entry is not None and entry.kind == "product", product
    assert kb.get(entry.maker).canonical == maker  # type: ignore[arg-type,union-attr]


@pytest.mark.parametrize(
    ("product", "chip"),
    [("TPU", "in_house"), ("Trainium", "in_house"), ("Apple M-series", "in_house"), ("Exynos", "in_house"),
     ("H100", "merchant"), ("Snapdragon", "merchant"), ("Motorola 68020", "merchant"), ("iPhone", None)],
)
def test_chip_kinds(kb: KnowledgeBase, product: str, chip: str | None) -> None:
    entry = kb.lookup(product)
    assert entry is not None and entry.chip == chip, product


def test_roles_of_well_known_orgs(kb: KnowledgeBase) -> None:
    def roles(alias: str) -> tuple[str, ...]:
        entry = kb.lookup(alias)
        assert entry is not None, alias
        return entry.roles

    assert "foundry" in roles("TSMC")
    assert "memory" in roles("SK Hynix")
    assert "equipment" in roles("ASML")
    assert "eda" in roles("Synopsys")
    assert "investor" in roles("Bernstein")
    assert "investor" in roles("Morgan Stanley")
    assert "government" in roles("MITI")
    assert "government" in roles("CHIPS Program Office")
    assert "association" in roles("SEMI")
    assert "media" in roles("Reuters")
    assert "ai_lab" in roles("Anthropic")
    assert "hyperscaler" in roles("AWS")


# ---------------------------------------------------------------- alias table


@pytest.mark.parametrize(("alias", "canonical"), sorted(ALIAS_CASES["resolves"].items()))
def test_alias_resolves(kb: KnowledgeBase, alias: str, canonical: str) -> None:
    assert kb.canonical(alias) == canonical


@pytest.mark.parametrize("word", ALIAS_CASES["rejects"])
def test_ordinary_word_does_not_resolve(kb: KnowledgeBase, word: str) -> None:
    assert kb.lookup(word) is None


def test_no_case_insensitive_alias_is_a_stop_word(kb: KnowledgeBase) -> None:
    from spacy.lang.de.stop_words import STOP_WORDS as DE
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.es.stop_words import STOP_WORDS as ES
    from spacy.lang.fr.stop_words import STOP_WORDS as FR

    stop = {normalize_alias(w) for w in EN | FR | DE | ES}
    bad = [(a, e.key) for a, e, cs in kb.patterns() if not cs and normalize_alias(a) in stop]
    assert bad == []


def test_patterns_cover_every_entry(kb: KnowledgeBase) -> None:
    covered = {e.key for _, e, _ in kb.patterns()}
    assert covered == set(kb.entries)
    assert ("Apple", kb.get("apple"), True) in list(kb.patterns())
    assert {a: e for a, e in kb.aliases()}["Advanced Micro Devices"].key == "amd"


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("Nvidia Corp.", "nvidia"),
        ("The Walt Disney Company", "walt disney"),
        ("Taiwan Semiconductor Manufacturing Co., Ltd.", "taiwan semiconductor manufacturing"),
        ("ASML Holding N.V.", "asml holding"),
        ("Infineon Technologies AG", "infineon technologies"),
        ("Soitec S.A.", "soitec"),
        ("L.F. Rothschild", "l f rothschild"),
        ("X-FAB", "x fab"),
        ("Société Générale", "societe generale"),
        ("ＴＳＭＣ", "tsmc"),
        ("台积电公司", "台积电"),
        ("株式会社東芝", "東芝"),
        ("Co", "co"),
        ("  ", ""),
    ],
)
def test_normalize_alias(raw: str, norm: str) -> None:
    assert normalize_alias(raw) == norm


@pytest.mark.parametrize(
    ("name", "short"),
    [
        # Names as Reuters-21578 writes them (reuters21578-6961, -15160, -5291, -12083, -11225).
        ("Sanwa Bank Ltd", "Sanwa Bank"),
        ("Northern Telecom LTd", "Northern Telecom"),
        ("Oppenheimer and Co Inc", "Oppenheimer and Co"),
        ("Beeba's Creations Inc", "Beeba's Creations"),
        ("Barclays de Zoete Wedd Ltd", "Barclays de Zoete Wedd"),
        ("Toshiba Co., Ltd.", "Toshiba"),
        ("Casinos Austria AG", "Casinos Austria"),
        ("FW Woolworth and Co", "FW Woolworth and Co"),
        ("AG", "AG"),
    ],
)
def test_without_legal_form(name: str, short: str) -> None:
    # English joins, as ner/en.yaml's firm_conjunctions give them.
    assert without_legal_form(name, frozenset({"and", "&"})) == short


def test_normalize_alias_keeps_case_and_accents_when_not_folding() -> None:
    assert normalize_alias("Méta S.A.", fold=False) == "Méta"
    assert normalize_alias("Apple Inc.", fold=False) == "Apple"


# ---------------------------------------------------------------- validation errors


def test_valid_minimal_entry() -> None:
    kb = _build(_entry())
    assert kb.lookup("ACME corp") == KBEntry(
        key="acme", canonical="Acme", kind="org", roles=("chip_designer",), aliases=("Acme",), sources=("curated",)
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry(colour="red"), "unknown field"),
        (_entry(roles=["chipmaker"]), "unknown role"),
        (_entry(roles=[]), "at least one role"),
        (_entry(wikidata="182477"), "malformed Wikidata id"),
        (_entry(wikidata="Q0123"), "malformed Wikidata id"),
        (_entry(country="USA"), "alpha-2"),
        (_entry(parent="nobody"), "parent 'nobody'"),
        (_entry(kind="product", roles=[]), "needs a maker"),
        (_entry(kind="product", roles=[], maker="ghost"), "maker 'ghost'"),
        (_entry(kind="gadget"), "kind must be"),
        (_entry(chip="in_house"), "only products can be chips"),
        (_entry(kind="product", roles=[], maker="acme", chip=True), "chip must be one of"),
        (_entry(key="Acme Corp"), "snake_case"),
        (_entry(aliases=[], case_sensitive_aliases=[]), "at least one alias"),
        (_entry(sources=["wikipedia"]), "unknown source"),
        (_entry(former_names=[{"name": "Old Acme", "until": 1990}]), "ISO date"),
        (_entry(former_names=[{"name": "Old Acme"}]), "exactly 'name' and 'until'"),
        (_entry(former_names=[{"name": "B", "until": "2000-01-01"}, {"name": "A", "until": "1990-01-01"}]),
         "oldest first"),
    ],
)
def test_invalid_entries_name_the_entry(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(KBError, match=message) as info:
        _build(entry)
    assert "entry" in str(info.value)


def test_alias_shared_by_two_entries_is_an_error() -> None:
    with pytest.raises(KBError, match=r"entry 'acme_two'.*also belongs to entry 'acme'"):
        _build(_entry(), _entry(key="acme_two", canonical="Acme Two", aliases=["Acme Two", "ACME Inc."]))


def test_duplicate_key_and_parent_cycle() -> None:
    with pytest.raises(KBError, match="duplicate key"):
        _build(_entry(), _entry(aliases=["Other"]))
    with pytest.raises(KBError, match="loops"):
        _build(
            _entry(parent="beta"),
            _entry(key="beta", canonical="Beta", aliases=["Beta"], parent="acme"),
        )


def test_case_sensitive_alias_needs_exact_case() -> None:
    kb = _build(_entry(key="apple", canonical="Apple", aliases=[], case_sensitive_aliases=["Apple"]))
    assert kb.canonical("Apple") == "Apple"
    assert kb.canonical("Apple Inc.") == "Apple"
    assert kb.lookup("apple") is None
    assert kb.lookup("APPLE") is None


def test_bad_file_raises_kberror(tmp_path: Path) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text("entries: [\n", encoding="utf-8")
    with pytest.raises(KBError, match="invalid YAML"):
        parse_kb_file(path)
    path.write_text("companies: []\n", encoding="utf-8")
    with pytest.raises(KBError, match="unknown top-level"):
        parse_kb_file(path)
    with pytest.raises(KBError, match="cannot read"):
        parse_kb_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("published", "name"),
    [("1987-03-26T23:52:19", "Matsushita Electric Industrial"), ("2008-09", "Matsushita Electric Industrial"),
     ("2008-10-01", "Panasonic"), ("2024", "Panasonic"), (None, "Panasonic")],
)
def test_name_on_a_date_uses_the_former_name_before_the_change(kb: KnowledgeBase, published: str | None,
                                                                name: str) -> None:
    entry = kb.lookup("Matsushita")
    assert entry is not None and entry.canonical == "Panasonic"
    assert entry.name_on(published) == name


def test_former_names_are_listed_oldest_first_and_read() -> None:
    kb = _build(_entry(former_names=[{"name": "Acme Works", "until": "1980-01-01"},
                                     {"name": "Acme Industries", "until": "1999-06-30"}]))
    entry = kb.get("acme")
    assert entry is not None
    assert [entry.name_on(d) for d in ("1975", "1985-05-05", "2001")] == ["Acme Works", "Acme Industries", "Acme"]
