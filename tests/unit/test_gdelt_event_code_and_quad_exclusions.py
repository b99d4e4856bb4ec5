"""`none:` (and `{any:, none:}`) on a signal's `gdelt: event_codes` and `quad_classes`, as the country keys write it:
an event code left out is a prefix, as event_codes' are ("19" leaves out 190 to 196); read over our own rows
(tests/fixtures/gdelt/coded_counts.export.CSV), each bad value refused at load at its place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures.gdelt_coded import coded_events as _events
from tests.fixtures.gdelt_coded import coded_matched as _matched
from tests.fixtures.gdelt_coded import coded_pack as _pack
from watchfloor.cli import app
from watchfloor.stream_processors.engine.compiled import GdeltTest
from watchfloor.stream_processors.engine.compiler import compile_packs
from watchfloor.stream_processors.engine.explain import explain_extraction
from watchfloor.stream_processors.engine.gdelt import gdelt_miss

# the rows' (EventCode, QuadClass): 01 190 4, 02 163 4, 03 190 4, 04 145 3, 05 057 1, 06 173 4, 07 111 3


@pytest.mark.parametrize(
    ("gdelt", "expected"),
    [
        ({"event_codes": {"none": ["19"]}}, ["02", "04", "05", "06", "07"]),
        ({"event_codes": {"none": ["190", "057"]}}, ["02", "04", "06", "07"]),
        ({"event_codes": {"any": ["1"], "none": ["19", "17"]}}, ["02", "04", "07"]),
        ({"event_codes": {"any": ["19"]}}, ["01", "03"]),  # the mapping's any is the list's meaning
        ({"quad_classes": {"none": [4]}}, ["04", "05", "07"]),
        ({"quad_classes": {"none": ["4", 1]}}, ["04", "07"]),
        ({"quad_classes": {"any": [3, 4], "none": [1]}}, ["01", "02", "03", "04", "06", "07"]),
        ({"event_codes": {"none": ["1"]}, "quad_classes": {"none": [1]}}, []),
    ],
)
def test_codes_and_classes_left_out(gdelt: dict[str, Any], expected: list[str]) -> None:
    assert _matched(gdelt) == expected


def test_compiled_from_the_rule() -> None:
    pack = _pack({"event_codes": {"any": ["1"], "none": ["19"]}, "quad_classes": {"none": ["4"]}})
    [sig] = compile_packs([pack]).signals.values()
    assert sig.gdelt == GdeltTest(event_codes=("1",), not_event_codes=("19",), not_quad_classes=(4,))
    assert sig.gdelt.more
    # (the list forms compile as before: no `more`, one flag on the hit path)
    [plain] = compile_packs([_pack({"event_codes": ["19"], "quad_classes": [4]})]).signals.values()
    assert plain.gdelt == GdeltTest(event_codes=("19",), quad_classes=(4,)) and not plain.gdelt.more


def test_what_gdelt_miss_and_explain_say() -> None:
    event = {"gdelt": {"event_code": "190", "quad_class": 4}}
    assert gdelt_miss(GdeltTest(not_event_codes=("18", "19")), event) == (
        "event code 190 is left out by event_codes: {none: [18, 19]}"
    )
    assert (
        gdelt_miss(GdeltTest(not_quad_classes=(4,)), event) == "quad class 4 is left out by quad_classes: {none: [4]}"
    )
    assert gdelt_miss(GdeltTest(not_event_codes=("19",), not_quad_classes=(4,)), {"gdelt": {}}) is None
    rules = compile_packs([_pack({"event_codes": {"none": ["16"]}, "quad_classes": {"none": [4]}})])
    exp = explain_extraction(rules, _events()["gdelt:1300000002"])
    checks = [c for s in exp.sentences for c in s.signals if c.signal == "coded"]
    assert checks and not checks[0].matched
    assert checks[0].reason == (
        "gdelt: event code 163 is left out by event_codes: {none: [16]}; "
        "quad class 4 is left out by quad_classes: {none: [4]}"
    )


BAD = """\
version: 2
name: coded
signals:
  coded:
    match: GDELT event
    gdelt:
      event_codes: {any: ["1"], none: ["999"]}
      quad_classes: {none: [5]}
  other:
    match: GDELT thing
    gdelt:
      event_codes: {none: [190]}
      quad_classes: {any: [4], none: ["4"]}
  third:
    match: GDELT x
    gdelt:
      event_codes: {}
      quad_classes: {not: [4]}
detections:
  - {id: c, title: C, pattern: {any: coded}}
"""


def test_rules_check_places_each_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert res.exit_code == 1
    for said in (
        f"{bad}:7:40: '999' is no CAMEO event code nor the start of one",
        f"{bad}:8:29: none: Input should be 1, 2, 3 or 4 (got 5)",
        f'{bad}:12:28: write each CAMEO code in quotes ("057", "19"), not 190',
        f"{bad}:13:7: 4 is in both any and none",
        f"{bad}:17:7: an event code condition as a mapping takes any, none or both",
        f"{bad}:18:22: unknown key 'not' (quad_classes takes any and none: {{none: [4]}} leaves them out)",
    ):
        assert said in res.output, res.output


_DETECTION = {"id": "coded", "title": "Coded", "pattern": {"any": "coded"}}


@pytest.mark.parametrize(
    ("gdelt", "said"),
    [
        ({"event_codes": {"any": ["190"], "none": ["19"]}}, "'190' starts with '19', which none leaves out"),
        ({"event_codes": {"any": ["14", "1711"], "none": ["171"]}}, "'1711' starts with '171', which none leaves out"),
        ({"quad_classes": {"none": [1, 2, 3, 4]}}, "none leaves out every quad class (1, 2, 3 and 4)"),
    ],
)
def test_a_condition_that_can_never_match_is_refused(tmp_path: Path, gdelt: dict[str, Any], said: str) -> None:
    """Outside trial 85, F1: `{any: ["190"], none: ["19"]}` and `quad_classes: {none: [1, 2, 3, 4]}` kept no event,
    and `rules check` said ok."""
    pack = tmp_path / "never.yaml"  # (JSON is YAML)
    signal = {"match": "GDELT event", "gdelt": gdelt}
    whole = {"version": 2, "name": "never", "signals": {"coded": signal}, "detections": [_DETECTION]}
    pack.write_text(json.dumps(whole), encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1 and said in " ".join(res.output.split()), res.output


def test_leaving_out_part_of_a_code_still_loads() -> None:
    assert _matched({"event_codes": {"any": ["19"], "none": ["190"]}}) == []  # (rows 01, 03 are 190: none left)
    assert _matched({"event_codes": {"any": ["1"], "none": ["19"]}, "quad_classes": {"none": [1, 2]}}) == [
        "02",
        "04",
        "06",
        "07",
    ]


@pytest.mark.parametrize(
    ("gdelt", "said"),
    [
        ({"event_codes": {"any": [], "none": ["19"]}}, "any: [] is empty: every one is taken without it"),
        ({"quad_classes": {"any": [4], "none": []}}, "none: [] is empty: nothing is left out without it"),
        ({"actor1_countries": {"any": ["RUS"], "none": []}}, "none: [] is empty"),
    ],
)
def test_an_empty_list_beside_the_other_is_refused(tmp_path: Path, gdelt: dict[str, Any], said: str) -> None:
    """Outside trial 85, F2: `any: []` was read as every code and `none: []` as nothing left out, silently, while
    `none: []` alone was refused."""
    pack = tmp_path / "empty.yaml"
    signal = {"match": "GDELT event", "gdelt": gdelt}
    whole = {"version": 2, "name": "empty", "signals": {"coded": signal}, "detections": [_DETECTION]}
    pack.write_text(json.dumps(whole), encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(pack)])
    assert res.exit_code == 1 and said in " ".join(res.output.split()), res.output
