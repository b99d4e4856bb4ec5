"""What rule authors are told (outside trial 17, L4): `rules check` says a detection's second, independent error and a
circle among detections that have other errors; `backtest --expect` says every problem of the file in one run; a
failing inline example of a detection over detections says what its inputs fired and why it took none; `rules
explain` of an empty file says so; a corroboration already met reads "met (6 distinct sources …, 2 needed …)", not
"6 of 2". Packs and headlines written for these tests (invented countries)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

PACK = """version: 2
name: borders
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
  B: {name: Betastan, kind: country, aliases: [Betastan]}
signals:
  closed:
    match: {all: [closed, border]}
    capture: {country: {entities: [A, B]}}
detections:
  - id: closure
    title: "{country} closed its border"
    pattern: {any: closed}
    group_by: [country]
    corroborate: {distinct: source, at_least: 2, within: 1d, severity: high}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_rules_check_says_a_second_error_of_one_detection_and_a_circle_beside_other_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        PACK
        + """  - id: wrong-twice
    title: t
    pattern: {any: {signal: closed, where: {country: Narnia}}}
    group_by: [contry]
  - id: loop-a
    title: "a {country}"
    pattern: {any: {detection: loop-b}}
    group_by: [cuntry]
  - id: loop-b
    title: b
    pattern: {any: {detection: loop-a}}
""",
    )
    res = runner.invoke(app, ["rules", "check", path])
    assert res.exit_code == 1
    out = res.output
    assert f"{path}:18:54: where country: 'Narnia' names no entity" in out, out
    assert f"{path}:19:16: group_by 'contry': signal 'closed' captures no 'contry'" in out, out  # said too now
    assert "detections feed each other: loop-a -> loop-b -> loop-a" in out, out
    assert f"{path}:23:16: group_by 'cuntry'" in out, out


def test_backtest_expect_says_every_problem_of_the_file_in_one_run(tmp_path: Path) -> None:
    pack = write(tmp_path, "p.yaml", PACK)
    events = write(
        tmp_path,
        "e.jsonl",
        json.dumps({"type": "news.article", "id": "e1", "published_at": "2025-03-01T08:00:00+00:00",
                    "source": "Wire", "title": "Alphaland closed its border"}) + "\n",
    )  # fmt: skip
    expect = write(
        tmp_path,
        "x.yaml",
        "must_fire:\n  - {rule: closur, grup: {country: A}, severity: hihg}\n"
        "must_not_fire:\n  - {rule: closure, sevrity: low}\n",
    )
    res = runner.invoke(app, ["backtest", events, "--rules", pack, "--expect", expect], env={"COLUMNS": "250"})
    assert res.exit_code == 1
    said = [line for line in res.output.splitlines() if line.startswith("error: ")]
    assert said == [
        f"error: {expect}:2:12: unknown rule 'closur' (loaded rules: closure)",
        f"error: {expect}:2:20: unknown key 'grup' in a must_fire entry (keys: rule, group, event_id, severity)",
        f"error: {expect}:2:50: unknown severity 'hihg' (low, medium, high, critical)",
        f"error: {expect}:4:21: unknown key 'sevrity' in a must_not_fire entry (keys: rule, group, event_id, severity)",
    ], res.output


def test_a_failing_example_of_a_detection_over_detections_says_what_its_inputs_fired(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        PACK
        + """  - id: closure-confirmed
    title: "{country}: the closure is confirmed"
    severity: high
    pattern: {any: {detection: closure, confidence: confirmed}}
    group_by: [country]
    examples:
      - name: one source only
        documents:
          - {type: news.article, published_at: "2025-03-01T08:00:00+00:00", source: Wire,
             title: "Alphaland closed its border"}
""",
    )
    res = runner.invoke(app, ["rules", "test", path], env={"COLUMNS": "400"})
    assert res.exit_code == 1
    [fail] = [line for line in res.output.splitlines() if "FAIL" in line]
    assert (
        "it did not (closure-confirmed fired nothing); its inputs fired: closure 'Alphaland closed its border'" in fail
    ), fail
    assert "(medium, unconfirmed): not taken: needs confidence confirmed" in fail, fail


def test_rules_explain_of_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    pack = write(tmp_path, "p.yaml", PACK)
    empty = write(tmp_path, "empty.jsonl", "")
    res = runner.invoke(app, ["rules", "explain", "--rules", pack, empty])
    assert res.exit_code == 1
    assert f"error: nothing to explain: {empty}: no events in it (empty file)" in res.output, res.output
    assert "give FILE(s)" not in res.output


def test_a_confidence_filter_on_a_detection_without_corroborate_is_refused_at_load(tmp_path: Path) -> None:
    # Outside trial 68, MED-5: `rules check` said ok, and the detection built on it never fired (only the backtest
    # showed its true positives gone).
    path = write(
        tmp_path,
        "p.yaml",
        PACK.replace("    corroborate: {distinct: source, at_least: 2, within: 1d, severity: high}\n", "")
        + """  - id: closure-confirmed
    title: "{country}: the closure is confirmed"
    severity: high
    pattern: {any: {detection: closure, confidence: confirmed}}
    group_by: [country]
""",
    )
    res = runner.invoke(app, ["rules", "check", path], env={"COLUMNS": "400"})
    assert res.exit_code == 1, res.output
    assert (
        "detection 'closure' has no `corroborate`, so its alerts carry no confidence: `confidence: confirmed` never "
        "matches; add `corroborate` to 'closure' or drop the filter" in res.output
    ), res.output
