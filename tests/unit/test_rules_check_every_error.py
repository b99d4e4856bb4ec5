"""`rules check` says every error of a detection in one run, in file order (outside trial 28, F4): an unknown signal
no longer hides the detection's unknown title placeholder or its bad `group_by`, a bad `group_by` no longer hides
the title, a `where` key no longer hides another's; a name or group key nothing in the rules could bring is wrong
whichever signal the unknown one was meant to name, and one some signal captures is not judged. With the checks,
the messages of F9: a name that is no slug, corroborate's missing severity, "did you mean" for an unknown signal or
detection. Packs written here (invented countries)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()

# One detection with three mistakes (lines 14-18), and two with two each (lines 19-20).
PACK = """version: 2
name: borders
language: en
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
  B: {name: Betastan, kind: country, aliases: [Betastan]}
signals:
  closed:
    match: {all: [closed, border]}
    capture: {country: {entities: [A, B]}}
  massed: {match: massed troops}
detections:
  - id: closure
    title: "{contry} closed its border"
    severity: high
    pattern: {any: clsed}
    group_by: [contry]
    within: 48h
  - {id: a, title: "{foo} x", severity: high, pattern: {any: s2}}
  - {id: b, title: "y", severity: high, pattern: {any: s3}, group_by: [bar]}
"""


def _check(tmp_path: Path, text: str) -> tuple[int, list[tuple[str, str]], str]:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["rules", "check", str(path)], env={"COLUMNS": "400"})
    got = []
    for line in res.output.splitlines():
        assert line.startswith(f"{path}:"), res.output  # every message at its FILE:LINE:COL
        place, message = line.removeprefix(f"{path}:").split(": ", 1)
        got.append((place, message))
    return res.exit_code, got, res.output


def test_every_error_of_one_detection_and_of_two_more_in_one_run_in_file_order(tmp_path: Path) -> None:
    code, got, out = _check(tmp_path, PACK)
    assert code == 1
    assert [place for place, _m in got] == ["14:12", "16:20", "17:16", "19:20", "19:62", "20:56", "20:72"], out
    messages = [m for _p, m in got]
    # The title is judged though the signal is unknown: no signal captures 'contry', whichever 'clsed' was meant to be.
    assert messages[0] == (
        "title '{contry} closed its border': unknown placeholder {contry} (no signal captures it, and signal 'clsed' "
        "is not defined; this detection can use {place}, {place_suffix}, {reports}, {reports_suffix})"
    )
    assert messages[1] == "unknown signal 'clsed' (did you mean 'closed'?)"
    assert messages[2] == (
        "group_by 'contry': no signal captures 'contry' (did you mean 'country'?), and signal 'clsed' is not defined "
        "(add 'contry' under the 'capture' of the signal meant, or group by 'source')"
    )
    assert messages[3].startswith("title '{foo} x': unknown placeholder {foo} (no signal captures it")
    assert messages[4] == "unknown signal 's2' (define it under 'signals')"
    assert messages[5] == "unknown signal 's3' (define it under 'signals')"
    assert messages[6].startswith("group_by 'bar': no signal captures 'bar', and signal 's3' is not defined")


def test_fixing_the_signal_leaves_the_group_by_and_the_title_said_together(tmp_path: Path) -> None:
    code, got, out = _check(tmp_path, PACK.replace("{any: clsed}", "{any: closed}"))
    assert code == 1
    mine = [(p, m) for p, m in got if p.split(":")[0] in {"14", "16", "17"}]
    assert [p for p, _m in mine] == ["14:12", "17:16"], out
    assert mine[0][1].startswith("title '{contry} closed its border': unknown placeholder {contry} (this detection")
    assert "{country}" in mine[0][1]  # what it can use, from the signal it takes
    # outside trial 66, LOW-2: the capture it is closest to is named, as for a `where` key
    assert mine[1][1] == (
        "group_by 'contry': signal 'closed' captures no 'contry' (did you mean 'country'?) (add it under the "
        "signal's 'capture', or group by 'source')"
    )


def test_what_some_signal_captures_is_not_judged_through_an_unknown_signal(tmp_path: Path) -> None:
    """`country` is captured by a signal of the rules: the unknown 'clsed' may be meant for it, so neither its
    group_by nor its title placeholder is said to be wrong (nothing false is said), only the unknown signal."""
    text = PACK.replace("{contry} closed", "{country} closed").replace("group_by: [contry]", "group_by: [country]")
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert [m for p, m in got if p.startswith(("14:", "16:", "17:"))] == [
        "unknown signal 'clsed' (did you mean 'closed'?)"
    ], out


def test_each_key_of_a_where_is_its_own_check(tmp_path: Path) -> None:
    text = PACK.split("detections:")[0] + (
        "detections:\n"
        "  - {id: c, title: t, pattern: {any: {signal: closed, where: {contry: A, country: Narnia}}}}\n"
        "  - {id: d, title: t, group_by: [country], pattern: {any: {signal: closed, where: {country: A}}}}\n"
        "  - {id: e, title: t, pattern: {any: {detection: d, where: {cuntry: A, country: Narnia}}}}\n"
    )
    code, got, out = _check(tmp_path, text)
    assert code == 1
    messages = [m for _p, m in got]
    assert len(messages) == 4, out
    assert messages[0] == "signal 'closed' captures no 'contry' (did you mean 'country'?)"
    assert messages[1].startswith("where country: 'Narnia' names no entity")
    assert messages[2] == "detection 'd' groups by no 'cuntry' (did you mean 'country'?)"
    assert messages[3].startswith("where country: 'Narnia' names no entity")


def test_a_detection_taking_its_own_alerts_is_not_called_undefined(tmp_path: Path) -> None:
    text = PACK.split("detections:")[0] + (
        "detections:\n  - {id: loop, title: '{country} x', group_by: [country], pattern: {any: {detection: lop}}}\n"
        "  - {id: self, title: '{country} y', group_by: [country], pattern: {any: {detection: self}}}\n"
    )
    code, got, out = _check(tmp_path, text)
    assert code == 1
    messages = [m for _p, m in got]
    assert messages[0] == "unknown detection 'lop' (did you mean 'loop'?)", out
    assert "group_by 'country': no detection groups by 'country'" not in out  # 'self' groups by it: not judged
    assert messages[-1] == "detection 'self' cannot take its own alerts as input", out
    assert "not defined" not in messages[-1]


def test_a_signal_left_out_for_a_schema_error_leaves_what_it_could_bring_unjudged(tmp_path: Path) -> None:
    """A signal the schema refused is left out of the rest's compile: what the rules' signals capture is then not
    known, so no group key or placeholder is judged through an undefined input (the unknown signals themselves
    are said; the reference to the one left out is not)."""
    text = PACK.replace("  massed: {match: massed troops}", "  massed: {match: massed troops, near: zero}")
    text = text.replace("pattern: {any: s3}", "pattern: {any: massed}")
    code, got, out = _check(tmp_path, text)
    assert code == 1
    assert [p for p, _m in got] == ["11:40", "16:20", "19:62"], out
    assert got[0][1].startswith("near: Input should be a valid integer")


def test_a_name_that_is_no_slug_is_told_what_a_slug_is(tmp_path: Path) -> None:
    text = PACK.replace("name: borders", "name: Border Pack").replace("id: closure", "id: Closure Check")
    _code, got, out = _check(tmp_path, text)
    said = dict(got)
    assert said["2:7"] == (
        "name: 'Border Pack' is not a lower-case slug (letters a-z, digits, '-' and '_', starting with a letter or "
        "digit; e.g. 'border-pack')"
    ), out
    assert said["13:9"].startswith("id: 'Closure Check' is not a lower-case slug (") and "e.g. 'closure-check'" in out
    assert "String should match pattern" not in out


def test_corroborate_missing_severity_says_whose_severity(tmp_path: Path) -> None:
    text = PACK.replace("    within: 48h\n", "    within: 48h\n    corroborate: {at_least: 2, within: 24h}\n")
    _code, got, out = _check(tmp_path, text)
    said = dict(got)
    assert said["19:5"] == (
        "missing required key 'severity' of corroborate: the severity of the corroborated alert (raised to it, "
        "confirmed, once enough distinct sources report the group; e.g. severity: high)"
    ), out
