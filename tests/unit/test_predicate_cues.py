"""A predicate after a noun-phrase signal (outside trial 28, F2): "Обмен пленными между Россией и Украиной не
состоялся", "Russia's ratification of the treaty did not take place", "… was postponed" read asserted, because the
cues governed only forward. A predicate of taking place, being held or being called off now governs the words before
it when they are its subject: negated ("не состоялся", "так и не произошла", "отложена", "did not take place", "was
postponed"), hedged ("может состояться", "may take place"), future ("состоится", "will take place"). Only then: a
verb between, a preposition's object, another clause, another subject leave the reading as it was. And an event
called off ("Kyiv postponed the exchange", "Киев сорвал обмен пленными") is negated, unless a negation or an attempt
governs the calling off. Sentences written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.schemas.rules import RulePack
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import compile_packs

from .engine_helpers import reading

_PACK = RulePack.model_validate(
    {
        "version": 2,
        "name": "predicate-cues",
        "language": ["en", "ru"],
        "signals": {
            "swap_en": {
                "match": {"all": [{"any": ["exchange", "swap"]}, {"any": ["prisoners", "prisoner"]}]},
                "near": 4,
            },
            "ratification_en": {"match": {"all": ["=ratification", "treaty"]}, "near": 6},
            "ratified_en": {"match": {"all": ["=ratified", "treaty"]}, "near": 4},
            "summit_en": {"match": {"any": ["summit"]}},
            "swap_ru": {"match": {"all": [{"any": ["обмен"]}, {"any": ["пленными"]}]}, "near": 3},
            "ratification_ru": {"match": {"all": ["ратификаци*", "договор"]}, "near": 4},
            "ratified_ru": {"match": {"all": ["ратифицировал*", "договор"]}, "near": 4},
        },
    }
)
_ENGINE = Engine(compile_packs([_PACK]))


def _read(signal: str, *, body: str = "", title: str = "") -> tuple[str, str | None]:
    return reading(_ENGINE, signal, body=body or "Prisoners.", title=title)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        ("swap_ru", "Обмен пленными между Москвой и Киевом не состоялся.", ("negated", "не состоялся")),
        ("swap_ru", "Обмен пленными в эти выходные так и не произошел.", ("negated", "так и не произошел")),
        ("swap_ru", "Обмена пленными на этой неделе пока не было.", ("negated", "не было")),
        ("swap_ru", "Обмен пленными отложен на неопределенный срок.", ("negated", "отложен")),
        ("swap_ru", "Обмен пленными был сорван в последний момент.", ("negated", "был сорван")),
        ("swap_ru", "Обмен пленными отложили на месяц.", ("negated", "отложили")),
        ("swap_ru", "Обмен пленными, запланированный на пятницу, не состоялся.", ("negated", "не состоялся")),
        ("swap_ru", "Обмен пленными может состояться уже в понедельник.", ("hedged", "может состояться")),
        ("swap_ru", "Обмен пленными состоится в следующий вторник.", ("future", "состоится")),
        ("swap_ru", "Обмен пленными должен состояться до конца месяца.", ("future", "должен состояться")),
        ("ratification_ru", "Ратификация договора депутатами отложена.", ("negated", "отложена")),
        ("ratification_ru", "Ратификация договора так и не состоялась.", ("negated", "так и не состоялась")),
    ],
)
def test_a_russian_predicate_governs_its_subject(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert _read(signal, body=body) == want


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        ("ratification_en", "Moscow's ratification of the treaty with Minsk did not take place.", "did not take place"),
        ("ratification_en", "The ratification of the treaty never happened.", "never happened"),
        ("ratification_en", "The ratification of the border treaty was postponed.", "was postponed"),
        ("ratification_en", "The ratification of the treaty has been called off.", "has been called off"),
        ("swap_en", "The exchange of prisoners between the two sides has not taken place.", "has not taken place"),
        ("swap_en", "The prisoner swap, however, did not go ahead.", "did not go ahead"),
        ("swap_en", "The prisoner swap was not held on Friday.", "was not held"),
    ],
)
def test_an_english_negated_predicate_negates_its_subject(signal: str, body: str, want: str) -> None:
    assert _read(signal, body=body) == ("negated", want)


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ("The prisoner swap may take place within days.", ("hedged", "may take place")),
        ("The prisoner swap could be postponed again.", ("hedged", "could be postponed")),
        ("The prisoner swap will take place on Friday.", ("future", "will take place")),
        ("The prisoner swap is scheduled to take place on Friday.", ("future", "is scheduled to take place")),
        ("The prisoner swap would take place only in spring.", ("conditional", "would take place")),
    ],
)
def test_an_english_predicate_hedges_or_defers_its_subject(body: str, want: tuple[str, str | None]) -> None:
    assert _read("swap_en", body=body) == want


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Prisoner swap postponed", ("negated", "postponed")),
        ("Prisoner swap delayed again amid talks", ("negated", "delayed")),
        ("Prisoner swap called off after shelling", ("negated", "called off")),
    ],
)
def test_a_headline_writes_the_predicate_without_its_auxiliary(title: str, want: tuple[str, str | None]) -> None:
    assert _read("swap_en", title=title) == want


@pytest.mark.parametrize(
    ("signal", "body"),
    [
        # It did happen.
        ("swap_ru", "Обмен пленными состоялся во вторник."),
        ("ratification_ru", "Ратификация договора прошла успешно."),
        ("swap_en", "The prisoner swap took place on Tuesday."),
        # A later, separate clause is negated.
        ("swap_ru", "Обмен пленными состоялся, но не все вернулись домой."),
        ("swap_en", "The prisoner swap took place, but not all of them came home."),
        ("swap_en", "The prisoner swap took place on Tuesday and a second round was postponed."),
        # Something else is the subject, or the words are a preposition's object.
        ("swap_ru", "После обмена пленными переговоры не состоялись."),
        ("swap_ru", "В ходе обмена пленными не было инцидентов."),
        ("swap_en", "After the prisoner swap, the summit did not take place."),
        # The signal is a clause of its own, the predicate another's.
        ("ratified_ru", "Парламент ратифицировал договор, встреча не состоялась."),
        ("ratified_en", "Parliament ratified the treaty, and the summit did not take place."),
        ("ratified_en", "Parliament ratified the treaty the summit was postponed."),
        # A relative clause between.
        ("swap_en", "The prisoner swap that was planned for May did not take place."),
        # "not postponed": it goes ahead.
        ("swap_ru", "Обмен пленными не отложен."),
        ("swap_en", "Prisoner swap not postponed"),
        # Not a predicate of taking place: "did not change anything" says something of a swap that happened.
        ("swap_en", "The prisoner swap did not change anything."),
        ("swap_ru", "Обмен пленными не стал неожиданностью."),
    ],
)
def test_what_a_predicate_does_not_govern_stays_asserted(signal: str, body: str) -> None:
    title = body if body == "Prisoner swap not postponed" else ""
    assert _read(signal, body="" if title else body, title=title) == ("asserted", None)


def test_a_predicate_of_talks_does_not_negate_their_object() -> None:
    # "did not take place" says so of the talks; the swap they were on is still to come (trial 56, H1: "talks on")
    assert reading(_ENGINE, "swap_en", body="Talks on the prisoner swap did not take place.") == ("future", "talks on")


def test_a_body_participle_after_its_noun_is_no_predicate() -> None:
    assert _read("swap_en", body="The prisoner swap, delayed by a week, took place on Tuesday.") == ("asserted", None)
    assert _read("summit_en", title="Anguish over cancelled summit talks") == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        ("swap_ru", "Киев сорвал обмен пленными.", ("negated", "сорвал")),
        ("ratification_ru", "Госдума отложила ратификацию договора.", ("negated", "отложила")),
        ("swap_ru", "Отложен обмен пленными между Москвой и Киевом.", ("negated", "отложен")),
        ("swap_en", "Kyiv postponed the prisoner swap.", ("negated", "postponed")),
        ("swap_en", "Moscow called off the exchange of prisoners.", ("negated", "called off")),
        ("summit_en", "Turkey cancels Swedish minister summit.", ("negated", "cancels")),
        # A cue that governs the calling off: still to come, or cancelled with it.
        ("swap_en", "Kyiv will postpone the prisoner swap.", ("future", "will postpone")),
        ("swap_en", "Kyiv did not postpone the prisoner swap.", ("asserted", None)),
        ("swap_ru", "Киев не отменил обмен пленными.", ("asserted", None)),
        # An attempt to call it off, a participle, and what is not the object, call nothing off.
        ("swap_en", "Hardliners tried to cancel the prisoner swap.", ("asserted", None)),
        ("swap_en", "The postponed prisoner swap took place on Tuesday.", ("asserted", None)),
        ("summit_en", "Trump cancels press conference on the summit.", ("asserted", None)),
    ],
)
def test_calling_an_event_off_negates_it(signal: str, body: str, want: tuple[str, str | None]) -> None:
    assert _read(signal, body=body) == want


def test_a_signal_after_the_predicate_keeps_the_cue_it_hid() -> None:
    # "не состоялся" hides its own "не"; a signal after it is still governed by that "не".
    assert _read("swap_ru", body="Не состоялся обмен пленными.") == ("negated", "не")
    assert _read("swap_en", body="Talks did not take place and no prisoner swap followed.")[0] == "negated"


@pytest.mark.parametrize(
    ("signal", "text", "want"),
    [
        ("swap_ru", "Обмен пленными, который намечался на среду, не состоялся.", ("negated", "не состоялся")),
        ("swap_ru", "Обмен пленными, о котором стороны договорились в мае, отложен.", ("negated", "отложен")),
        ("swap_ru", "Обмен пленными, назначенный на среду, сорван.", ("negated", "сорван")),
        (
            "swap_ru",
            "Обмен пленными с Киевом, который должен был пройти еще на прошлой неделе, отменен.",
            ("negated", "отменен"),
        ),
        ("swap_en", "The prisoner swap, which was agreed in May, did not go ahead.", ("negated", "did not go ahead")),
        ("swap_en", "The prisoner swap, originally scheduled for Monday, was postponed.", ("negated", "was postponed")),
    ],
)
def test_a_predicate_governs_its_subject_across_a_clause_set_off_by_commas(
    signal: str, text: str, want: tuple[str, str | None]
) -> None:
    # Outside trial 51, H2: a relative clause or participle phrase between commas says more of the subject; the
    # predicate after it still governs the subject, in a body sentence and in a headline.
    assert _read(signal, body=text) == want
    assert _read(signal, title=text.rstrip(".")) == want


@pytest.mark.parametrize(
    ("signal", "text"),
    [
        # The signal's words are inside the relative clause, or a preposition's object, or the comma is not closed.
        ("swap_ru", "Делегация, которая провела обмен пленными, не состоялась как команда."),
        ("swap_ru", "Переговоры об обмене пленными, которые шли неделю, не состоялись."),
        ("swap_en", "Officials, who said the prisoner swap took place, did not give numbers."),
        # Between commas, a clause of its own that opens with no relative word nor participle.
        ("swap_ru", "Обмен пленными, Киев отказался, не состоялся."),
        ("swap_en", "The prisoner swap, officials said, did not take place."),
    ],
)
def test_what_a_comma_pair_does_not_set_off_stays_as_it_was(signal: str, text: str) -> None:
    assert _read(signal, body=text) == ("asserted", None)


@pytest.mark.parametrize(
    ("signal", "body", "want"),
    [
        # Outside trial 51, H3: a counterfactual or an allegation in the predicate after the subject.
        ("swap_ru", "Обмен пленными мог бы состояться еще весной.", ("conditional", "мог бы состояться")),
        ("swap_ru", "Обмен пленными прошел бы спокойно, если бы не обстрел.", ("conditional", "прошел бы")),
        ("swap_ru", "Обмен пленными якобы состоялся на границе.", ("hedged", "якобы состоялся")),
        ("swap_ru", "По всей видимости, обмен пленными прошел ночью.", ("hedged", "по всей видимости")),
        ("swap_en", "The prisoner swap allegedly took place at the border.", ("hedged", "allegedly took place")),
        ("swap_en", "The prisoner swap was allegedly held at the border.", ("hedged", "was allegedly held")),
        # "reportedly" is how the news tells what it has from others: asserted, as an attributed report.
        ("swap_en", "The prisoner swap reportedly took place at the border.", ("asserted", None)),
        # Outside trial 51, M2: "предстоял", the past of "предстоит", was still to come.
        ("swap_ru", "Солдатам в самолете предстоял обмен пленными.", ("future", "предстоял")),
    ],
)
def test_a_counterfactual_or_alleged_predicate_after_the_subject(
    signal: str, body: str, want: tuple[str, str | None]
) -> None:
    assert _read(signal, body=body) == want
