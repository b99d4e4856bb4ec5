"""Captures in headline grammar (trial 8, H1 and L1): a headline drops "was", so "X pact ratified by Y" is a passive
whose agent is Y, and X, the object, is not the actor; an agent no entity names ("by senators") gives no capture
rather than the object. When a capture takes none of the sentence's mentions, a detection grouped by it says so
and why, not "the sentence names no ...". Headlines and sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.explain_detections import Explainer

from .engine_helpers import Timeline, doc, engine_for

DPRK = engine_for("builtin:dprk_russia")

BLOCS = RulePack.model_validate(
    {
        "version": 2,
        "name": "headline-passive",
        "language": "en",
        "entities": {
            "NER": {"name": "Niger", "kind": "country", "aliases": ["Niger", "Nigerien", "Niamey"]},
            "MLI": {"name": "Mali", "kind": "country", "aliases": ["Mali", "Malian"]},
            "AU": {"name": "African Union", "kind": "organization", "aliases": ["African Union"]},
        },
        "signals": {
            "suspended": {
                "match": {"any": ["suspended", "suspends"]},
                "capture": {
                    "country": {"entities": ["NER", "MLI"]},
                    "by": {"entities": ["AU", "NER", "MLI"]},
                },
            },
            "deployed": {"match": "troops deployed", "capture": {"party": {"entities": ["NER", "MLI"]}}},
            "detained": {
                "match": {"all": ["detained", "soldiers"]},
                "near": 3,
                "capture": {"country": {"entities": ["NER", "MLI"]}},
            },
        },
        "detections": [
            {"id": "arrests", "title": "arrests in {country}", "pattern": {"any": "detained"}, "group_by": ["country"]}
        ],
    }
)
BLOC_RULES = compile_packs([BLOCS])


def _capture(rules, signal: str, name: str, *, title: str = "", body: str = "") -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    exp = explain_extraction(rules, doc(body, title=title))
    got = [c for s in exp.sentences for c in s.signals if c.signal == signal and c.matched]
    assert got, (title, body)
    cap = next(c for c in got[0].captures if c.name == name)
    return cap.value, cap.reason


@pytest.mark.parametrize(
    ("title", "party", "reason"),
    [
        # The active voice: the subject ratifies.
        ("Russian lawmakers ratify the partnership treaty with North Korea", "RUS", "the nearest mention before"),
        ("Duma votes to ratify the defence pact with Pyongyang", "RUS", "the nearest mention before"),
        ("Russia ratified the pact with North Korea by decree", "RUS", "the nearest mention before"),
        # The passive with "was", and the headline's passive without it: the agent after "by".
        ("The Pyongyang defence pact was ratified by Russia's upper chamber", "RUS", "the agent of a passive"),
        ("Pyongyang defence pact ratified by Russian deputies", "RUS", "the agent of a passive"),
        ("North Korean partnership treaty ratified by Russia's lower house", "RUS", "the agent of a passive"),
        ("North Korea pact formally ratified on Friday by Russia's parliament", "RUS", "the agent of a passive"),
        ("Kremlin welcomes partnership pact ratified by Pyongyang", "PRK", "the agent of a passive"),
        ("Defence treaty ratified by President Putin, North Korea says", "RUS", "the agent of a passive"),
    ],
)
def test_a_headline_names_the_party_that_ratified(title: str, party: str, reason: str) -> None:
    value, why = _capture(DPRK.rules, "treaty_ratification", "party", title=title, body="Russia and North Korea.")
    assert value == party and why.startswith(reason), (title, value, why)


def test_an_agent_that_no_entity_names_is_no_capture_rather_than_the_object() -> None:
    value, why = _capture(
        DPRK.rules,
        "treaty_ratification",
        "party",
        body="The North Korea defence pact was ratified by senators on Friday, Russian media reported.",
    )
    assert (value, why) == (None, "the agent of a passive ('by' after 'ratified') names no entity")
    value, why = _capture(
        DPRK.rules, "treaty_ratification", "party", title="North Korea pact ratified by lawmakers", body="In Russia."
    )
    assert value is None, why


def test_the_russian_passive_still_names_its_agent() -> None:
    for title, party in [
        ("Договор о партнерстве с КНДР ратифицирован Россией", "RUS"),
        ("Пакт с Россией ратифицирован Пхеньяном", "PRK"),
        ("Договор с КНДР ратифицировала Госдума", "RUS"),
    ]:
        value, why = _capture(DPRK.rules, "treaty_ratification", "party", title=title)
        assert value == party, (title, value, why)


def test_a_by_of_another_verb_or_of_place_names_no_agent() -> None:
    value, why = _capture(
        DPRK.rules, "treaty_ratification", "party", title="North Korea ratifies the pact in a move prompted by Moscow"
    )
    assert value == "PRK" and "agent" not in why, why
    value, why = _capture(BLOC_RULES, "deployed", "party", title="Nigerien troops deployed by the Malian border")
    assert value == "NER" and "agent" not in why, why


def test_a_bloc_suspends_a_country_in_both_voices() -> None:
    for title in [
        "Niger suspended by African Union over the coup",
        "Niger was suspended by the African Union",
        "African Union suspends Niger over the coup",
    ]:
        got = {n: _capture(BLOC_RULES, "suspended", n, title=title)[0] for n in ("country", "by")}
        assert got == {"country": "NER", "by": "AU"}, (title, got)


def test_ratifications_in_headline_passives_are_not_both_parties() -> None:
    """Four reports that Russia ratified, two as headline passives: Russia ratified, North Korea did not."""
    line = Timeline(DPRK)
    line.feed(
        doc("", title="Russian deputies ratify the partnership treaty with North Korea", at=0, source="Wire A"),
        doc("", title="Duma votes to ratify the defence pact with Pyongyang", at=2, source="Wire B"),
        doc("", title="Pyongyang defence pact ratified by Russian senators", at=300, source="Wire C"),
        doc("", title="North Korean partnership treaty ratified by Russia's upper chamber", at=301, source="Wire D"),
    )
    assert {d.rule for d in line.detections} == {"treaty-ratified"}
    assert {d.group.get("party") for d in line.detections} == {"RUS"}


def test_a_detection_says_which_mention_its_capture_did_not_take_and_why() -> None:
    ex = Explainer(Engine(BLOC_RULES))
    exp = ex.document(doc("Twelve detained soldiers pardoned by Mali's junta leader."))
    (check,) = [c for c in exp.detections if c.detection == "arrests"]
    assert check.kind == "group" and not check.fired
    assert check.reason == (
        "arrests groups by country; the sentence names MLI (Mali), not taken as its country: only the agent of "
        "another verb is named ('by' after 'pardoned')"
    ), check.reason
    exp = ex.document(doc("Twelve detained soldiers were pardoned on Friday."))
    (check,) = [c for c in exp.detections if c.detection == "arrests"]
    assert check.reason == "arrests groups by country; the sentence names no country"
