"""A headline is quoted as its source has it (trial 46, LOW-3: Slack's evidence quoted "…Ukraine Invasion." for a
title with no full stop). The engine reads the title as its own sentence with a full stop added (joined_text), and
still does: only the quote leaves that stop out. What the quote is never enters an id: the signal's (document, name,
sentence index), the alert's (its reports' ids) are the same with the stop or without it."""

from __future__ import annotations

from hashlib import sha256

import pytest

from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.slack_blocks import build_blocks
from watchfloor.schemas.events import Alert, joined_text

from .engine_helpers import Timeline, doc, engine_for

TITLE = "Russia, North Korea Sign Mutual Defense Deal as Kim Pledges Support for Ukraine Invasion"
BODY = "Putin and Kim signed the pact in Pyongyang on Wednesday, the Kremlin said."
ENGINE = engine_for("builtin:dprk_russia")


def quotes(title: str, body: str = BODY) -> list[tuple[int, str]]:
    return [
        (s.sentence_index, s.sentence) for s in ENGINE.extract(doc(body, title=title)) if s.name == "treaty_signing"
    ]


def test_the_headline_is_quoted_without_the_full_stop_the_engine_reads_after_it() -> None:
    assert joined_text(TITLE, BODY).startswith(TITLE + ".\n")  # read as a sentence, as before
    assert quotes(TITLE) == [(0, TITLE), (1, BODY)]  # the body's own full stop is kept


@pytest.mark.parametrize(
    ("title", "quoted"),
    [
        ("Russia, North Korea Sign Mutual Defense Deal?", "Russia, North Korea Sign Mutual Defense Deal?"),
        ("Russia, North Korea sign defense deal.", "Russia, North Korea sign defense deal."),  # the source's stop
        ('Russia, North Korea sign "defense deal"', 'Russia, North Korea sign "defense deal"'),
        ("Russia and <b>North Korea</b> sign   defense pact", "Russia and North Korea sign defense pact"),
    ],
)
def test_a_title_keeps_what_it_ends_with(title: str, quoted: str) -> None:
    assert quotes(title)[0] == (0, quoted)


def test_only_the_titles_last_sentence_loses_the_added_stop_and_a_body_sentence_keeps_its_own() -> None:
    # a two-sentence title: its last sentence (index 1) is the one the stop was added to
    assert quotes("Analysis. Russia, North Korea Sign Mutual Defense Deal")[0] == (
        1,
        "Russia, North Korea Sign Mutual Defense Deal",
    )
    # a body sentence with the same words as the title's end keeps its own full stop
    title = "Kim in Moscow. Russia, North Korea sign defense deal"
    got = quotes(title, "Russia, North Korea sign defense deal.")
    assert got == [(1, "Russia, North Korea sign defense deal"), (2, "Russia, North Korea sign defense deal.")]


def test_ids_are_those_of_the_document_signal_and_index_not_of_the_quote() -> None:
    d = doc(BODY, title=TITLE)
    [headline, _body] = [s for s in ENGINE.extract(d) if s.name == "treaty_signing"]
    assert headline.id == sha256(f"{d.id}\x1ftreaty_signing\x1f0".encode()).hexdigest()[:24]
    # and the alert's id: the same detection from a document whose title has its own full stop (quoted with it)
    with_stop = doc(BODY, title=TITLE + ".", doc_id=d.id)
    [a] = Timeline(ENGINE).feed(d)
    [b] = Timeline(ENGINE).feed(with_stop)
    assert a.id == b.id and a.evidence[0].sentence == TITLE and b.evidence[0].sentence == TITLE + "."


def test_slack_quotes_the_headline_as_its_source_has_it() -> None:
    [det] = Timeline(ENGINE).feed(doc(BODY, title=TITLE))
    blocks = build_blocks(notice_of(Alert(id=det.id, detection=det, channels=("desk",))))
    quoted = [
        b["text"]["text"] for b in blocks if isinstance(b.get("text"), dict) and b["text"]["type"] == "plain_text"
    ]
    assert any(TITLE in q for q in quoted), blocks
    assert not any(TITLE + "." in q for q in quoted), quoted
