"""Sentence splitting: initials written without a space between the letters never end a sentence; a
letter after a numeral and a hyphen ("80-е.") is a word ending, not an initial, and can end one."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.text import split_sentences


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Указ подписал Президент РФ В.В. Путин в пятницу.", "ru"),
        ("Курсанты училища им. С.М. Кирова прошли парадом", "ru"),
        ("Курсанты училища им. С.М. Кирова прошли парадом", None),
        ("Senator J.D. Vance said the talks would resume.", "en"),
        ("A statement by T.S.A. Smith followed.", None),
        ("«Это решение, — заявил А.А. Громов, — окончательное».", "ru"),
    ],
)
def test_unspaced_initials_do_not_end_a_sentence(text: str, language: str | None) -> None:
    assert split_sentences(text, language) == [text]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "Ленинград, 70-е. Квартирные выставки собирают толпы.",
            ["Ленинград, 70-е.", "Квартирные выставки собирают толпы."],
        ),
        ("Сезон уже 12-й. Зрителей всё больше.", ["Сезон уже 12-й.", "Зрителей всё больше."]),
        ("Итоги года: 2023–й. Потери и победы.", ["Итоги года: 2023–й.", "Потери и победы."]),
    ],
)
def test_a_letter_after_a_hyphenated_numeral_is_no_initial(text: str, want: list[str]) -> None:
    assert split_sentences(text, "ru") == want


@pytest.mark.parametrize(
    "text",
    [
        "Письмо подписал В. В. Петров, глава комиссии.",  # spaced initials, as before
        "Встреча Н.-Ю. Кима прошла без прессы.",  # a hyphen after no digit: still an initial
    ],
)
def test_other_initials_unchanged(text: str) -> None:
    assert split_sentences(text, "ru") == [text]


def test_a_sentence_still_ends_after_an_ordinary_word() -> None:
    assert split_sentences("Переговоры в Москве завершились. Стороны подписали протокол.", "ru") == [
        "Переговоры в Москве завершились.",
        "Стороны подписали протокол.",
    ]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        # Review: dotted initials followed by a sentence's first word end the sentence (a cue of one sentence
        # must not reach the next).
        ("The envoy flew to Washington, D.C. The talks resumed on Monday.", 2),
        ("Sanctions were lifted by the U.A.E. The ministry confirmed it.", 2),
        ("They chose plan B. It failed within a week.", 2),
        # Initials before a name still keep.
        ("J.D. Vance said the talks would resume.", 1),
        ("Президент РФ В.В. Путин подписал закон.", 1),
    ],
)
def test_initials_before_a_sentence_start_end_the_sentence(text: str, sentences: int) -> None:
    assert len(split_sentences(text, "en" if text.isascii() else "ru")) == sentences
