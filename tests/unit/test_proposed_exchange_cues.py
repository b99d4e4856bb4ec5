"""An exchange proposed, agreed, discussed, of interest, an idea or a plan has not happened (outside trial 51, M4):
"Украина предложила России обмен пленными", "договорились об обмене", "Ukraine proposed a prisoner swap", "agreed
on a swap" read future, their object only. An earlier time fronted before the words is a recap (L2: "Год назад …",
"A year ago …"), and a hedge set off right after the subject hedges it (L2: "Обмен, по всей видимости, состоялся",
"The exchange, apparently, took place"). Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_ENGINE = Engine(
    compile_packs(
        [
            RulePack.model_validate(
                {
                    "version": 2,
                    "name": "proposed-exchange",
                    "language": ["en", "ru"],
                    "signals": {
                        "swap_ru": {"match": {"all": ["обмен", "пленными"]}, "near": 3},
                        "exchange_ru": {"match": {"all": ["военнопленных", "обмена"]}, "near": 4},
                        "truce_ru": {"match": {"any": ["перемирие", "прекращение огня"]}},
                        "meeting_ru": {"match": {"any": ["встреча", "визит", "теракт"]}},
                        "swap_en": {"match": {"any": ["prisoner swap", "prisoner exchange", "swap", "exchange"]}},
                        "swapped_en": {"match": {"any": ["exchanged prisoners"]}},
                        "truce_en": {"match": {"any": ["truce", "ceasefire"]}},
                        "release_en": {"match": {"any": ["release"]}},
                    },
                }
            )
        ]
    )
)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # proposed, an idea, a proposal: the exchange is still to come
        ("swap_ru", "Киев предложил Москве обмен пленными.", ("future", "предложил")),
        ("swap_ru", "Москва предлагает обмен пленными по формуле всех на всех.", ("future", "предлагает")),
        ("swap_ru", "Посредники передали сторонам предложение об обмене пленными.", ("future", "предложение об")),
        ("swap_ru", "Политик выступил с идеей перемирия и обмена пленными.", ("future", "идеей")),
        ("truce_ru", "Политик выступил с идеей перемирия и обмена пленными.", ("future", "идеей")),
        # an act agreed, discussed, of interest, dragged out
        ("swap_ru", "Стороны договорились об обмене пленными.", ("future", "договорились об")),
        ("swap_ru", "Лидеры обсудили обмен пленными по телефону.", ("future", "обсудили")),
        ("swap_ru", "Перемирие и обмен пленными министр обсудил с коллегой.", ("future", "обсудил")),
        ("swap_ru", "Москву интересует обмен пленными.", ("future", "интересует")),
        ("swap_ru", "Киев затягивает обмен пленными.", ("future", "затягивает")),
    ],
)
def test_a_proposal_or_agreement_defers_the_exchange_ru(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, signal, body=body) == want


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # a truce agreed is the news of a truce (only an act agreed is still to come)
        ("truce_ru", "Стороны договорились о прекращении огня."),
        # a meeting, a visit, an attack discussed happened
        ("meeting_ru", "Эксперты обсуждают встречу двух президентов."),
        ("meeting_ru", "Журналисты обсудили итоги визита президента."),
        ("meeting_ru", "В столице обсудили расследование теракта."),
        # not past a preposition, nor a fronted object after one
        ("swap_ru", "Стороны обсудили ситуацию после обмена пленными."),
        ("swap_ru", "После обмена пленными стороны обсудили ситуацию."),
        ("swap_ru", "Москва предложила помощь после обмена пленными."),
        # the exchange done, then the proposal
        ("swap_ru", "Россия и Украина провели обмен пленными, затем Киев предложил новый формат."),
    ],
)
def test_what_was_discussed_or_agreed_before_stays_asserted_ru(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        ("swap_en", "Kyiv proposed a prisoner swap to Moscow.", ("future", "proposed")),
        ("swap_en", "Moscow offered an exchange of captured soldiers.", ("future", "offered")),
        ("swap_en", "The two sides agreed on a prisoner swap.", ("future", "agreed on")),
        ("swap_en", "Both governments agreed to a prisoner exchange.", ("future", "agreed to")),
        (
            "swap_en",
            "The leaders discussed a ceasefire and a prisoner exchange by phone.",
            ("future", "discussed"),
        ),
        (
            "swap_en",
            "He praised the idea of a holiday truce and exchange.",
            ("future", "idea of"),
        ),
        ("swap_en", "Officials unveiled plans for a prisoner swap.", ("future", "plans for")),
        ("swap_en", "Kyiv made a proposal for a prisoner swap.", ("future", "proposal for")),
        ("release_en", "Mediators proposed the release of the hostages.", ("future", "proposed")),
    ],
)
def test_a_proposal_or_agreement_defers_the_exchange_en(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, signal, body=body) == want


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # announced, in English, reports the swap done; announced that it took place, too
        ("swap_en", "Kyiv announced a prisoner swap that brought home 90 soldiers."),
        ("swap_en", "Kyiv announced that the prisoner exchange took place."),
        # a truce agreed is the truce; an extension agreed is made
        ("truce_en", "The two sides agreed to a truce."),
        # two clauses: the demand, then the swap done
        ("swap_en", "Kyiv demanded a ceasefire and the swap went ahead."),
        # a release is often discussed once made: "discuss" governs an exchange or a handover only
        ("release_en", "The minister met reporters to discuss the release of two captives."),
        # "apparently" hedges the word right after it, not an attack further on
        ("truce_en", "He was apparently caught in the crossfire after the truce."),
    ],
)
def test_what_was_announced_or_agreed_as_done_stays_asserted_en(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        ("swap_ru", "Год назад Москва и Киев провели обмен пленными.", ("recap", "год назад")),
        ("swap_ru", "Пять лет назад обмен пленными прошел на границе.", ("recap", "пять лет назад")),
        ("swapped_en", "A year ago Moscow and Kyiv exchanged prisoners.", ("recap", "a year ago")),
        ("swapped_en", "Two years ago, Moscow and Kyiv exchanged prisoners.", ("recap", "two years ago")),
    ],
)
def test_a_fronted_earlier_time_is_a_recap(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, signal, body=body) == want


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # "ago" in another clause, or with no time before it
        ("swapped_en", "A year ago talks failed; today Moscow and Kyiv exchanged prisoners."),
        ("swap_ru", "Год назад переговоры сорвались, но сегодня обмен пленными прошел."),
    ],
)
def test_an_earlier_time_of_another_clause_is_no_recap(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        ("swap_ru", "Обмен пленными, по всей видимости, состоялся.", ("hedged", "по всей видимости")),
        ("swap_ru", "Обмен пленными, судя по всему, прошел ночью.", ("hedged", "судя по всему")),
        ("swap_en", "The exchange, apparently, took place.", ("hedged", "apparently")),
        ("swap_en", "The swap apparently went ahead on Sunday.", ("hedged", "apparently")),
    ],
)
def test_a_hedge_set_off_after_the_subject_hedges_it(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, signal, body=body) == want


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # the hedge after the object, of where: the exchange stands
        ("swap_ru", "Москва и Киев провели обмен пленными, видимо, в Стамбуле."),
        # "reportedly" reads as "как сообщается": asserted (docs/rules.md)
        ("swap_en", "The exchange has reportedly taken place."),
    ],
)
def test_a_hedge_elsewhere_leaves_the_subject_asserted(signal: str, body: str) -> None:
    assert reading(_ENGINE, signal, body=body) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # A perfective future before the words (L2; read since session 34, pinned here with the exchange's words).
        ("swap_ru", "Киев вернет Москве 60 военнопленных, обмен пленными пройдет на границе.", ("future", "пройдет")),
        ("exchange_ru", "Киев вернет Москве 60 военнопленных в рамках обмена.", ("future", "вернет")),
        ("swap_en", "Kyiv will return 60 captured soldiers in a prisoner exchange.", ("future", "will")),
    ],
)
def test_a_future_verb_before_the_words_defers_them(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert reading(_ENGINE, signal, body=body) == want
