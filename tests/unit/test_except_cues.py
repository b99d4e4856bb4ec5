"""A detection's `except_cues` (outside trial 56, H2): a threat and an announced decision both read `future`; a
reference that names the cue words it does not take alerts on "France will impose sanctions" but not on "The bloc
threatens to impose sanctions". Unknown words, and a reference no cue can decide, are warned by `rules check`.
Sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from watchfloor.schemas.rules import SignalRef, rule_pack_json_schema
from watchfloor.stream_processors.rulefile import load_rules, warning_problems

from .engine_helpers import Timeline, doc, engine_for

PACK = """version: 2
name: sanctions-desk
language: en
signals:
  sanctions: {match: {any: [sanctions]}}
detections:
  - id: sanctions-decided
    title: "Sanctions decided"
    pattern: {any: {signal: sanctions, modality: [asserted, future], except_cues: [threat*, "talks on"]}}
    realert: 1h
"""


def _fired(tmp_path: Path, title: str) -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(PACK, encoding="utf-8")
    timeline = Timeline(engine_for(str(path)))
    return [d.rule for d in timeline.feed(doc("", title=title))]


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        # announced decisions and acts: taken
        ("France will impose sanctions on the junta", True),
        ("Washington to impose sanctions on the generals", True),
        ("The bloc imposes sanctions on the junta", True),
        # threats, and talks: left out (the cue that decided the reading: "threatens to", "threat of", "talks on")
        ("The bloc threatens to impose sanctions on the junta", False),
        ("Regional leaders raise the threat of sanctions", False),
        ("Ministers open talks on sanctions against the junta", False),
    ],
)
def test_except_cues_leave_out_what_those_cues_decided(tmp_path: Path, title: str, fires: bool) -> None:
    assert (_fired(tmp_path, title) == ["sanctions-decided"]) is fires


def _warnings(tmp_path: Path, ref: str) -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(
        PACK.replace('{signal: sanctions, modality: [asserted, future], except_cues: [threat*, "talks on"]}', ref)
    )
    loaded, compiled = load_rules([str(path)])
    return [w.message for w in warning_problems(loaded, compiled)]


def test_an_except_cue_no_cue_holds_is_warned(tmp_path: Path) -> None:
    got = _warnings(tmp_path, "{signal: sanctions, modality: future, except_cues: [threatn*, threaten*]}")
    assert len(got) == 1, got
    assert "except_cues 'threatn*': no cue holds the word 'threatn*'" in got[0], got


def test_except_cues_on_asserted_readings_only_are_warned(tmp_path: Path) -> None:
    got = _warnings(tmp_path, "{signal: sanctions, except_cues: [threaten*]}")
    assert len(got) == 1, got
    assert "takes asserted readings only, which no cue decides" in got[0], got


def test_an_except_cue_only_cues_of_a_class_not_taken_hold_is_warned(tmp_path: Path) -> None:
    """`reportedly` and `unless` are held only by hedged and conditional cues: on a reference taking asserted and
    future readings they never leave one out (such readings are not taken anyway), and rules check says so
    (outside trial 61, M1). A word a taken class's cue holds ("will", "threat*"; "could", which "could soon" holds,
    a future cue) and a reference taking any reading are not warned of."""
    ref = "{signal: sanctions, modality: [asserted, future], except_cues: [reportedly, could, will, threat*, unless]}"
    got = _warnings(tmp_path, ref)
    assert len(got) == 2, got
    assert "except_cues 'reportedly': the cues that hold it (" in got[0], got
    assert "read hedged" in got[0] and "takes asserted, future readings only" in got[0], got
    assert "except_cues 'unless'" in got[1] and "read conditional" in got[1], got
    assert _warnings(tmp_path, "{signal: sanctions, modality: [asserted, hedged], except_cues: [reportedly]}") == []
    assert _warnings(tmp_path, "{signal: sanctions, modality: any, except_cues: [reportedly]}") == []


def test_except_cues_are_refused_on_a_detection_reference() -> None:
    with pytest.raises(ValidationError, match="except_cues filters a signal reference"):
        SignalRef.model_validate({"detection": "other", "except_cues": ["threaten*"]})


def test_except_cues_are_in_the_json_schema() -> None:
    ref = rule_pack_json_schema()["$defs"]["SignalRef"]["properties"]
    assert ref["except_cues"]["type"] == "array"
