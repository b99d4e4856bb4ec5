"""The input contract: every rule of DESIGN §4, and a clear error naming the field when broken."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from watchfloor.schemas.inputs import InputError, parse_document, parse_timestamp
from watchfloor.scoring.truth import TruthError, load_labels, load_timeline

BASE: dict[str, Any] = {
    "type": "news.article",
    "published_at": "2024-11-12T08:00:00+09:00",
    "source": "Example Daily",
    "title": "A headline",
}


def with_(**kw: Any) -> dict[str, Any]:
    obj = dict(BASE)
    for k, v in kw.items():
        if v is ...:
            obj.pop(k, None)
        else:
            obj[k] = v
    return obj


def test_minimal_document() -> None:
    d = parse_document(BASE)
    assert d.type == "news.article" and d.source.name == "Example Daily"
    assert d.published_at.utcoffset() is not None
    assert d.id.startswith("doc-")


def test_id_from_url_is_stable_and_given_id_wins() -> None:
    a = parse_document(with_(url="https://example.org/a", body="x"))
    b = parse_document(with_(url="https://example.org/a", body="y"))
    assert a.id == b.id
    assert parse_document(with_(id="mine")).id == "mine"


def test_source_object_and_statement_issuer() -> None:
    d = parse_document(
        with_(
            type="official.statement",
            source={"name": "KCNA", "kind": "state-media"},
            issuer={"name": "KCNA", "country": "PRK"},
        )
    )
    assert d.source.kind == "state-media" and d.issuer is not None and d.issuer.country == "PRK"


def test_z_suffix_is_utc() -> None:
    assert parse_document(with_(published_at="2024-11-12T00:00:00Z")).published_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("obj", "field", "words"),
    [
        (with_(type=...), "type", "required"),
        (with_(type="tweet"), "type", "unknown type"),
        (with_(published_at=...), "published_at", "required"),
        (with_(published_at="2024-11-12T08:00:00"), "published_at", "no UTC offset"),
        (with_(published_at="yesterday"), "published_at", "not an ISO-8601"),
        # the form is right, the values cannot be (trial 35, L2)
        (with_(published_at="2024-02-30T12:00:00+03:00"), "published_at", "not a date: 2024-02-30 has no such day"),
        (with_(published_at="2024-13-01T12:00:00Z"), "published_at", "not a date: 2024-13-01 has no month 13"),
        (with_(published_at="2024-03-01T24:00:00Z"), "published_at", "not a time of day: hour 24 is not 00 to 23"),
        (with_(published_at="2024-03-01T23:59:60Z"), "published_at", "not a time of day: second 60"),
        (with_(published_at="2024-03-01T12:00:00+24:00"), "published_at", "not a UTC offset: +24:00"),
        (with_(published_at=12), "published_at", "ISO-8601"),
        (with_(source=...), "source", "required"),
        (with_(source=""), "source", "empty"),
        (with_(source={"url": "x"}), "source.name", "required"),
        (with_(title=..., body=...), "body", "title or a body"),
        (with_(title=5), "title", "string"),
        (with_(colour="red"), "colour", "unknown field"),
        (with_(issuer="KCNA"), "issuer", "object"),
        (with_(metadata=[1]), "metadata", "object"),
    ],
)
def test_errors_name_the_field(obj: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_document(obj)
    assert exc.value.field == field
    assert words in str(exc.value)


HINT = re.compile(r"\(write e\.g\. (\S+)\)$")


@pytest.mark.parametrize(
    ("naive", "hint"),
    [
        ("2024-06-19", "2024-06-19T00:00:00+00:00"),
        ("2024-06-19+00:00", "2024-06-19T00:00:00+00:00"),  # a date's offset is read past: still naive
        # ... as a time of day: the hint kept its offset and moved the instant (re-check N4: T03:00:00+00:00)
        ("2024-06-19+03:00", "2024-06-19T00:00:00+03:00"),
        ("2024-06-19T10:30:00", "2024-06-19T10:30:00+00:00"),
        ("20240619", "2024-06-19T00:00:00+00:00"),
    ],
)
def test_the_hint_for_a_naive_time_is_itself_accepted(naive: str, hint: str) -> None:
    # Outside audit (analyst) LOW-3: '2024-06-19' was told "write e.g. 2024-06-19+00:00", itself refused with
    # "write e.g. 2024-06-19+00:00+00:00", and so on.
    with pytest.raises(InputError) as exc:
        parse_timestamp(naive)
    suggested = HINT.search(exc.value.message)
    assert suggested is not None, exc.value.message
    assert suggested.group(1) == hint
    assert parse_timestamp(suggested.group(1)).utcoffset() is not None


def test_the_csv_files_take_the_same_hint(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("id,label,time\nwire-7,BORDER_CLOSED,2024-06-19\n", encoding="utf-8")
    with pytest.raises(
        TruthError, match=r"labels\.csv:2: column 'time': .*\(write e\.g\. 2024-06-19T00:00:00\+00:00\)"
    ):
        load_labels(labels)
    timeline = tmp_path / "timeline.csv"
    timeline.write_text("event,time,rule\nborder shut,2024-06-19,border-closed\n", encoding="utf-8")
    with pytest.raises(TruthError, match=r"timeline\.csv:2: .*\(write e\.g\. 2024-06-19T00:00:00\+00:00\)"):
        load_timeline(timeline, ["border-closed"])


def test_body_size_limit() -> None:
    with pytest.raises(InputError, match="over the limit of 10"):
        parse_document(with_(body="x" * 11), max_body_chars=10)


def test_not_an_object() -> None:
    with pytest.raises(InputError, match="expected a JSON object"):
        parse_document(["a"])


def test_the_readme_says_which_top_level_fields_are_taken_and_what_another_gets() -> None:
    """Trial 6 M3: one unknown key refuses the record (by design); README "Input" says so, with the line printed."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    text = " ".join(readme[readme.index("### Input") :].split())
    said = re.search(r"\(`dead letter FILE:LINE \(field author\): (.*?)`\)", text)
    assert said is not None
    with pytest.raises(InputError) as e:
        parse_document(with_(author="x"))
    assert (e.value.field, str(e.value)) == ("author", said.group(1))
    assert "These ten top-level fields and no others" in text
    parse_document(with_(body="b", id="i", url="https://x.org/a", language="en", metadata={"author": "x"}))
