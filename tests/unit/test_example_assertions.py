"""Inline examples assert what an alert captured and its title (outside trial 9, L3): `captures` (a capture of the
detection's signals, `place`, or a group key: an entity, several, or none) and `title`; `rules test` names the
expected and the got at the key's place, and `rules check` refuses a capture name the detection has not (with the
closest one) and a value that names no entity. Pack and headlines written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.examples import run_examples
from watchfloor.stream_processors.rulefile import example_problems, load_rules

HEAD = """version: 2
name: dams
entities:
  BRD: {name: Borduria, kind: country, aliases: [Borduria, Bordurian]}
  SYL: {name: Syldavia, kind: country, aliases: [Syldavia, Syldavian]}
  KLOW: {name: Klow, kind: place, aliases: [Klow]}
signals:
  seized:
    match: {all: [seized, dam]}
    near: 4
    capture: {by: {entities: [BRD, SYL]}}
detections:
  - id: dam-seized
    title: "{by} seized a dam{place_suffix}"
    pattern: {any: seized}
    examples:
"""


def _doc(title: str) -> str:
    return f'[{{type: news.article, published_at: "2024-03-02T08:00:00+00:00", source: Wire, title: "{title}"}}]'


ACTIVE = _doc("Bordurian troops seized the dam near Klow")
PASSIVE = _doc("Syldavian dam seized near Klow")


def _write(tmp_path: Path, examples: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + examples, encoding="utf-8")
    return str(path)


def test_examples_assert_captures_and_title(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""      - {{name: all of it, captures: {{by: Borduria, place: KLOW}}, title: "Borduria seized a dam (Klow)",
         documents: {ACTIVE}}}
      - {{name: several or none, captures: {{by: [], place: [Klow]}}, documents: {PASSIVE}}}
      - {{name: not by the other, fires: false, captures: {{by: SYL}}, documents: {ACTIVE}}}
      - {{name: wrong party, captures: {{place: Klow, by: Syldavia}}, documents: {ACTIVE}}}
      - {{name: wrong title, title: "Syldavia seized a dam", documents: {ACTIVE}}}
      - {{name: by nobody, fires: false, captures: {{by: null}}, documents: {PASSIVE}}}
""",
    )
    loaded, compiled = load_rules([path])
    assert example_problems(loaded) == []
    results = {r.name: (r.passed, r.message) for r in run_examples([lp.pack for lp in loaded], compiled)}
    assert [n for n, (ok, _m) in results.items() if ok] == ["all of it", "several or none", "not by the other"]
    assert results["wrong party"][1] == "dam-seized fired, but captures by: expected Syldavia, got Borduria"
    assert results["wrong title"][1] == (
        "dam-seized fired, but title: expected 'Syldavia seized a dam', got 'Borduria seized a dam (Klow)'"
    )
    assert results["by nobody"][1].startswith("expected dam-seized not to fire with by none, it fired: ")
    res = CliRunner().invoke(app, ["rules", "test", path])
    assert res.exit_code == 1
    failed = [line for line in res.output.splitlines() if "FAIL" in line]
    # Each at the key that differs: the capture's, the title's; else the example's.
    assert [line.split(" FAIL ")[0] for line in failed] == [f"{path}:21:57:", f"{path}:22:36:", f"{path}:23:9:"], (
        res.output
    )
    assert "expected Syldavia, got Borduria" in failed[0]


def test_check_refuses_an_unknown_capture_name_and_a_value_that_names_no_entity(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""      - {{name: typo, captures: {{bye: BRD}}, documents: {ACTIVE}}}
      - {{name: value, captures: {{by: [BRD, Bordria]}}, documents: {ACTIVE}}}
""",
    )
    res = CliRunner().invoke(app, ["rules", "check", path])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[0] == (
        f"{path}:17:38: captures key 'bye': detection 'dam-seized' captures no 'bye' (did you mean 'by'?); "
        "it has by, place"
    ), res.output
    assert lines[1].startswith(f"{path}:18:44: captures by: 'Bordria' names no entity of the rule packs"), lines[1]
    assert "did you mean" in lines[1]


def test_the_json_schema_knows_the_assertions(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["schemas", "export", str(tmp_path)])
    assert res.exit_code == 0, res.output
    schema = json.loads((tmp_path / "rule-pack.schema.json").read_text())
    example = schema["$defs"]["Example"]["properties"]
    assert {"captures", "title"} <= set(example)
    assert "null" in json.dumps(example["captures"]) and example["title"]["anyOf"][0] == {"type": "string"}
