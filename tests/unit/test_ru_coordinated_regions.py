"""Coordinated adjectives before a shared noun name their own entities (outside trial 66, MED-1): «над Брянской,
Курской и Белгородской областями» names all three regions, the first named first, though only «Белгородской
областями» is an alias's two words. Sentences written for these tests."""

from __future__ import annotations

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.extract import Extractor

from .engine_helpers import doc


def _region(eid: str, name: str) -> dict[str, object]:
    return {"name": name, "kind": "place", "aliases": [name]}


PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "coordinated-regions",
        "language": "ru",
        "entities": {
            "BRY": _region("BRY", "Брянская область"),
            "KUR": _region("KUR", "Курская область"),
            "BEL": _region("BEL", "Белгородская область"),
            "KRD": _region("KRD", "Краснодарский край"),
            "PUT": {"name": "Путин", "kind": "person", "aliases": ["Владимир Путин"]},
        },
        "signals": {
            "downed": {"match": {"any": ["беспилотник*"]}, "capture": {"region": {"kind": "place"}}},
            "downed_bryansk": {"match": {"any": ["беспилотник*"]}, "mentions": {"all": ["BRY"]}},
        },
    }
)
RULES = compile_packs([PACK])


def _signal(text: str, name: str = "downed") -> tuple[tuple[str, ...], dict[str, str]] | None:
    got = [s for s in Extractor(RULES).extract(doc(text)) if s.name == name]
    return (got[0].places, dict(got[0].captures)) if got else None


def test_each_coordinated_adjective_names_its_region_and_the_first_is_captured() -> None:
    got = _signal("Ночью дежурные средства ПВО уничтожили беспилотники над Брянской, Курской и Белгородской областями.")
    assert got == (("BEL", "BRY", "KUR"), {"region": "BRY"})


def test_two_regions_joined_by_i() -> None:
    assert _signal("Над Курской и Белгородской областями сбиты беспилотники.") == (("BEL", "KUR"), {"region": "KUR"})


def test_a_signal_that_needs_the_elided_region_alone_fires() -> None:
    assert _signal("Беспилотники сбиты над Брянской и Курской областями.", "downed_bryansk") is not None
    assert _signal("Беспилотники сбиты над Курской и Белгородской областями.", "downed_bryansk") is None


def test_no_coordinator_no_elision_and_another_noun_does_not_join() -> None:
    # «в Брянской» stands before a preposition, not a coordinator: the adjective is not read as a region
    assert _signal("В Брянской над Курской областью сбиты беспилотники.") == (("KUR",), {"region": "KUR"})
    # «край» is another noun: «Курской» before «Краснодарском крае» names nothing
    assert _signal("Беспилотники сбиты в Курской и Краснодарском крае.") == (("KRD",), {"region": "KRD"})
    # a noun stops the reading: «Брянской границы» is not one of the coordinated regions
    got = _signal("Беспилотники у Брянской границы сбиты над Курской и Белгородской областями.")
    assert got == (("BEL", "KUR"), {"region": "KUR"})


def test_an_adjective_no_alias_starts_with_is_stepped_over() -> None:
    got = _signal("Беспилотники сбиты над Брянской, Тульской, Курской, Орловской и Белгородской областями.")
    assert got == (("BEL", "BRY", "KUR"), {"region": "BRY"})


def test_separate_aliases_stay_as_they_were() -> None:
    got = _signal("Беспилотники сбиты над Брянской областью и над Белгородской областью.")
    assert got == (("BEL", "BRY"), {"region": "BRY"})


def test_obl_abbreviation_reads_as_oblast() -> None:
    # outside trial 66, LOW-5: «Курской обл.» named no region; «обл.» is read as a form of an alias's «область»
    assert _signal("Над Курской обл. сбиты два беспилотника.") == (("KUR",), {"region": "KUR"})
    assert _signal("Беспилотники сбиты над Брянской и Курской обл. ночью.") == (("BRY", "KUR"), {"region": "BRY"})
