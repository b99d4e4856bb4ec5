"""`rules check` warns where an English alias ends in a plural common noun: aliases read every form of their words, so
"West African countries" also reads "the West African country of Niger" (outside trial 44, L3). Names are not
warned about ("United States"). Aliases written for these tests."""

from __future__ import annotations

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs


def _warnings(*aliases: str, version: int = 2) -> list[str]:
    pack = RulePack.model_validate(
        {
            "version": version,
            "name": "alias-plural",
            "language": "en",
            "entities": {"BLOC": {"name": "The bloc", "kind": "organization", "aliases": list(aliases)}},
            "signals": {"met": {"match": {"all": [{"any": ["met"]}]}, "mentions": {"any": ["BLOC"]}}},
        }
    )
    return [w.message for w in compile_packs([pack]).warnings if "ends in a plural" in w.message]


def test_a_plural_common_noun_at_the_end_is_warned_about() -> None:
    said = _warnings("Coastal island states", "member countries")
    assert any("also reads 'Coastal island state'" in m and "'Coastal island =states'" in m for m in said), said
    assert any("also reads 'member country'" in m for m in said), said


def test_names_single_words_plural_marked_and_exact_packs_are_not() -> None:
    assert _warnings("United States", "Islanders", "member =countries", "Gulf") == []
    assert _warnings("member countries", version=1) == []
