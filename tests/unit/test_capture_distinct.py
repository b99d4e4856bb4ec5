"""A signal's captures take different entities (outside trial 81, F3): with `actor: {entities: [...]}` and `partner:
{entities: [...], role: any}` over the same countries, a sentence naming only Russia gave the pair (Russia, Russia),
and such self-pairs opened stories ("Russia military ties with Russia"). The actor role's captures are read first,
then the others, each without what the ones before took; `distinct: false` lets a capture take the same entity (where
a domestic act happened). Headlines written for these tests."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from watchfloor.schemas.rules import CaptureDef, RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import CompiledRules, compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc

ENTITIES = {
    "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia", "Moscow", "Russian"]},
    "PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea", "Pyongyang"]},
    "CHN": {"name": "China", "kind": "country", "aliases": ["China", "Beijing"]},
    "UKR": {"name": "Ukraine", "kind": "country", "aliases": ["Ukraine", "Ukrainian"]},
}
PARTIES = ["RUS", "PRK", "CHN"]
ACTOR = {"entities": PARTIES}
PARTNER = {"entities": PARTIES, "role": "any"}


def _rules(captures: dict[str, Any], match: list[str] | None = None) -> CompiledRules:
    signal = {"match": {"any": match or ["military ties"]}, "capture": captures}
    pack = {"version": 2, "name": "ties", "entities": ENTITIES, "signals": {"ties": signal}}
    return compile_packs([RulePack.model_validate(pack)])


def _values(rules: CompiledRules, text: str, title: str = "") -> dict[str, str]:
    [sig] = [s for s in Engine(rules).extract(doc(text, title=title)) if s.name == "ties"]
    return sig.captures


def _reasons(rules: CompiledRules, text: str) -> dict[str, tuple[str | None, str]]:
    exp = explain_extraction(rules, doc(text))
    [got] = [c for s in exp.sentences for c in s.signals if c.signal == "ties" and c.matched]
    return {c.name: (c.value, c.reason) for c in got.captures}


PAIR = _rules({"actor": ACTOR, "partner": PARTNER})
# The same captures written the other way round: the actor's is still read first.
PAIR_REVERSED = _rules({"partner": PARTNER, "actor": ACTOR})


@pytest.mark.parametrize("rules", [PAIR, PAIR_REVERSED], ids=["actor-first", "partner-first"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russia deepens military ties", {"actor": "RUS"}),
        ("Russia deepens military ties with North Korea", {"actor": "RUS", "partner": "PRK"}),
        ("North Korea deepens military ties with Russia", {"actor": "PRK", "partner": "RUS"}),
        # The partner named first: role any takes the first the actor did not take.
        ("Pyongyang hails military ties with Moscow", {"actor": "PRK", "partner": "RUS"}),
    ],
)
def test_an_actor_and_its_partner_are_never_one_entity(
    rules: CompiledRules, text: str, expected: dict[str, str]
) -> None:
    assert _values(rules, text) == expected


def test_the_values_keep_the_packs_order() -> None:
    assert list(_values(PAIR_REVERSED, "Russia deepens military ties with North Korea")) == ["partner", "actor"]


def test_explain_says_the_only_candidate_went_to_the_other_capture() -> None:
    got = _reasons(PAIR, "Russia deepens military ties")
    assert got["partner"] == (
        None,
        "no candidate named is left: capture 'actor' took \u201crussia\u201d (RUS) (a signal's captures take different "
        "entities; `distinct: false` lets a capture take one another took)",
    )
    value, reason = _reasons(PAIR, "Russia deepens military ties with North Korea")["partner"]
    assert value == "PRK"
    assert "that no other capture took (capture 'actor' took \u201crussia\u201d (RUS))" in reason, reason


def test_three_captures_take_three_entities() -> None:
    rules = _rules({"actor": ACTOR, "partner": PARTNER, "third": PARTNER})
    text = "Russia deepens military ties with North Korea and China"
    assert _values(rules, text) == {"actor": "RUS", "partner": "PRK", "third": "CHN"}
    assert _values(rules, "Russia deepens military ties with North Korea") == {"actor": "RUS", "partner": "PRK"}
    _value, reason = _reasons(rules, "Russia deepens military ties with North Korea")["third"]
    assert (
        "capture 'actor' took \u201crussia\u201d (RUS); capture 'partner' took \u201cnorth korea\u201d (PRK)" in reason
    )


def test_a_second_actor_capture_takes_no_other_mention_for_the_actor() -> None:
    # The actor is Russia; Ukraine is the target of the strikes, and the grammar names no other actor.
    rules = _rules({"striker": {"entities": ["RUS", "UKR"]}, "also": {"entities": ["RUS", "UKR"]}}, ["strikes"])
    text = "Russia launches strikes on Ukraine"
    assert _values(rules, text) == {"striker": "RUS"}
    value, reason = _reasons(rules, text)["also"]
    assert value is None and reason.startswith("its actor is taken: capture 'striker' took \u201crussia\u201d (RUS)")


def test_a_kind_capture_of_where_it_happened_may_be_the_actors_own_unless_distinct() -> None:
    # The first country named, where it happened, is the actor's own in a domestic act: not distinct unless said.
    striker = {"entities": ["RUS", "UKR"]}
    rules = _rules({"striker": striker, "country": {"kind": "country"}}, ["strikes", "protest"])
    assert _values(rules, "Russia launches strikes on Ukraine") == {"striker": "RUS", "country": "RUS"}
    assert _values(rules, "Ukraine braces for a nationwide protest") == {"striker": "UKR", "country": "UKR"}
    rules = _rules({"striker": striker, "country": {"kind": "country", "distinct": True}}, ["strikes"])
    assert _values(rules, "Russia launches strikes on Ukraine") == {"striker": "RUS", "country": "UKR"}
    # Of the actor role, a kind capture is one: the partner takes another country.
    rules = _rules({"actor": {"kind": "country", "role": "actor"}, "partner": PARTNER})
    assert _values(rules, "Russia deepens military ties") == {"actor": "RUS"}


def test_distinct_false_keeps_the_same_entity_possible() -> None:
    # Where a domestic act happened is the actor's own country: the capture says so.
    rules = _rules({"actor": ACTOR, "where": {**PARTNER, "distinct": False}}, ["purges"])
    assert _values(rules, "Pyongyang purges top generals") == {"actor": "PRK", "where": "PRK"}
    assert _values(_rules({"actor": ACTOR, "where": PARTNER}, ["purges"]), "Pyongyang purges top generals") == {
        "actor": "PRK"
    }


def test_a_fallback_takes_none_the_captures_read_before_it_took() -> None:
    rules = _rules({"actor": ACTOR, "partner": {**PARTNER, "fallback": "headline"}})
    title = "Moscow and Pyongyang draw closer"
    assert _values(rules, "Russia deepens military ties.", title) == {"actor": "RUS", "partner": "PRK"}


def test_a_gdelt_capture_takes_no_distinct() -> None:
    with pytest.raises(ValidationError, match="no distinct"):
        CaptureDef.model_validate({"gdelt": "actor1_country", "distinct": False})
