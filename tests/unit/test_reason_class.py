"""A dead letter's reason as a /metrics label: particulars dropped, its first clause whole (outside trial 31, L4)."""

from __future__ import annotations

import pytest

from watchfloor.web.activity import REASON_CHARS, reason_class


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("expected a JSON object, got an array", "expected a json object, got an array"),
        (
            "id 'mt-7' is already in the log with different content; this version was not ingested",
            "id … is already in the log with different content",
        ),
        ("malformed JSON: Expecting value at column 3 (char 2)", "malformed json"),
        (
            "line is 12345 bytes, over the limit of 1000 for one record",
            "line is # bytes, over the limit of # for one record",
        ),
        ("'2024x' is not a date (YYYYMMDD or YYYYMMDDHHMMSS)", "… is not a date"),
        ("late: document abc is 3 days behind", "late"),
        ("", "unknown"),
        # an input field's reasons by what is wrong with which field of the contract (trial 34, L3: all "field …")
        (
            "field 'published_at': timestamp has no UTC offset: '2024-01-01T00:00:00' (write e.g. …+00:00)",
            "published_at timestamp has no utc offset",
        ),
        ("field 'published_at': is required", "published_at is required"),
        (
            "field 'published_at': not a date: 2024-02-30 has no such day (February 2024 has 29 days): "
            "'2024-02-30T12:00:00+03:00'",
            "published_at not a date",
        ),
        ("field 'author': unknown field(s): author (put extra data under 'metadata')", "unknown field"),
        ("field 'x9f3': unknown field(s): x9f3, zz", "unknown field"),  # (an input's own names: no label each)
    ],
)
def test_a_reason_class_drops_particulars_and_keeps_its_words_whole(reason: str, label: str) -> None:
    assert reason_class(reason) == label


def test_a_long_reason_is_cut_at_a_word() -> None:
    label = reason_class("word " * 3 + "incomprehensibilities " * 10)
    assert len(label) <= REASON_CHARS + 2 and label.endswith(" …") and "incomprehensibilities …" in label
