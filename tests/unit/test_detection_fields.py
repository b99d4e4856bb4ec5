"""schemas.detection_fields reads a detection's story fields as `Detection` does: the same verdict on every payload
(accepted or refused), and the same values (delivery key, alert id, rule, group, fired_at, revises)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from watchfloor.schemas.detection_fields import (
    DetectionFields,
    _Detection,
    _Evidence,
    dated_ahead,
    detection_fields,
    reports_from,
)
from watchfloor.schemas.events import Detection, Evidence, detection_event_id

T0 = datetime(2024, 12, 16, 9, 30, tzinfo=UTC)


def base(**changes: Any) -> dict[str, Any]:
    """A detection as the engine writes it (model_dump in JSON mode), with `changes` made."""
    det = Detection(
        id="det-1",
        rule="troops",
        title="Troops seen",
        severity="high",
        tags=("dprk",),
        group={"party": "PRK", "place": "KURSK"},
        fired_at=T0,
        confidence="unconfirmed",
        attributes={"place": ["KURSK"]},
        evidence=tuple(
            Evidence(event_id=f"e{i}", signal="s", source=f"Outlet {i}", url=None, published_at=T0, sentence="x")
            for i in range(2)
        ),
        description="d",
        evidence_total=2,
    )
    out = det.model_dump(mode="json")
    out.update(changes)
    return out


def by_the_model(text: str | bytes) -> DetectionFields | None:
    """The reading the dispatcher's intake makes: orjson, then the model."""
    try:
        det = Detection.model_validate(orjson.loads(text))
    except ValidationError:
        return None
    return DetectionFields(
        detection_event_id(det),
        det.id,
        det.rule,
        det.group,
        det.fired_at,
        det.revises,
        dated_ahead(det),
        reports_from(det),
    )


def assert_same(text: str | bytes) -> DetectionFields | None:
    got, want = detection_fields(text), by_the_model(text)
    if want is None:
        assert got is None, text
        return None
    assert got is not None, text
    assert got._replace(fired_at=None) == want._replace(fired_at=None), text
    # the same instant and the same offset (what a story compares, and what a message would show)
    assert got.fired_at == want.fired_at and got.fired_at.utcoffset() == want.fired_at.utcoffset(), text
    assert type(got.key) is str and type(got.id) is str and all(type(v) is str for v in got.group.values())
    return got


# Times in every form either reader might take or refuse, and the values they might read differently.
TIMES: list[Any] = [
    "2024-12-16T09:30:00Z",
    "2024-12-16T09:30:00+00:00",
    "2024-12-16T09:30:00-00:00",
    "2024-12-16T09:30:00.123456+09:00",
    "2024-12-16T09:30:00.1+05:30",
    "2024-12-16T09:30:00.1234567Z",  # seven decimals: msgspec rounds, pydantic truncates
    "2024-12-16T09:30:00.9999995Z",
    "2024-12-16T09:30:00.0000005Z",
    "9999-12-31T23:59:59.9999999Z",
    "2024-12-16t09:30:00z",
    "2024-12-16 09:30:00Z",
    "2024-12-16_09:30:00Z",
    "2024-12-16T09:30Z",
    "2024-12-16T09:30:00+0000",
    "2024-12-16T09:30:00+00",
    "2024-12-16T09:30:00,5Z",
    "2024-12-16T09:30:00",  # no offset
    "2024-12-16",
    "20241216T093000Z",
    "2024-12-16T23:59:60Z",
    "2024-02-30T09:30:00Z",
    "2024-12-16T24:00:00Z",
    "2024-12-16T09:30:00+24:00",
    "2024-12-16T09:30:00+23:59",
    "2024-12-16T09:30:00+05:60",
    "2024-12-16T09:30:00+01:00:30",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999-05:00",
    "1734341400",
    1734341400,
    1734341400.5,
    None,
    "",
]

ODD_VALUES: list[Any] = [None, True, 0, 1, -1, 1.0, 1.5, "1", "", "x", [], ["a"], {}, {"a": "b"}, {"a": 1}, 2**63 - 1]


@pytest.mark.parametrize("fired_at", TIMES)
def test_fired_at_in_every_form(fired_at: Any) -> None:
    assert_same(orjson.dumps(base(fired_at=fired_at)))


@pytest.mark.parametrize("published_at", TIMES)
def test_evidence_times_in_every_form(published_at: Any) -> None:
    payload = base()
    payload["evidence"][1]["published_at"] = published_at
    assert_same(orjson.dumps(payload))


@pytest.mark.parametrize("published_at", TIMES)
def test_a_confirmations_earliest_report_in_every_form(published_at: Any) -> None:
    # (a confirmed detection's earliest report decides how far back its story may have begun: Stories.add)
    payload = base(confidence="confirmed", fired_at="2024-12-18T09:30:00Z")
    payload["evidence"][1]["published_at"] = published_at
    assert_same(orjson.dumps(payload))


def test_only_a_confirmation_has_its_earliest_report() -> None:
    payload = base(confidence="confirmed")
    payload["evidence"][0]["published_at"] = "2024-12-15T09:30:00.5+03:00"
    confirmed = assert_same(orjson.dumps(payload))
    assert confirmed is not None and confirmed.reports_from == datetime(2024, 12, 15, 6, 30, 0, 500_000, tzinfo=UTC)
    for confidence in ("unconfirmed", None):
        got = assert_same(orjson.dumps({**payload, "confidence": confidence}))
        assert got is not None and got.reports_from is None
    none = assert_same(orjson.dumps({**payload, "evidence": [], "evidence_total": 0}))
    assert none is not None and none.reports_from is None


@pytest.mark.parametrize("field", sorted(Detection.model_fields))
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_every_field_with_odd_values(field: str, value: Any) -> None:
    assert_same(orjson.dumps(base(**{field: value})))
    assert_same(orjson.dumps({k: v for k, v in base().items() if k != field}))


@pytest.mark.parametrize("field", sorted(Evidence.model_fields))
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_every_evidence_field_with_odd_values(field: str, value: Any) -> None:
    payload = base()
    payload["evidence"][0][field] = value
    assert_same(orjson.dumps(payload))
    del payload["evidence"][0][field]
    assert_same(orjson.dumps(payload))


def test_what_the_engine_writes_is_read_without_the_model() -> None:
    got = assert_same(orjson.dumps(base()))
    assert got == DetectionFields("det-1", "det-1", "troops", {"party": "PRK", "place": "KURSK"}, T0, None)
    revision = assert_same(orjson.dumps(base(id="det-2", revises="det-1", revision=3)))
    assert revision is not None and revision.key != "det-2" and revision.revises == "det-1"
    offset = assert_same(orjson.dumps(base(fired_at="2024-12-16T18:30:00+09:00")))
    assert offset is not None and offset.fired_at == T0 and offset.fired_at.utcoffset() == timedelta(hours=9)


def test_json_text_itself() -> None:
    text = orjson.dumps(base()).decode()
    assert_same(text)  # str, as the SQL stores give it
    assert_same(text + "\n ")
    assert_same(text.replace('"id":"det-1"', '"id":"det-0","id":"det-1"'))  # a repeated key: the last one, as orjson
    assert_same(text.replace('"rule":"troops"', '"rule":"troops","extra":1'))  # unknown: refused (extra=forbid)
    assert_same(text.replace('"revision":0', '"revision":-1,"revision":2'))
    assert_same(text.replace('"title":"Troops seen"', '"title":"Tr\\u00f6ops \\ud83d\\ude80"'))
    assert_same(orjson.dumps([base()]))
    assert_same(b'"a detection"')
    for bad in (text[:-1], "", "{", b"\xef\xbb\xbf" + text.encode(), text.replace('"det-1"', '"\\ud800"')):
        with pytest.raises(orjson.JSONDecodeError):
            detection_fields(bad)  # as the store's read raised before: not a payload any store writes
        with pytest.raises(orjson.JSONDecodeError):
            by_the_model(bad)


def _values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(ODD_VALUES),
        st.sampled_from(TIMES),
        st.text(max_size=4),
        st.integers(-(2**63), 2**63 - 1),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers(0, 2)), max_size=2),
        st.from_regex(r"\d{4}-\d\d-\d\d[Tt _]\d\d:\d\d(:\d\d)?([.,]\d{1,9})?(Z|z|[+-]\d\d(:?\d\d)?)?", fullmatch=True),
    )


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    payload = base(
        fired_at=draw(st.sampled_from(TIMES[:9])),
        revision=draw(st.integers(0, 3)),
        revises=draw(st.none() | st.just("det-0")),
    )
    for _ in range(draw(st.integers(0, 3))):
        held = payload.get("evidence")
        evidence = [e for e in held if isinstance(e, dict)] if isinstance(held, list) and draw(st.booleans()) else []
        target = draw(st.sampled_from(evidence)) if evidence else payload
        names = [*sorted(Evidence.model_fields if evidence else Detection.model_fields), "other"]
        name = draw(st.sampled_from(names))
        if draw(st.integers(0, 4)) == 0:
            target.pop(name, None)
        else:
            target[name] = draw(_values())
    return orjson.dumps(payload)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_the_same_verdict_and_values_as_the_model(text: bytes) -> None:
    assert_same(text)


def test_the_mirror_has_the_models_fields() -> None:
    """The structs hold every field of the models with the same defaults (a field added to a model is refused by
    them, and so read by the model: slower, still right; a constraint or validator added must be mirrored)."""
    required = {"event_id": "e", "signal": "s", "source": "S", "published_at": "2024-12-16T09:30:00Z", "sentence": "x"}
    evidence = msgspec.json.decode(orjson.dumps(required), type=_Evidence)
    required = {"id": "d", "rule": "r", "title": "t", "severity": "low", "fired_at": "2024-12-16T09:30:00Z"}
    detection = msgspec.json.decode(orjson.dumps(required), type=_Detection)
    for model, struct, decoded in ((Detection, _Detection, detection), (Evidence, _Evidence, evidence)):
        fields = model.model_fields
        assert set(struct.__struct_fields__) == set(fields), model
        assert set(struct.__struct_fields__[: len(struct.__struct_fields__) - len(struct.__struct_defaults__)]) == {
            name for name, f in fields.items() if f.is_required()
        }, model
        for name, f in fields.items():
            if not f.is_required():
                assert getattr(decoded, name) == f.get_default(call_default_factory=True), name
        decorators = model.__pydantic_decorators__
        assert not decorators.field_validators and not decorators.model_validators, model
    # What the models constrain beyond their types: the mirror checks the same (a change here needs one there).
    constrained = {
        name: [type(m).__name__ for m in f.metadata] for name, f in Detection.model_fields.items() if f.metadata
    }
    assert constrained == {"revision": ["Ge"], "evidence_total": ["Ge"]}
    assert not any(f.metadata for f in Evidence.model_fields.values())


def test_times_with_offsets_compare_as_instants() -> None:
    east = assert_same(orjson.dumps(base(fired_at="2024-12-16T18:30:00+09:00")))
    west = assert_same(orjson.dumps(base(fired_at="2024-12-16T04:30:00-05:00")))
    assert east is not None and west is not None
    assert east.fired_at == west.fired_at == T0
    assert east.fired_at.tzinfo == timezone(timedelta(hours=9))


def test_a_payload_object_is_not_changed() -> None:
    payload = base()
    before = copy.deepcopy(payload)
    detection_fields(orjson.dumps(payload))
    assert payload == before
