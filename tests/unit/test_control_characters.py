"""Feed text reaches operators' terminals (the console notifier, `backtest`, `rules explain`): an ESC sequence in a
title could clear the screen, forge lines or plant links (security review, finding 6). A document's title, body and
source name keep tab and line breaks and lose every other control character: U+FFFD in its place, or the
Windows-1252 character a C1 control stands for (U+0092 for ’, as text read with the wrong codec has it). Its id is
that of the text as given, so cleaning never makes a seen document new. Strings written for these tests."""

from __future__ import annotations

import orjson
import pytest

from watchfloor.producers.feed_entries import FeedEntry, entry_id
from watchfloor.schemas.inputs import InputError, check_json_line, derive_id, has_control, parse_document, visible_text

_RAW = {
    "type": "news.article",
    "published_at": "2024-10-24T10:00:00Z",
    "source": "Wire\x1b[2J",
    "title": "Duma ratifies\x1b]8;;https://evil.example\x1b\\ treaty\x07",
    "body": "Lawmakers voted 397\u20130.\tIt\x92s done.\r\nNext: the upper house\x9b2J.",
}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, nothing to do", "plain text, nothing to do"),
        ("tab\tand\nbreaks\r\nstay", "tab\tand\nbreaks\r\nstay"),
        ("\x1b[31mred\x1b[0m", "\ufffd[31mred\ufffd[0m"),
        ("bell\x07 and delete\x7f", "bell\ufffd and delete\ufffd"),
        ("It\x92s \x85", "It\u2019s \u2026"),  # Windows-1252 read as Latin-1
        ("\x81\x8d", "\ufffd\ufffd"),  # (no Windows-1252 character there)
        ("Wire B\u202egnp.exe", "Wire B\ufffdgnp.exe"),  # a bidi override (audit9), not the marks RTL text needs
        ("\u200f\u05e9\u05dc\u05d5\u05dd\u202b\u05e2\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd\u202b\u05e2\u202c"),
    ],
)
def test_visible_text(text: str, shown: str) -> None:
    assert visible_text(text) == shown


def test_a_document_keeps_no_control_character_and_its_id() -> None:
    doc = parse_document(dict(_RAW))
    for text in (doc.title, doc.body, doc.source.name if doc.source else ""):
        assert not any((ord(c) < 32 and c not in "\t\r\n") or 0x7F <= ord(c) <= 0x9F for c in text)
    assert doc.title == "Duma ratifies\ufffd]8;;https://evil.example\ufffd\\ treaty\ufffd"
    assert "It\u2019s done." in doc.body and doc.source is not None and doc.source.name == "Wire\ufffd[2J"
    assert doc.id == derive_id(_RAW, _RAW["title"], _RAW["body"], _RAW["source"])


def test_the_json_line_fast_path_cleans_alike() -> None:
    checked = check_json_line(orjson.dumps(_RAW))
    assert checked is not None
    assert checked.build() == parse_document(dict(_RAW))


def test_an_id_with_a_control_character_is_refused_and_a_url_cleaned() -> None:
    # Re-check from outside (audit9): the document id reached `rules explain` as given, the url the console.
    bad_id = {**_RAW, "id": "wire-1\x1b[2J"}
    with pytest.raises(InputError) as refused:
        parse_document(dict(bad_id))
    assert (refused.value.field, refused.value.message) == ("id", "contains a control character (U+001B)")
    assert check_json_line(orjson.dumps(bad_id)) is None  # the fast path leaves it to the full check
    doc = parse_document({**_RAW, "url": "https://wire.example/1\x1b]8;;x"})
    assert doc.url == "https://wire.example/1\ufffd]8;;x"


def test_a_feed_entry_whose_guid_holds_a_control_character_gets_a_hashed_id() -> None:
    entry = FeedEntry(guid="tag:wire\x1b[2J", link=None, title="Talks", body="b", published=None, date_text=None)
    ident = entry_id(entry, "https://wire.example/feed")
    assert ident.startswith("rss-") and not has_control(ident)
