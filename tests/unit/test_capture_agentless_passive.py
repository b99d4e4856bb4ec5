"""A passive of the signal's own verb with no "by" names no actor (outside trial 9, captures): in "North Korea
treaty ratified" or "Troops deployed to Kursk" the mention before the participle is what was acted on, and one
after it where or whence, so an agent capture takes none of them, where it used to take the object; a place is
still a place. Active sentences, and passives with a "by", read as before. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import Timeline, doc, engine_for

DPRK = engine_for("builtin:dprk_russia")

PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "agentless",
        "language": "en",
        "entities": {
            "PRK": {"name": "North Korea", "kind": "country", "aliases": ["North Korea", "North Korean"]},
            "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia", "Russian"]},
            "KURSK": {"name": "Kursk", "kind": "place", "aliases": ["Kursk"]},
        },
        "signals": {
            "deployed": {
                "match": {"any": ["deployed", "shot down", "=arrived"]},
                "capture": {"by": {"entities": ["PRK", "RUS"]}, "where": {"entities": ["KURSK", "RUS"]}},
            },
        },
    }
)
RULES = compile_packs([PACK])


def _capture(rules, signal: str, name: str, title: str, body: str = "") -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    exp = explain_extraction(rules, doc(body, title=title))
    got = [c for s in exp.sentences for c in s.signals if c.signal == signal and c.matched]
    assert got, title
    cap = next(c for c in got[0].captures if c.name == name)
    return cap.value, cap.reason


@pytest.mark.parametrize(
    ("title", "first"),
    [
        ("North Korea treaty ratified", "north korea"),
        ("North Korea defence pact ratified on Tuesday", "north korea"),
        ("The partnership treaty with Russia was ratified unanimously", "russia"),
        ("Russian upper house says North Korea pact has been formally ratified", "russian"),
    ],
)
def test_a_passive_without_by_names_no_party(title: str, first: str) -> None:
    value, why = _capture(DPRK.rules, "treaty_ratification", "party", title, body="Russia and North Korea.")
    assert value is None, (title, value, why)
    # and what `role: any` would take instead (the first named), for a capture of what was acted on
    assert (
        why == f"a passive with no agent ('ratified', no 'by'): what it names was acted on; `role: any` takes “{first}”"
    ), why


@pytest.mark.parametrize(
    ("title", "party"),
    [
        ("Russia ratified the partnership treaty with North Korea", "RUS"),
        ("North Korea ratifies the defence pact with Moscow", "PRK"),
        ("North Korea pact ratified by Russia's parliament", "RUS"),
        ("The treaty was ratified by North Korea's leader", "PRK"),
    ],
)
def test_active_sentences_and_passives_with_an_agent_read_as_before(title: str, party: str) -> None:
    value, why = _capture(DPRK.rules, "treaty_ratification", "party", title, body="Russia and North Korea.")
    assert value == party, (title, value, why)


def test_places_keep_their_capture_in_an_agentless_passive() -> None:
    assert _capture(RULES, "deployed", "by", "North Korean troops deployed to Kursk")[0] is None
    assert _capture(RULES, "deployed", "where", "North Korean troops deployed to Kursk")[0] == "KURSK"
    # A country among a capture's candidates is no place: a passive takes no party from it either.
    assert _capture(RULES, "deployed", "where", "Troops deployed to Russia")[0] is None
    # Active, and a particle verb with its object: the subject acts.
    assert _capture(RULES, "deployed", "by", "Russia deployed troops to Kursk")[0] == "RUS"
    assert _capture(RULES, "deployed", "by", "Russian air defence shot down 36 drones near Kursk")[0] == "RUS"
    assert _capture(RULES, "deployed", "by", "North Korean drones shot down over Kursk")[0] is None


def test_a_headline_passive_without_agent_raises_no_ratification_of_its_object() -> None:
    """The object's party is no ratifier: North Korea did not ratify when its treaty was ratified in Moscow."""
    line = Timeline(DPRK)
    line.feed(doc("", title="North Korea partnership treaty ratified in Moscow", at=0, source="Wire A"))
    assert [d for d in line.detections if d.rule == "treaty-ratified"] == []


def test_an_active_verb_before_a_preposition_is_no_passive() -> None:
    """Verbs that take a preposition or nothing in the active ("agreed to", "arrived in") are not read as passives
    without "be"; with it they are."""
    assert _capture(RULES, "deployed", "by", "North Korean troops arrived in Kursk")[0] == "PRK"
    assert _capture(RULES, "deployed", "by", "North Korean troops have arrived in Kursk")[0] == "PRK"


def test_the_owner_of_the_attack_in_which_it_happened_is_the_agent() -> None:
    """ "Killed in the Russian strike": the passive's agent is the attack's owner, not the speaker before it."""
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "attacks",
            "language": "en",
            "entities": {
                "RUS": {"name": "Russia", "kind": "country", "aliases": ["Russia", "Russian"]},
                "UKR": {"name": "Ukraine", "kind": "country", "aliases": ["Ukraine", "Ukrainian"]},
            },
            "signals": {"killed": {"match": "=killed", "capture": {"by": {"entities": ["RUS", "UKR"]}}}},
        }
    )
    rules = compile_packs([pack])
    value, why = _capture(rules, "killed", "by", "Ukraine says five people were killed in a Russian missile strike")
    assert (value, why) == ("RUS", "the agent of a passive ('killed' in its 'strike')")
    assert _capture(rules, "killed", "by", "Ukraine says five people were killed in Russia")[0] is None
