"""Session 12's cue readings (outside testers): "agreed to extend" reports an extension decided; "stressed the
importance of renewing", "called for extending" an appeal, not a renewal; a headline's "to" + a verb of causing
makes its object future ("… to Trigger Grain Deal Exit"); "will deny" a denial still to come; a Russian walk-back a
modal governs takes the modal's class; and the reading names the cue that governed a walk-back ("will backtrack
on"). Sentences written for these tests."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "session-12-cues",
        "language": ["en", "ru"],
        "signals": {
            "grain_extension": {
                "match": {
                    "all": [
                        {"any": ["extend", "renew", "prolong", "pay", "send"]},
                        {"any": ["grain deal", "grain pact", "corridor", "fees"]},
                    ]
                },
                "near": 6,
            },
            "grain_exit": {"match": {"all": [{"any": ["exit", "collapse"]}, {"any": ["grain deal", "grain pact"]}]}},
            "troops_killed": {"match": {"all": ["troops", "killed"]}, "near": 6},
            "troops_sent_ru": {
                "match": {"all": [{"any": ["направила", "отправила"]}, {"any": ["военных", "войска"]}]},
                "near": 6,
            },
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))
EXT, EXIT, KILLED, SENT_RU = "grain_extension", "grain_exit", "troops_killed", "troops_sent_ru"


def _modality(body: str, signal: str, title: str = "") -> str:
    return reading(_ENGINE, signal, body=body, title=title)[0]


@pytest.mark.parametrize(
    ("title", "body", "want"),
    [
        # The agreement is the extension: once agreed, the pact runs on.
        ("Moscow agrees to extend the Black Sea grain pact once more", "", "asserted"),
        ("", "Ankara said Russia had agreed to extend the grain deal for another 60 days.", "asserted"),
        ("", "Kyiv and Moscow agreed to quietly renew the grain pact on Monday.", "asserted"),
        # ... other acts agreed are still to be done, and a pledge or a promise stays a future.
        ("", "The shipping firms agreed to pay the corridor fees next quarter.", "future"),
        ("", "Russia pledged to extend the grain deal by summer.", "future"),
        ("", "Ankara hopes Moscow will agree to extend the grain pact.", "future"),
    ],
)
def test_agreed_to_extend_is_a_decision_made(title: str, body: str, want: str) -> None:
    """Outside testers: "Russia agrees to extend the grain deal again" read as future. Of the 2023 headlines "agree(s)
    to" + a verb, all eleven with extend/renew report the extension in force (truces, grain deal, a mandate, a
    detention); "agrees to pay / sell / send / plead" report an act still to be done (docs/rules.md)."""
    assert _modality(body, EXT, title) == want


@pytest.mark.parametrize(
    ("body", "want", "cue"),
    [
        ("The UN chief stressed the importance of renewing the grain deal in time.", "future", "importance of"),
        ("Ministers underlined the need for extending the grain pact.", "future", "need for"),
        ("The envoy emphasised the necessity of prolonging the grain deal.", "future", "necessity of"),
        ("Ankara called for extending the grain deal by a year.", "future", "called for"),
        ("The exporters' union urged renewing the grain pact.", "future", "urged"),
        # the goal cues read as before
        ("Ankara urged Moscow to extend the grain deal.", "future", "urged moscow to"),
        ("Ankara called on Moscow to extend the grain deal.", "future", "called on moscow to"),
    ],
)
def test_an_appeal_to_do_it_is_a_goal(body: str, want: str, cue: str) -> None:
    """Outside testers: "Guterres stressed the importance of renewing the grain deal" read as asserted. "the
    importance / need / necessity of", "called for", "urged" before an -ing verb are a goal (future), as "urged X to
    VERB" is: an appeal, not a report that the renewal happened."""
    assert reading(_ENGINE, EXT, body=body) == (want, cue)


@pytest.mark.parametrize(
    "body",
    [
        # before a noun they are no cue here: the deal named is the one in force
        "The UN chief stressed the importance of the grain deal, which was extended on Monday.",
        "Exporters called for calm after the grain deal was extended.",
    ],
)
def test_an_appeal_before_a_noun_is_no_cue(body: str) -> None:
    assert _modality(body, EXT) == "asserted"


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Kremlin Says New Tariffs to Trigger Grain Deal Exit", "future"),
        ("Analysts Expect Port Strikes to Spark Collapse of the Grain Pact", "future"),
        # after a verb of reaction the exit has happened; past a preposition or a conjunction it is no object
        ("Farmers Rally to Protest Grain Deal Exit", "asserted"),
        ("Exporters Meet to Discuss Grain Deal Exit", "asserted"),
        ("Tariffs to Trigger Price Rises as Grain Deal Exit Bites", "asserted"),
        # (a verb before the "to" makes it a purpose, read as before; an attempt is no future, but what was tried
        # may have failed: hedged, cues.ATTEMPT_VERBS_EN)
        ("Putin Signs Decree to Trigger Grain Deal Exit", "asserted"),
        ("Kremlin's Attempt to Trigger Grain Deal Exit Falls Flat", "hedged"),
    ],
)
def test_a_headline_infinitive_makes_its_object_future(title: str, want: str) -> None:
    """Outside testers: "Medvedev Says G-7 Export Ban to Trigger Grain Deal Exit" read as asserted: the exit is the
    object of the headline's "to Trigger", and so still to come."""
    assert _modality("", EXIT, title) == want


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Moscow will deny that its troops were killed near the border.", "future"),
        ("Moscow is expected to deny that its troops were killed near the border.", "future"),
        ("Moscow may deny that its troops were killed near the border.", "hedged"),
        # a denial done, or none made, reads as before
        ("Moscow denied that its troops were killed near the border.", "negated"),
        ("Moscow did not deny that its troops were killed near the border.", "negated"),
        ("Moscow would neither confirm nor deny that its troops were killed near the border.", "negated"),
    ],
)
def test_a_denial_still_to_come_denies_nothing_yet(body: str, want: str) -> None:
    """A future denial does not deny now: "will deny" takes the class of its modal, as "will retract" does. A
    negation before it keeps it a negation: "did not deny" is no confirmation (Putin's 2024 "neither confirm nor
    deny" of the troops is a negative of the key days' labels)."""
    assert _modality(body, KILLED) == want


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Киев может дезавуировать сообщение о том, что КНДР направила военных в Россию.", "hedged"),
        ("Киев может отозвать своё заявление о том, что КНДР направила военных в Россию.", "hedged"),
        ("Разведка намерена отказаться от своих слов о том, что КНДР направила военных.", "future"),
        ("Разведка отзовёт своё заявление о том, что КНДР направила военных в Россию.", "future"),
        ("Если Киев дезавуирует сообщение о том, что КНДР направила военных, переговоры продолжатся.", "conditional"),
        # a walk-back not made leaves the claim standing; one made denies it
        ("Киев не отозвал своё заявление о том, что КНДР направила военных в Россию.", "asserted"),
        ("Киев отозвал своё заявление о том, что КНДР направила военных в Россию.", "negated"),
        ("Киев дезавуировал сообщение о том, что КНДР направила военных в Россию.", "negated"),
    ],
)
def test_a_russian_walk_back_governed_by_a_modal(body: str, want: str) -> None:
    """As session 10's English "will backtrack on": "может дезавуировать" (hedged), "намерена отказаться от своих
    слов" (future), "отзовёт" (a perfective future), "не отозвал" (the claim stands)."""
    assert _modality(body, SENT_RU) == want


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("Seoul will retract its claim that North Korean troops were killed in Kursk.", ("future", "will retract")),
        ("China will backtrack on its claim that troops were killed.", ("future", "will backtrack on")),
        ("Seoul may walk back its report that troops were killed.", ("hedged", "may walk back its report")),
        ("Moscow will deny that its troops were killed near the border.", ("future", "will deny")),
    ],
)
def test_the_reading_names_the_cue_that_governed_a_walk_back(body: str, want: tuple[str, str]) -> None:
    """`rules explain` and the signal's cue said "backtrack on" for a walk-back "will" made future; they name the
    "will" now (the cue spans its governor)."""
    assert reading(_ENGINE, KILLED, body=body) == want


def test_rules_explain_names_the_will_of_a_walk_back() -> None:
    """`watchfloor rules explain` on the bundled pack: the signal's reason names the "will" that made the walk-back
    a future, not the walk-back's words alone ("future: cue 'backtrack on'" before)."""
    res = CliRunner().invoke(
        app,
        [
            "rules",
            "explain",
            "--rules",
            "builtin:dprk_russia",
            "--text",
            "Seoul will retract its claim that North Korean troops were killed in Kursk.",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "future: cue 'will retract'" in res.output, res.output
