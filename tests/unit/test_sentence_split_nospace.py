"""Sentence splitting without a space after the mark (audit 4, F4): feeds glue sentences together
("…военные.В Минобороны…", "…the truce…Hamas…"). A mark directly before a capital ends a sentence when it
closes a lower-case word of two or more letters, or any word for '!' and '?' (no abbreviation ends in them);
initials, abbreviations, decimals, domains, web addresses and dotted brand names keep whole. Sentences are
written for these tests."""

from __future__ import annotations

import pytest

from watchfloor.stream_processors.engine.scan import aligned_sentences
from watchfloor.stream_processors.engine.text import aligned_word_view, sentence_spans, split_sentences

from .engine_helpers import doc, engine_for


@pytest.mark.parametrize(
    ("text", "language", "want"),
    [
        (
            "Из плена освобождены российские военные.В Минобороны это опровергли.",
            "ru",
            ["Из плена освобождены российские военные.", "В Минобороны это опровергли."],
        ),
        (
            "Israel agreed to the truce…Hamas denied it.",
            "en",
            ["Israel agreed to the truce…", "Hamas denied it."],
        ),
        (
            "Israel agreed to the truce...Hamas denied it.",
            None,
            ["Israel agreed to the truce...", "Hamas denied it."],
        ),
        (
            "Переговоры продлятся до пятницы!Делегации уже прибыли.",
            "ru",
            ["Переговоры продлятся до пятницы!", "Делегации уже прибыли."],
        ),
        (
            "Will the ceasefire hold?Few observers think so.",
            "en",
            ["Will the ceasefire hold?", "Few observers think so."],
        ),
        # "!" and "?" end no abbreviation or initial: they end a sentence after a capitalised word too (trial 8, L7).
        (
            "Колонна военных КНДР прибыла в Россию!Так считают в разведке.",
            "ru",
            ["Колонна военных КНДР прибыла в Россию!", "Так считают в разведке."],
        ),
        (
            "Зачем делегация летала в Пхеньян?Ответа в МИД не дали.",
            "ru",
            ["Зачем делегация летала в Пхеньян?", "Ответа в МИД не дали."],
        ),
        (
            "Were the soldiers moved to Kursk?The ministry would not say.",
            "en",
            ["Were the soldiers moved to Kursk?", "The ministry would not say."],
        ),
        (
            "The convoy reached Moscow!Officials confirmed it later.",
            None,
            ["The convoy reached Moscow!", "Officials confirmed it later."],
        ),
        # Closing quotes stay with the sentence they close; opening ones go with the next.
        (
            'The minister said it was "over."The talks ended.',
            "en",
            ['The minister said it was "over."', "The talks ended."],
        ),
        (
            "Об этом сообщили в ведомстве.«Мы готовы», — сказал посол.",
            "ru",
            ["Об этом сообщили в ведомстве.", "«Мы готовы», — сказал посол."],
        ),
    ],
)
def test_a_mark_without_a_space_before_a_capital_ends_a_sentence(
    text: str, language: str | None, want: list[str]
) -> None:
    assert split_sentences(text, language) == want


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Указ подписал В.В.Путин в пятницу.", "ru"),  # initials without spaces
        ("Officials in the U.S.Navy confirmed the visit.", "en"),  # initials of a country
        ("Курсанты училища им.Кирова прошли парадом.", "ru"),  # an abbreviation of the list
        ("Курсанты училища им.Кирова прошли парадом.", None),
        ("The parade was led by Gen.Lee on Monday.", "en"),
        ("Митинг прошёл в г.Москва в субботу.", "ru"),  # a one-letter abbreviation
        ("The economy grew 3.5 percent last year.", "en"),  # a decimal
        ("Details are on example.com and on 1tv.ru today.", None),  # domains: lower case after the dot
        ("The award went to John Jr.Smith on Friday.", "en"),  # a capitalised word before the mark
        ("The exchange Binance.US stopped trading.", "en"),  # a dotted brand name
        ("Банки, в том числе «Дом.РФ», получили допуск.", "ru"),
        ("Sign up at example.com/newsletters?CMP=copy for updates.", "en"),  # a web address's query
        ("Users chatted with bots on character.AI last year.", "en"),  # an upper-case word after the mark
        ("Fans of the site chat.Gpt.com say so.", "en"),  # a word after the mark that runs on into a domain
        ("Be Afraid…Denver Wins Again", "en"),  # headline case: a capitalised word before the mark
    ],
)
def test_marks_inside_names_and_numbers_end_nothing(text: str, language: str | None) -> None:
    assert split_sentences(text, language) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Из плена освобождены российские военные.В Минобороны это опровергли.",
        "Israel agreed to the truce…Hamas denied it.",
        'The minister said it was "over."The talks ended. Then "silence."«Нет», — ответил он.',
    ],
)
def test_sentences_split_without_a_space_keep_the_word_view_aligned(text: str) -> None:
    # aligned_sentences (and the native word screen, which is given its sentence starts) reads each sentence's
    # words from the view: the same words as tokenising each sentence apart.
    view, aligned = aligned_word_view(text)
    assert aligned
    got = aligned_sentences(text, view, view.split(), None)
    assert got is not None
    pieces = [view[s + 1 : e + 1].split() for s, e in sentence_spans(text)]
    assert got[0] == [p for p in pieces if p]
    assert len(got[0]) > 1


@pytest.mark.parametrize(
    "text",
    [
        "North Korean troops were sent to Russia's border regions.The Kremlin denied it.",
        "North Korean troops were sent to Russia's border regions…The Kremlin denied it.",
        "Из КНДР в Россию направлены военные.В Кремле это опровергли.",
    ],
)
def test_a_denial_in_the_next_sentence_does_not_negate_this_one(text: str) -> None:
    got = [s for s in engine_for("builtin:dprk_russia").extract(doc(text)) if s.name == "troop_deployment"]
    assert got, text
    assert got[0].modality == "asserted", (got[0].modality, got[0].cue, got[0].sentence)
    assert got[0].sentence == split_sentences(text)[0]
