"""A detection over detections, which the distributed worker does not run, is said at start, placed in its pack
(outside trial 75, F1): the walkthrough pack docs/examples/nato_accession.yaml ended every `watchfloor worker` in a
40-line traceback naming neither pack nor detection, and `rules check` said `ok`. Now `worker` (and `replay-workers`,
which replays the workers' correlators) refuse it in one `error:` line before any broker is asked, and `rules check`
notes it (a warning when the config given has a `kafka:` section). No broker: these refusals come before one."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

REPO = Path(__file__).resolve().parents[2]
NATO = REPO / "docs" / "examples" / "nato_accession.yaml"
COMPOSED = REPO / "tests" / "data" / "rules" / "composed.yaml"
UNREACHABLE = "127.0.0.1:1"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def _config(tmp_path: Path, *rules: Path, kafka: bool = True) -> Path:
    cfg = tmp_path / "desk.yaml"
    listed = "".join(f", '{r}'" for r in rules)
    section = f"kafka: {{bootstrap: '{UNREACHABLE}', prefix: desk}}\n" if kafka else ""
    cfg.write_text(f"rules: [builtin:dprk_russia{listed}]\n{section}store: 'sqlite:///{tmp_path / 'w.db'}'\n")
    return cfg


def _said(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_a_worker_with_the_walkthrough_pack_refuses_it_in_one_line_naming_the_pack_and_the_detection(
    tmp_path: Path,
) -> None:
    cfg = _config(tmp_path, NATO)
    res = CliRunner().invoke(app, ["worker", "--config", str(cfg), "--datadir", str(tmp_path / "w")])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    lines = _said(res.output)
    assert len(lines) == 1, res.output
    place = f"{NATO}:{_line_of(NATO, '- id: last-ratification')}:5"
    assert lines[0].startswith(f"error: {place}: detection 'last-ratification' is over detections"), lines[0]
    assert "the distributed worker does not run" in lines[0]
    assert "`watchfloor run`" in lines[0] and "leave the detection out of the rules the workers load" in lines[0]
    assert not (tmp_path / "w").exists()  # refused before it claimed its data directory


def test_every_refused_detection_is_named_with_its_place(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    res = CliRunner().invoke(app, ["worker", "--config", str(cfg), "--rules", str(COMPOSED)])
    assert res.exit_code == 1, res.output
    lines = _said(res.output)
    assert len(lines) == 1, res.output
    first = _line_of(COMPOSED, "- id: closure-confirmed")
    assert lines[0].startswith(f"error: {COMPOSED}:{first}:5: detection 'closure-confirmed' is over detections")
    for det in ("both-closed", "still-closed-alert"):
        assert f"'{det}' ({COMPOSED}:{_line_of(COMPOSED, f'- id: {det}')})" in lines[0], lines[0]
    assert "leave these detections out of the rules the workers load" in lines[0]


def test_replay_workers_refuses_it_the_same_way_before_asking_the_broker(tmp_path: Path) -> None:
    cfg = _config(tmp_path, NATO)
    res = CliRunner().invoke(app, ["replay-workers", "--config", str(cfg)])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "unreachable" not in res.output
    lines = _said(res.output)
    assert len(lines) == 1 and ": detection 'last-ratification' is over detections" in lines[0], res.output


def test_rules_check_notes_it_and_warns_with_a_config_for_the_workers(tmp_path: Path) -> None:
    note = f"{NATO}:{_line_of(NATO, '- id: last-ratification')}:5: note: detection 'last-ratification'"
    alone = CliRunner().invoke(app, ["rules", "check", str(NATO)])
    assert alone.exit_code == 0, alone.output
    assert _said(alone.output)[0].startswith(note), alone.output
    assert "`watchfloor worker` refuses these rules at start" in alone.output
    assert _said(alone.output)[-1].startswith("ok:")

    embedded = CliRunner().invoke(app, ["rules", "check", "--config", str(_config(tmp_path, NATO, kafka=False))])
    assert embedded.exit_code == 0 and _said(embedded.output)[0].startswith(note), embedded.output

    desk = CliRunner().invoke(app, ["rules", "check", "--config", str(_config(tmp_path, NATO))])
    assert desk.exit_code == 0, desk.output
    warning = note.replace(": note: ", ": warning: ")
    assert next(line for line in _said(desk.output) if "last-ratification" in line).startswith(warning), desk.output


def test_a_pack_without_detections_over_detections_gets_no_such_note() -> None:
    res = CliRunner().invoke(app, ["rules", "check", "builtin:dprk_russia"])
    assert res.exit_code == 0, res.output
    assert "over detections" not in res.output
