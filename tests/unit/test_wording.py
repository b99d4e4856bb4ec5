"""The wording tables of Slack messages (alerts/notifiers/wording.py): every language says every message, counted nouns
take the form their number asks for, and the config's languages are the tables' languages."""

from __future__ import annotations

import string
from typing import get_args

import pytest

from watchfloor.alerts.notifiers.wording import LANGUAGES, MESSAGES, NOUNS, SEVERITIES, Wording, plural_form, wording
from watchfloor.schemas.config import LanguageCode


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_config_languages_are_the_tables_languages() -> None:
    assert set(get_args(LanguageCode)) == set(LANGUAGES) == set(MESSAGES) == set(NOUNS) == set(SEVERITIES)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_english_message_has_a_translation(language: str) -> None:
    assert set(MESSAGES[language]) == set(MESSAGES["en"])
    assert set(NOUNS[language]) == set(NOUNS["en"]) and set(SEVERITIES[language]) == set(SEVERITIES["en"])
    for key, english in MESSAGES["en"].items():
        # a translation takes the values the English one is given (`{count}`: the number with its noun, which a
        # language may say where English says the bare number `{n}`)
        extra = placeholders(MESSAGES[language][key]) - placeholders(english) - {"count"}
        assert not extra, (key, extra)
        assert MESSAGES[language][key].strip(), key


def test_russian_nouns_have_three_forms_and_english_two() -> None:
    assert all(len(forms) == 2 for forms in NOUNS["en"].values())
    assert all(len(forms) == 3 for forms in NOUNS["ru"].values())


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "0 независимых источников"),
        (1, "1 независимый источник"),
        (2, "2 независимых источника"),
        (4, "4 независимых источника"),
        (5, "5 независимых источников"),
        (11, "11 независимых источников"),
        (12, "12 независимых источников"),
        (14, "14 независимых источников"),
        (21, "21 независимый источник"),
        (22, "22 независимых источника"),
        (25, "25 независимых источников"),
        (101, "101 независимый источник"),
        (111, "111 независимых источников"),
        (112, "112 независимых источников"),
        (122, "122 независимых источника"),
    ],
)
def test_russian_plural_forms(n: int, said: str) -> None:
    assert wording("ru").count(n, "independent_source") == said


def test_english_counts_as_before() -> None:
    words = Wording()
    assert [words.count(n, "independent_source") for n in (0, 1, 2)] == [
        "0 independent sources",
        "1 independent source",
        "2 independent sources",
    ]
    assert [plural_form("en", n) for n in (1, 2, 11, 21)] == [0, 1, 1, 1]


def test_reports_from_one_source_in_russian() -> None:
    words = wording("ru")
    text = words.text("reports_from", reports=words.count(2, "report"), sources=words.count(1, "source"))
    assert text == "2 сообщения из 1 источника"
    text = words.text("reports_from", reports=words.count(5, "report"), sources=words.count(1, "source"))
    assert text == "5 сообщений из 1 источника"


def test_a_severity_no_table_knows_is_shown_as_named() -> None:
    assert wording("ru").severity("high") == "ВЫСОКАЯ" and wording("ru").severity("extreme") == "EXTREME"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match=r"known: en, ru"):
        wording("de")


def test_a_russian_digest_is_worded_in_russian_and_an_english_one_as_before() -> None:
    from datetime import UTC, datetime

    from tests.fixtures.blockkit import message_problems
    from watchfloor.alerts.notice import Digest
    from watchfloor.alerts.notifiers.slack_blocks import digest_blocks, digest_title
    from watchfloor.schemas.events import Detection, Evidence

    at = datetime(2026, 7, 17, 9, tzinfo=UTC)
    ev = Evidence(
        event_id="1tv-1", signal="s", source="Первый канал", url="https://www.1tv.ru/news/1", published_at=at,
        sentence="Обмен пленными состоялся.", modality="asserted",
    )  # fmt: skip
    det = Detection(
        id="det0001", rule="pow-returned", title="Обмен пленными", severity="high", tags=(), group={"party": "RUS"},
        fired_at=at, confidence="unconfirmed", evidence=(ev,),
    )  # fmt: skip
    digest = Digest("dig-1", "sub-1", "desk", at, None, 0, 3, (det,), silenced=2)
    russian = digest_blocks(digest, wording("ru"))
    assert message_problems({"text": "x", "blocks": russian}) == []
    assert digest_title(digest, wording("ru")) == "Сводка watchfloor · 1 оповещение · 2026-07-17 09:00 UTC"
    said = str(russian)
    assert "[ВЫСОКАЯ, не подтверждено] Обмен пленными (pow-returned)" in said and "оповещение `det0001`" in said
    assert "заглушено: 2 · сводка dig-1" in said
    english = str(digest_blocks(digest))
    assert "[HIGH, unconfirmed] Обмен пленными (pow-returned)" in english and "2 silenced · digest dig-1" in english
    assert digest_title(digest) == digest.title()


@pytest.mark.parametrize("n", [1, 2, 5, 21])
def test_the_reports_not_shown_read_right_after_any_number_in_russian(n: int) -> None:
    # Outside trial 62, L2: «и ещё 2 не показано» (a number 2-4 takes «не показаны»); the count after a colon reads
    # right whatever the number.
    assert wording("ru").text("more_evidence", n=n) == f"не показано ещё: {n}"
