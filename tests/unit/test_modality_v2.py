"""Modality as a reader hears it (v2): cues before and after the words, cues overlapping them, neutral
phrases, clause breaks, English headline futures, the Russian future in the verb, denials. And captures
that follow grammar: passive agents in English and Russian. Sentences are written for these tests
(headlines paraphrased from real ones, or invented)."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import DATA, doc, engine_for

V2 = str(DATA / "rules" / "v2_features.yaml")
PACK = "builtin:dprk_russia"


def modality(text: str, signal: str, *, title: str = "", spec: str = PACK) -> tuple[str, str | None]:
    got = [s for s in engine_for(spec).extract(doc(text, title=title)) if s.name == signal]
    assert got, f"{signal} not found in {title!r} / {text!r}"
    return got[0].modality, got[0].cue


@pytest.mark.parametrize(
    ("title", "body", "signal", "want"),
    [
        # Future after the words (issue 12, point 3).
        (
            "",
            "North Korea and Russia exchange ratification instruments in the coming weeks.",
            "ratification_exchange",
            "future",
        ),
        (
            "",
            "Moscow and Pyongyang exchange instruments of ratification soon, officials said.",
            "ratification_exchange",
            "future",
        ),
        # ... but "soon after" is not a future (a neutral phrase cancels the cue it overlaps).
        (
            "",
            "Moscow and Pyongyang exchanged instruments of ratification soon after the vote.",
            "ratification_exchange",
            "asserted",
        ),
        # Headline future: "X to VERB".
        (
            "Moscow and Pyongyang to exchange instruments of ratification next month",
            "",
            "ratification_exchange",
            "future",
        ),
        ("North Korea to send troops to Russia, Seoul says", "", "troop_deployment", "future"),
        # ... not after a verb that makes it a purpose or a vote, and not in a body sentence.
        ("Russia's Duma votes to ratify partnership treaty with North Korea", "", "treaty_ratification", "asserted"),
        ("Putin signs law to ratify treaty with North Korea", "", "treaty_ratification", "asserted"),
        ("North Korean troops sent to Russia's Kursk region", "", "troop_deployment", "asserted"),
        # Denials before and after the words.
        (
            "",
            "Officials dismissed reports that North Korean troops had been sent to Russia, calling them fake.",
            "troop_deployment",
            "negated",
        ),
        (
            "",
            "Reports that North Korean troops were sent to Russia were dismissed as fake by Moscow.",
            "troop_deployment",
            "negated",
        ),
        (
            "",
            "North Korean troops have been sent to Russia, a claim the Kremlin denied.",
            "troop_deployment",
            "negated",
        ),
        # A cue does not reach into another clause.
        ("", "North Korean troops were sent to Russia, and more could follow soon.", "troop_deployment", "asserted"),
        (
            "",
            "Russia would not confirm it, but North Korean troops were sent to Russia.",
            "troop_deployment",
            "asserted",
        ),
        # Overlapping cues: the longest wins ("could not be independently verified" is a hedge, not a negation).
        (
            "",
            "North Korean troops were sent to Russia, which could not be independently verified.",
            "troop_deployment",
            "hedged",
        ),
        # Russian: cues, denials and the future in the verb.
        ("", "КНДР направила военных в Россию.", "troop_deployment", "asserted"),
        ("", "КНДР направит военных в Россию.", "troop_deployment", "future"),
        ("", "КНДР может направить военных в Россию.", "troop_deployment", "hedged"),
        ("", "КНДР не направляла военных в Россию.", "troop_deployment", "negated"),
        (
            "",
            "В Кремле опровергли сообщения о том, что КНДР направила военных в Россию.",
            "troop_deployment",
            "negated",
        ),
        (
            "",
            "Сообщения о том, что КНДР направила военных в Курскую область, в Москве назвали фейком.",
            "troop_deployment",
            "negated",
        ),
        ("", "Россия и КНДР обменялись ратификационными грамотами.", "ratification_exchange", "asserted"),
        ("", "Россия и КНДР обменяются ратификационными грамотами.", "ratification_exchange", "future"),
        ("", "Россия и КНДР обменяются грамотами в ближайшее время.", "ratification_exchange", "future"),
        ("", "Не только КНДР, но и Россия обменялись ратификационными грамотами.", "ratification_exchange", "asserted"),
    ],
)
def test_modality_cases(title: str, body: str, signal: str, want: str) -> None:
    assert modality(body, signal, title=title)[0] == want


def test_a_cue_overlapping_the_phrase_applies() -> None:
    # Issue 12, point 3: a pack cue "to ratify" overlapped the phrase "ratify" and was ignored.
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "overlap",
            "modality": {"future": ["moves to ratify"]},
            "signals": {"ratify": {"match": "ratify"}},
        }
    )
    engine = Engine(compile_packs([pack]))
    got = engine.extract(doc("Parliament moves to ratify the pact."))
    assert [(s.modality, s.cue) for s in got] == [("future", "moves to ratify")]
    # A cue that is wholly the signal's own phrase still does not count.
    own = RulePack.model_validate({"version": 2, "name": "own", "signals": {"nodeal": {"match": "no deal"}}})
    assert [s.modality for s in Engine(compile_packs([own])).extract(doc("There was no deal."))] == ["asserted"]


def test_pack_cues_after_and_neutral() -> None:
    pack = RulePack.model_validate(
        {
            "version": 2,
            "name": "after-cues",
            "modality": {"after": {"future": ["on the agenda"]}, "neutral": ["not yet clear"]},
            "signals": {"vote": {"match": "parliament votes"}},
        }
    )
    engine = Engine(compile_packs([pack]))
    assert engine.extract(doc("Parliament votes on the pact, on the agenda today."))[0].modality == "future"
    assert engine.extract(doc("Parliament votes; it is not yet clear how."))[0].modality == "asserted"


@pytest.mark.parametrize(
    ("text", "party"),
    [
        # English passive agents (issue 12, point 4).
        ("The treaty between Russia and North Korea was ratified by Russia's parliament.", "RUS"),
        ("The partnership treaty with Russia was ratified unanimously by North Korea's assembly.", "PRK"),
        ("The treaty with Russia was ratified by decree of North Korea's leader.", "PRK"),
        # Russian: the instrumental agent of a passive participle, either side of it; the subject.
        ("Договор с Россией ратифицирован КНДР.", "PRK"),
        ("Договор о партнерстве с КНДР ратифицирован Россией.", "RUS"),
        ("Госдумой ратифицирован договор о партнерстве с КНДР.", "RUS"),
        ("Госдума ратифицировала договор о партнерстве с КНДР.", "RUS"),
        ("Договор с КНДР ратифицировала Госдума.", "RUS"),
        ("КНДР ратифицировала договор с Россией.", "PRK"),
    ],
)
def test_passive_agents_and_subjects(text: str, party: str) -> None:
    got = [s for s in engine_for(PACK).extract(doc(text)) if s.name == "treaty_ratification"]
    assert got and got[0].captures == {"party": party}, [(s.name, s.captures) for s in got]


def test_not_any_by_is_an_agent() -> None:
    # "X joins the alliance in a move prompted by Y, as Z waits": Y did not join.
    got = engine_for(V2).extract(doc("Nordland joins the Alliance in a move prompted by Sudmark, as others wait."))
    assert [(s.name, s.captures) for s in got] == [("joined", {"member": "NORD"})]
    got = engine_for(V2).extract(doc("Nordland's membership was ratified by Sudmark."))
    assert [(s.name, s.captures) for s in got] == [("accession_ratified", {"party": "SUD"})]
