"""Refusals and failures (outside audit 4, F1): "refuses to / fails to / declines to VERB" reports that the verb's
action did not happen, in any tense and in a headline's present: the signal after it is negated, not asserted
("Israel refuses to approve truce with Hamas" fired a truce-agreed alert) nor future ("Israel declines to approve
truce"). "threatened to", "agreed to" keep their future; "declined to" + a noun or a number is a fall, not a
refusal. Russian: "отказался/отказывается подписать". Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "refusal-cues",
        "language": ["en", "ru"],
        "signals": {
            "truce": {
                "match": {"all": [{"any": ["agree", "reach", "approve"]}, {"any": ["truce", "ceasefire"]}]},
                "near": 10,
            },
            "strikes": {"match": "resume strikes"},
            "treaty": {
                "match": {
                    "all": [
                        {"any": ["подписать", "подписывать", "подписал"]},
                        {"any": ["соглашение", "договор"]},
                    ]
                },
                "near": 5,
            },
            "deal": {"match": {"any": ["договориться"]}},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, *, title: str = "", body: str = "Gaza hostages.") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


@pytest.mark.parametrize(
    ("title", "cue"),
    [
        ("Israel refuses to approve truce with Hamas", "refuses to"),
        ("Israel refused to approve truce with Hamas", "refused to"),
        ("Israel refusing to approve truce, officials say", "refusing to"),
        ("Israel refuse to approve truce as hostages wait", "refuse to"),
        ("Hamas fails to agree truce with Israel", "fails to"),
        ("Hamas failed to agree truce with Israel", "failed to"),
        ("Mediators failing to reach truce in Gaza", "failing to"),
        ("Israel declines to approve truce", "declines to"),
        ("Israel declined to approve truce", "declined to"),
        ("Cabinet declining to approve truce, Hamas says", "declining to"),
    ],
)
def test_a_refusal_in_a_headline_negates_the_verb_after_it(title: str, cue: str) -> None:
    assert _read("truce", title=title) == ("negated", cue)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        ("Israel refused to approve the truce.", "refused to"),
        ("Israel refuses to approve the truce with Hamas.", "refuses to"),
        ("Israel has been refusing to approve the truce for days.", "refusing to"),
        ("Hamas has failed to agree a truce with Israel.", "failed to"),
        ("Hamas fails to agree a truce, the mediators say.", "fails to"),
        ("Israel declined to approve the truce on Sunday.", "declined to"),
        ("Israel declines to approve the truce.", "declines to"),
        ("Israel refused to formally approve the truce.", "refused to"),
        # the nouns
        ("Israel's refusal to approve the truce angered Qatar.", "refusal to"),
        ("The failure to agree a truce left hostages in Gaza.", "failure to"),
        # calls to do it rejected (the existing denial cue)
        ("Israel rejected calls to approve the truce.", "rejected"),
    ],
)
def test_a_refusal_in_a_body_negates_the_verb_after_it(body: str, cue: str) -> None:
    assert _read("truce", body=body) == ("negated", cue)


@pytest.mark.parametrize(
    ("signal", "title", "body", "want"),
    [
        # Threats and agreements to act keep their future.
        ("strikes", "Israel threatens to resume strikes", "Gaza hostages.", ("future", "threatens to")),
        ("strikes", "", "Israel threatened to resume strikes.", ("future", "threatened to")),
        ("truce", "", "Israel agreed to approve the truce.", ("future", "agreed to")),
        ("truce", "Israel agrees to approve truce", "Gaza hostages.", ("future", "agrees to")),
        # An agreement made, a truce approved.
        ("truce", "Israel approves truce with Hamas", "Gaza hostages.", ("asserted", None)),
        ("truce", "", "Israel agreed to a truce on Sunday, a day after it refused to approve one.", ("asserted", None)),
        # A refusal after the signal's words does not reach back.
        ("truce", "", "Hamas approved the truce after Israel refused to release prisoners.", ("asserted", None)),
        # "declined to" + a noun or a number is a fall, not a refusal.
        ("truce", "", "Oil prices declined to their lowest level as the truce was approved.", ("asserted", None)),
        ("truce", "", "Exports declined to 5 percent after the truce was approved.", ("asserted", None)),
        # A refusal to confirm a report still denies it (the longer cue).
        (
            "truce",
            "",
            "Israel refused to confirm reports that Hamas had approved the truce.",
            ("negated", "refused to confirm"),
        ),
        # No comment is not a refusal of what follows: as before.
        ("truce", "", "Israel declined to comment on reports that Hamas had approved the truce.", ("asserted", None)),
        ("truce", "", "Qatar refused to comment on whether Israel approved the truce.", ("conditional", "whether")),
        ("treaty", "", "В Кремле отказались от комментариев о том, что Киев подписал договор.", ("asserted", None)),
        ("treaty", "", "Песков отказался комментировать, что Киев подписал договор.", ("asserted", None)),
    ],
)
def test_threats_agreements_and_falls_are_unchanged(
    signal: str, title: str, body: str, want: tuple[str, str | None]
) -> None:
    assert _read(signal, title=title, body=body) == want


@pytest.mark.parametrize(
    ("body", "signal", "cue"),
    [
        ("Киев отказался подписать соглашение о перемирии.", "treaty", "отказался"),
        ("Москва отказалась подписывать договор.", "treaty", "отказалась"),
        ("Стороны отказались подписать соглашение.", "treaty", "отказались"),
        ("Президент отказывается подписать договор.", "treaty", "отказывается"),
        ("Отказавшись подписать соглашение, делегация уехала.", "treaty", "отказавшись"),
        ("Стороны не смогли договориться о перемирии.", "deal", "не"),
    ],
)
def test_russian_refusals_negate_the_verb_after_them(body: str, signal: str, cue: str) -> None:
    assert _read(signal, body=body) == ("negated", cue)


# "stop(s / ped / ping) short of" + an -ing verb (outside trial 21, H2): the act was held back, as after "declined
# to". Real 2023 headlines and sentences written for these tests. It governs the word it leads to, or a signal in the
# phrase it opens ("stopping short of a total ban"), not a verb beyond it.
_WAR = Engine(
    compile_packs(
        [
            RulePack.model_validate(
                {
                    "version": 2,
                    "name": "stopped-short",
                    "signals": {
                        "war": {"match": {"all": [{"any": ["declared", "declaring"]}, "war"]}, "near": 4},
                        "sanctions": {"match": {"all": [{"any": ["imposed", "imposing"]}, "sanctions"]}, "near": 4},
                        "ban": {"match": "ban"},
                    },
                }
            )
        ]
    )
)


@pytest.mark.parametrize(
    ("signal", "title", "body", "cue"),
    [
        (
            "war",
            "Hezbollah's leader stops short of declaring all-out war against Israel, for now",
            "Beirut.",
            "stops short of",
        ),
        ("sanctions", "", "ECOWAS stopped short of imposing sanctions on Niger.", "stopped short of"),
        ("sanctions", "", "The bloc may stop short of imposing sanctions on Niger.", "stop short of"),
        ("sanctions", "", "Stopping short of imposing sanctions, ECOWAS sent envoys to Niamey.", "stopping short of"),
        ("sanctions", "", "ECOWAS stopped short of formally imposing sanctions.", "stopped short of"),
        (
            "ban",
            "G-7 Agrees to Curb Russian Diamond Imports, Stopping Short of Total Ban",
            "Hiroshima.",
            "stopping short of",
        ),
    ],
)
def test_stopping_short_of_an_act_negates_it(signal: str, title: str, body: str, cue: str) -> None:
    assert reading(_WAR, signal, body=body, title=title) == ("negated", cue)


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # A verb beyond the phrase it opens is not what was held back.
        ("sanctions", "The convoy stopped short of the border town before ECOWAS imposed sanctions on Niger."),
        # In another clause.
        ("sanctions", "Nigeria stopped short of the border; ECOWAS imposed sanctions on Niger."),
        # Not the cue: "short of" alone.
        ("sanctions", "ECOWAS imposed sanctions on Niger, short of cutting power supplies."),
    ],
)
def test_stopping_short_of_leaves_other_acts_asserted(signal: str, body: str) -> None:
    assert reading(_WAR, signal, body=body) == ("asserted", None)
