"""`mentions` in a rundown (outside trial 41, H1): a broadcaster's summary lists its stories in one sentence,
separated by ";" ("Смотрите в этом выпуске: A; B; C"). The signal's `mentions` is then read in the part its words
stand in, as captures are, so a name in another story neither satisfies nor excludes it; a lead's names before its
": " are the topic of every part. One ";" with no lead is ordinary prose and is read whole, as before. Sentences
written for these tests."""

from __future__ import annotations

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.extract import Extractor

from .engine_helpers import doc

PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "rundown-mentions",
        "language": ["en", "ru"],
        "entities": {
            "KRS": {"name": "Курская область", "kind": "place", "aliases": ["Курская область", "Kursk region"]},
            "UKR": {"name": "Украина", "kind": "country", "aliases": ["Украина", "ВСУ", "Ukraine", "Ukrainian"]},
            "ISR": {"name": "Израиль", "kind": "country", "aliases": ["Израиль", "Israel", "Israeli"]},
        },
        "signals": {
            "raid": {
                "match": {"any": ["атака", "атаку", "прорыв", "raid", "strike"]},
                "mentions": {"all": ["KRS"]},
                "capture": {"side": {"entities": ["UKR", "ISR"]}},
            },
            "strike_not_israel": {
                "match": {"any": ["strike", "атака"]},
                "mentions": {"any": ["UKR"], "none": ["ISR"]},
            },
        },
    }
)
RULES = compile_packs([PACK])


def _made(text: str, name: str = "raid") -> list[tuple[str, dict[str, str]]]:
    return [(s.sentence, dict(s.captures)) for s in Extractor(RULES).extract(doc(text)) if s.name == name]


def test_a_name_in_another_story_of_a_rundown_does_not_count() -> None:
    text = (
        "Смотрите в этом выпуске: беспрецедентная атака Израиля на соседей; "
        "жители Курской области получили новые выплаты."
    )
    assert _made(text) == []


def test_the_part_that_names_it_is_found_though_another_part_matches_first() -> None:
    text = (
        "Смотрите в этом выпуске: атака Израиля на соседей; прорыв ВСУ в Курскую область отражён; погода на выходные."
    )
    got = _made(text)
    assert len(got) == 1
    # the signal now stands in the Kursk story: its capture is that story's party, not Israel
    assert got[0][1] == {"side": "UKR"}


def test_a_three_part_rundown_without_a_lead_is_one_too() -> None:
    text = "Israeli jets strike targets abroad; a new bridge opens; the Kursk region votes on a budget."
    assert _made(text) == []


def test_one_semicolon_without_a_lead_is_prose_read_whole() -> None:
    # one story in two clauses: the strike is in the Kursk region, named in the other clause
    assert len(_made("Fighting spreads across the Kursk region; a Ukrainian strike hits a depot.")) == 1


def test_a_leads_names_are_the_topic_of_every_part() -> None:
    text = "Kursk region live: the governor speaks to reporters; a drone strike hits a depot overnight."
    assert len(_made(text)) == 1


def test_a_name_excluded_in_another_story_does_not_exclude() -> None:
    text = "In this issue: Israel opens a new port; a Ukrainian strike on a depot; snow in the north."
    assert len(_made(text, "strike_not_israel")) == 1
    # within the part it still excludes
    text = "In this issue: an Israeli strike after Ukraine's appeal; snow in the north; a new port opens."
    assert _made(text, "strike_not_israel") == []
    # and over the whole of an ordinary sentence
    assert _made("Israel condemned the Ukrainian strike; talks go on.", "strike_not_israel") == []


def test_explain_says_why_a_name_in_another_part_does_not_count() -> None:
    text = "Смотрите в этом выпуске: атака Израиля на соседей; жители Курской области получили выплаты."
    exp = explain_extraction(RULES, doc(text))
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "raid"]
    assert checks and not checks[0].matched
    assert "rundown" in checks[0].reason
    assert "a name in another part does not count" in checks[0].reason
    assert "KRS (Курская область)" in checks[0].reason
