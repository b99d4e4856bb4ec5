"""A signal's words in a rundown (outside trial 47, H2): a headline that lists stories after a lead ("Israel-Gaza live
updates: A; B") made a signal of words from two of them ("hostage talks" of one story, "Israel releases" photos of
the next → "Hostages released"). The words of a signal (all its `all` conditions, within its `near`) now stand in
one part, as its `mentions` do; one ";" with no lead is still one story. Headlines shaped as the 2023 corpus's (the
first two are its own)."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.extract import Extractor

from .engine_helpers import doc

PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "rundown-words",
        "language": "en",
        "entities": {
            "ISR": {"name": "Israel", "kind": "country", "aliases": ["Israel", "Israeli"]},
            "HAMAS": {"name": "Hamas", "kind": "organization", "aliases": ["Hamas"]},
        },
        "signals": {
            "hostages_freed": {
                "match": {"all": [{"any": ["hostage", "hostages"]}, {"any": ["release", "releases", "freed"]}]},
                "near": 8,
                "mentions": {"any": ["ISR", "HAMAS"]},
            },
            "truce_agreed": {
                "match": {"all": [{"any": ["truce", "ceasefire"]}, {"any": ["agree", "approves", "strike"]}]},
            },
        },
    }
)
RULES = compile_packs([PACK])


def _made(text: str, name: str) -> list[str]:
    return [s.sentence for s in Extractor(RULES).extract(doc(text)) if s.name == name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # the corpus's own (Washington Post, 16 and 21 Nov 2023)
        (
            "Israel-Gaza war live updates: Biden 'deeply involved' in hostage talks; "
            "Israel releases photos from al-Shifa raid",
            "hostages_freed",
        ),
        (
            "Israel-Gaza live updates: Gaza's Indonesian Hospital reels from strike; "
            "Hamas signals 'truce deal' is near",
            "truce_agreed",
        ),
        # the trial's reproduction, and a signal with no `mentions` at all
        ("World news: Israel approves budget; Hamas fighters seen in truce zone", "truce_agreed"),
        # three parts without a lead are a rundown too
        ("Hostage families march in Tel Aviv; Israel releases new figures; snow in the north", "hostages_freed"),
    ],
)
def test_words_of_two_stories_of_a_rundown_make_no_signal(text: str, name: str) -> None:
    assert _made(text, name) == []


def test_the_words_in_one_part_still_make_it_and_stand_in_that_part() -> None:
    text = "Israel-Gaza live: Hamas releases 13 Israeli hostages; Biden speaks to Netanyahu; hostage talks go on"
    assert len(_made(text, "hostages_freed")) == 1
    # the first words of the sentence are across a ";", the part that holds all of them is found
    text = "Israel-Gaza live: hostage talks resume; Hamas says it freed two hostages; aid trucks enter"
    assert len(_made(text, "hostages_freed")) == 1
    # the smallest window ("hostage; release") is across the ";": the part that holds all the words is found
    text = "Live: Biden meets families of a hostage; release of 13 hostages agreed by Hamas"
    got = [s for s in Extractor(RULES).extract(doc(text)) if s.name == "hostages_freed"]
    assert len(got) == 1


def test_one_semicolon_without_a_lead_is_one_story_read_whole() -> None:
    # docs/rules.md: one ";" with no lead joins two clauses of one story
    assert len(_made("Hamas holds 240 hostages; Israel demands they be freed", "hostages_freed")) == 1


def test_explain_says_the_words_are_in_two_parts() -> None:
    text = "World news: Israel approves budget; Hamas fighters seen in truce zone"
    exp = explain_extraction(RULES, doc(text))
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "truce_agreed"]
    assert checks and not checks[0].matched
    assert checks[0].reason.startswith("words: the sentence is a rundown")
    assert "no part holds all the signal's words" in checks[0].reason
    text = "Israel-Gaza war live updates: Biden in hostage talks; Israel releases photos from al-Shifa raid"
    exp = explain_extraction(RULES, doc(text))
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "hostages_freed"]
    assert checks and "within near: 8" in checks[0].reason
