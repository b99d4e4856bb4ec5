"""`rules check` says every problem of a detection in one run whatever block of it the schema refused (outside trial
51, M5): a `corroborate` missing two required keys has both said, and the detection's unknown signal and title
placeholder come with them, as they do beside an unknown key or a bad `within`. Packs written here (invented
countries)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

# A pack with one slip in the detection's title and one in its pattern; each test adds a refused block.
PACK = """version: 2
name: ferries
entities:
  N: {name: Norland, kind: country, aliases: [Norland]}
  S: {name: Sudland, kind: country, aliases: [Sudland]}
signals:
  ferry_halted:
    match: {all: [ferry, halted]}
    capture: {port: {entities: [N, S]}}
detections:
  - id: ferry-halt
    title: "Ferries halted at {prot}"
    pattern: {any: ferry_haltd}
"""
TITLE = "12:12"
SIGNAL = "13:20"


def _check(tmp_path: Path, text: str) -> tuple[int, list[tuple[str, str]], str]:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["rules", "check", str(path)], env={"COLUMNS": "400"})
    got = []
    for line in res.output.splitlines():
        assert line.startswith(f"{path}:"), res.output
        place, message = line.removeprefix(f"{path}:").split(": ", 1)
        got.append((place, message))
    return res.exit_code, got, res.output


def test_a_corroborate_missing_two_keys_says_both_and_hides_nothing_else(tmp_path: Path) -> None:
    code, got, out = _check(tmp_path, PACK + "    corroborate: {distinct: document, at_least: 2}\n")
    assert code == 1
    said = dict(got)
    assert said[TITLE].startswith("title 'Ferries halted at {prot}': unknown placeholder {prot}"), out
    assert said[SIGNAL] == "unknown signal 'ferry_haltd' (did you mean 'ferry_halted'?)", out
    missing = [m for p, m in got if p == "14:5"]
    assert [m.split(" of corroborate")[0] for m in missing] == [
        "missing required key 'severity'",
        "missing required key 'within'",
    ], out
    assert len(got) == 4, out


@pytest.mark.parametrize(
    ("block", "place", "message"),
    [
        # a required key of corroborate refused for its value: corroborate cannot stand without it
        ("    corroborate: {within: 2d, severity: huge}\n", "14:41", "severity: Input should be"),
        # two refused values in one block, and one missing after them
        ("    corroborate: {at_least: 1, distinct: outlet, severity: high}\n", "14:5", "missing required key 'within'"),
        # corroborate not a mapping at all
        ("    corroborate: yes\n", "14:18", "corroborate: Input should be"),
        ("    realert: soon\n    corroborate: {at_least: 2}\n", "14:14", "bad duration 'soon'"),
        ("    tags: tag\n", "14:11", "tags: Input should be a valid list"),
    ],
)
def test_whatever_block_is_refused_the_detections_signal_and_title_are_still_checked(
    tmp_path: Path, block: str, place: str, message: str
) -> None:
    code, got, out = _check(tmp_path, PACK + block)
    assert code == 1
    said = dict(got)
    assert said[place].startswith(message), out
    assert said[TITLE].startswith("title 'Ferries halted at {prot}': unknown placeholder {prot}"), out
    assert said[SIGNAL] == "unknown signal 'ferry_haltd' (did you mean 'ferry_halted'?)", out


def test_a_duration_with_a_space_reads_as_written_together_and_the_exported_schema_agrees(tmp_path: Path) -> None:
    """`realert: 3 d` is 3d, as docs/rules.md says; a bare number and a unit in words are errors. The JSON Schema
    `schemas export` writes takes the same spellings, so an editor does not flag what the loader reads."""
    import re
    from datetime import timedelta

    from watchfloor.stream_processors.rulefile import load_rules

    good = PACK.replace("{prot}", "{port}").replace("ferry_haltd", "ferry_halted")
    path = tmp_path / "ok.yaml"
    path.write_text(good + "    realert: 3 d\n    within: ' 12 h'\n", encoding="utf-8")
    loaded, _compiled = load_rules([str(path)])
    det = loaded[0].pack.detections[0]
    assert (det.realert, det.within) == (timedelta(days=3), timedelta(hours=12))
    for bad, shown in (("3", "3"), ("3 days", "'3 days'")):
        code, got, out = _check(tmp_path, good + f"    realert: {bad}\n")
        assert code == 1 and got == [
            ("14:14", f"bad duration {shown}: write a number and a unit, e.g. 90s, 30m, 72h, 180d, 2w")
        ], out
    from watchfloor.schemas.rules import DetectionDef

    pattern = DetectionDef.model_json_schema()["properties"]["realert"]["pattern"]
    assert [bool(re.match(pattern, v)) for v in ("3d", "3 d", "72h", "3", "3 days")] == [True, True, True, False, False]


def test_every_duration_default_in_the_exported_schema_matches_its_own_pattern() -> None:
    # pydantic writes a timedelta default as "P1D", which the field's pattern (and an editor) refuses
    import json
    import re

    from watchfloor.schemas.export import all_schemas
    from watchfloor.schemas.rules import rule_pack_json_schema

    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("format") == "duration" and "default" in node and node["default"] is not None:
                found.append(node["default"])
                assert re.match(node["pattern"], node["default"]), node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(json.dumps(rule_pack_json_schema())))
    assert "1d" in found
    found.clear()
    walk(json.loads(json.dumps(all_schemas()["config"])))
    assert {"0s", "1h", "15m", "1d"} <= set(found), found
