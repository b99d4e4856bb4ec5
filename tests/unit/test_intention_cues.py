"""Intentions, proposals and the month "May" (outside trial 8, M3 and M4): "proposed sending troops", "offered to
send", "moves to ratify" in a body sentence, "is considering sending", "КНДР хочет направить", "предложение X
отправить", "страны, готовых отправить" are futures, not facts; "In May North Korea and Russia signed" and
"Theresa May said" hold the month or a name, not the modal "may", while "Troops may be deployed", "May troops be
sent?" and a title's "Russia May Sign Pact" stay hedged. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction

from .engine_helpers import doc, engine_for, reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "intention-cues",
        "language": ["en", "ru"],
        "signals": {
            "troops": {"match": {"all": [{"any": ["send", "deploy"]}, {"any": ["troops"]}]}, "near": 4},
            "treaty": {"match": {"all": [{"any": ["sign", "ratify"]}, {"any": ["treaty", "pact"]}]}, "near": 6},
            "coup": {"match": "seized power"},
            "войска": {
                "match": {
                    "all": [
                        {"any": ["направить", "отправить", "направила", "отправила"]},
                        {"any": ["войск*", "солдат*", "военн*"]},
                    ]
                },
                "near": 4,
            },
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, body: str, title: str = "") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body, title=title)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # Proposals and offers: before an -ing verb, or "to" + a verb.
        ("troops", "North Korea proposed sending troops to Russia.", ("future", "proposed")),
        ("troops", "Pyongyang proposes sending troops to Russia.", ("future", "proposes")),
        ("troops", "North Korea proposed to send troops to Russia.", ("future", "proposed to")),
        ("troops", "A proposal to send troops to Russia was tabled.", ("future", "proposal to")),
        ("troops", "North Korea offered to send troops to Russia.", ("future", "offered to")),
        # First steps, in a body sentence as in a title.
        ("treaty", "Russia's lower house moves to ratify the treaty, the speaker said.", ("future", "moves to")),
        # Deliberation.
        ("troops", "North Korea is considering sending troops to Russia.", ("future", "considering")),
        ("troops", "Kim mulls sending troops to Russia.", ("future", "mulls")),
        # The cues there were: unchanged.
        ("troops", "North Korea plans to send troops to Russia.", ("future", "plans to")),
        ("troops", "North Korea intends to send troops to Russia.", ("future", "intends")),
        ("troops", "North Korea seeks to send troops to Russia.", ("future", "seeks to")),
        ("troops", "North Korea is ready to send troops to Russia.", ("future", "ready to")),
        ("troops", "North Korea wants to send troops to Russia.", ("future", "wants to")),
    ],
)
def test_an_intention_or_proposal_is_a_future(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert _read(signal, body) == want


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # These words before a noun, or "to" + a noun or a place: no cue.
        ("treaty", "Russia ratified the proposed treaty on Tuesday."),
        ("treaty", "Considering the risks, Russia ratified the treaty."),
        ("treaty", "Russia signed the pact it had suggested a year earlier."),
        ("troops", "Moscow said it would not object, and Pyongyang went on to send troops."),
        ("troops", "Units moved to Kursk after Pyongyang agreed and began to send troops."),
        ("troops", "The aid offered to Russia came as North Korea began to deploy troops."),
        ("treaty", "Kim, who had proposed a summit, signed the treaty in Pyongyang."),
        # A step taken, not one to come: "move to" and "moved to" are no cue.
        ("treaty", "The court upheld Moscow's move to ratify the pact."),
        ("treaty", "The Duma moved to ratify the pact on Tuesday."),
        # "moves" the plural noun: steps taken.
        ("treaty", "Kyiv protested at Moscow's moves to ratify the pact."),
        ("treaty", "Kyiv protested at the recent moves to ratify the pact."),
    ],
)
def test_the_same_words_before_a_noun_are_no_cue(signal: str, body: str) -> None:
    assert _read(signal, body) == ("asserted", None)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        ("КНДР хочет направить военных в Россию.", "хочет"),
        ("Пхеньян хотел направить войска в Россию.", "хотел"),
        (
            "В Москве ответили на предложение президента Франции отправить солдат на Украину.",
            "предложение президента франции",
        ),
        ("Франция предложила отправить войска на Украину.", "предложила"),
        ("Макрон собирает коалицию стран, готовых отправить войска на Украину.", "готовых"),
        ("Страны, готовые отправить войска на Украину, встретятся в Париже.", "готовые"),
        ("Париж заявил о готовности отправить войска на Украину.", "готовности"),
        ("Россия подтвердила готовность направить войска.", "готовность"),
        # The cues there were: unchanged.
        ("Франция готова отправить войска на Украину.", "готова"),
        ("Франция намерена отправить войска на Украину.", "намерена"),
        ("Франция планирует отправить войска на Украину.", "планирует"),
        ("Франция собирается отправить войска на Украину.", "собирается"),
    ],
)
def test_a_russian_wish_proposal_or_readiness_is_a_future(body: str, cue: str) -> None:
    assert _read("войска", body) == ("future", cue)


@pytest.mark.parametrize(
    "body",
    [
        "Франция отправила войска на Украину.",
        # A wish or proposal without an infinitive, and a past act after it.
        "Франция хочет мира, и Россия направила войска на границу.",
        "После предложения Парижа Франция отправила войска на Украину.",
        # Readiness as a state, not an intention ("готовые образцы": finished samples).
        "Россия направила готовые образцы войскам на границе.",
        "Армия в полной боевой готовности, и Россия направила войска к границе.",
        "Армия приведена в боевую готовность: Россия направила войска к границе.",
    ],
)
def test_russian_acts_stay_asserted(body: str) -> None:
    assert _read("войска", body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        ("treaty", "In May North Korea and Russia signed a defence treaty."),
        ("treaty", "In May, North Korea and Russia signed a defence treaty."),
        ("coup", "In May, soldiers in Niger seized power."),
        ("coup", "Since May the army has seized power in two regions."),
        ("coup", "Soldiers seized power in late May."),
        ("treaty", "In late May North Korea and Russia signed a defence treaty."),
        ("treaty", "Last May North Korea and Russia signed a defence treaty."),
        ("treaty", "The two countries signed a treaty this May, officials said."),
        # Lower-cased text: after "in" the modal cannot stand.
        ("treaty", "in may north korea and russia signed a defence treaty."),
        # A name.
        ("treaty", "Theresa May said North Korea and Russia signed a treaty."),
    ],
)
def test_the_month_may_is_no_hedge(signal: str, body: str) -> None:
    assert _read(signal, body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "title"),
    [
        ("troops", "Troops may be deployed to Russia.", ""),
        ("troops", "May troops be sent to Russia?", ""),
        ("treaty", "North Korea and Russia may sign a treaty.", ""),
        ("treaty", "This may sign off the treaty within weeks.", ""),
        # A title in title case: a verb follows the capitalised modal.
        ("treaty", "", "North Korea and Russia May Sign Pact"),
        ("treaty", "", "Russia May Soon Ratify Pact With North Korea"),
        ("troops", "", "North Korea May Already Deploy Troops to Russia"),
        ("treaty", "", "Kim Asks: May We Sign the Pact?"),
        ("treaty", "", "Putin Says Russia May as Well Sign the Pact"),
        ("treaty", "", "North Korea May Re-Sign Pact With Russia"),
    ],
)
def test_the_modal_may_still_hedges(signal: str, body: str, title: str) -> None:
    assert _read(signal, body or "Seoul.", title) == ("hedged", "may")


def test_the_month_in_a_title_near_the_body() -> None:
    # "In May" opening a title and the body's first sentence: both the month.
    assert _read(
        "treaty",
        "In May, North Korea and Russia signed a defence treaty in Pyongyang.",
        title="In May North Korea and Russia Signed a Treaty",
    ) == ("asserted", None)


def test_explain_shows_no_may_cue_for_the_month() -> None:
    rules = engine_for("builtin:dprk_russia").rules
    for text in ("In May North Korea and Russia signed a defence treaty.", "In May, soldiers in Niger seized power."):
        exp = explain_extraction(rules, doc(text))
        cues = [c.words for s in exp.sentences for sig in s.signals for c in sig.cues]
        assert "may" not in cues, (text, cues)
    exp = explain_extraction(rules, doc("In May North Korea and Russia signed a defence treaty."))
    sig = next(c for s in exp.sentences for c in s.signals if c.signal == "treaty_signing")
    assert sig.matched and sig.modality == "asserted"
    modal = explain_extraction(rules, doc("North Korea and Russia may sign a defence treaty."))
    sig = next(c for s in modal.sentences for c in s.signals if c.signal == "treaty_signing")
    assert sig.modality == "hedged" and [(c.words, c.applied) for c in sig.cues] == [("may", True)]


def test_explain_shows_the_intention_cue() -> None:
    rules = engine_for("builtin:dprk_russia").rules
    exp = explain_extraction(
        rules,
        doc("Russia's lower house moves to ratify the treaty with North Korea, the speaker said."),
    )
    sig = next(c for s in exp.sentences for c in s.signals if c.signal == "treaty_ratification")
    assert sig.matched and sig.modality == "future" and sig.cue == "moves to"
    exp = explain_extraction(rules, doc("КНДР хочет направить военных в Россию."))
    sig = next(c for s in exp.sentences for c in s.signals if c.signal == "troop_deployment")
    assert sig.modality == "future" and sig.cue == "хочет"


# Russian threats and promises + an infinitive are futures, as the English "threatened to", "promised to" (outside
# trial 21, H3: "Лондон пригрозил ввести санкции против России" fired an alert). The first three are the trial's
# sentences; the rest written for these tests.
_SANCTIONS_RU = Engine(
    compile_packs(
        [
            RulePack.model_validate(
                {
                    "version": 2,
                    "name": "threat-cues",
                    "language": "ru",
                    "signals": {
                        "санкции": {
                            "match": {"all": [{"any": ["ввести", "ввели", "запретить"]}, {"any": ["санкци*", "ввоз"]}]},
                            "near": 6,
                        }
                    },
                }
            )
        ]
    )
)


@pytest.mark.parametrize(
    ("body", "cue"),
    [
        ("Лондон пригрозил ввести санкции против России.", "пригрозил"),
        ("Вашингтон пообещал ввести санкции против России.", "пообещал"),
        ("Вашингтон грозит ввести санкции против России.", "грозит"),
        ("Еврокомиссия пообещала запретить ввоз российского угля.", "пообещала"),
        ("Вашингтон угрожает ввести новые санкции.", "угрожает"),
        ("Минфин США обещает ввести санкции против банков.", "обещает"),
        ("Лондон грозится ввести санкции.", "грозится"),
        ("США пригрозили Китаю ввести санкции.", "пригрозили китаю"),
        ("Британия поклялась ввести санкции против России.", "поклялась"),
        ("Угроза ввести санкции не остановила Москву.", "угроза"),
        # The cues there were: unchanged.
        ("Вашингтон намерен ввести санкции против России.", "намерен"),
        ("Вашингтон планирует ввести санкции против России.", "планирует"),
        ("Вашингтон собирается ввести санкции против России.", "собирается"),
    ],
)
def test_a_russian_threat_or_promise_to_act_is_a_future(body: str, cue: str) -> None:
    assert reading(_SANCTIONS_RU, "санкции", body=body) == ("future", cue)


@pytest.mark.parametrize(
    "body",
    [
        # Before a noun they are no cue: the sanctions were imposed.
        "Вашингтон, который грозил Москве штрафами, ввел санкции против России.",
        "Стране грозит дефолт: США ввели санкции против ее банков.",
        # A decision reads as the act, as the English "decided to impose sanctions" does.
        "Евросоюз решил ввести санкции против России.",
        # The threat was made before the act, in another clause.
        "Лондон грозил Москве, и в итоге ввел санкции против России.",
    ],
)
def test_a_russian_threat_before_a_noun_or_a_decision_is_no_cue(body: str) -> None:
    assert reading(_SANCTIONS_RU, "санкции", body=body) == ("asserted", None)
