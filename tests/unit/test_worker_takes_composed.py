"""Which detections over detections the distributed commands take (no broker here: what is said comes before one).

The workers run a detection over detections (kafka/partition.py; the broker test is
tests/integration/test_kafka_compose_workers.py): the walkthrough pack docs/examples/nato_accession.yaml, whose
`last-ratification` `worker` and `replay-workers` refused before, is taken, and `rules check` notes nothing of it.
They still refuse, in one `error:` line placing each in its pack, a detection over an absence's alerts or over
another detection over detections (`kafka.partition.not_distributed`: such an input alert can reach the derived
group's partition after its watermark passed), and `rules check` notes those (a warning with a config for the
workers)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.stores import open_store

REPO = Path(__file__).resolve().parents[2]
NATO = REPO / "docs" / "examples" / "nato_accession.yaml"
COMPOSED = REPO / "tests" / "data" / "rules" / "composed.yaml"  # its still-closed-alert is over an absence
WORKERS = REPO / "tests" / "data" / "rules" / "composed_workers.yaml"  # the same without it
CHAIN = """version: 2
name: chain
detections:
  - id: closures-confirmed-twice
    title: "{country}: two confirmed closures"
    pattern: {count: {signal: {detection: closure-confirmed}, at_least: 2}}
    group_by: [country]
    within: 5d
"""
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


def test_replay_workers_takes_the_walkthrough_pack(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path / 'w.db'}").close()
    cfg = _config(tmp_path, NATO, WORKERS)
    res = CliRunner().invoke(app, ["replay-workers", "--config", str(cfg), "--from-store"])
    assert "over detections" not in res.output, res.output
    # past the rules, it reads the store, which the archive never filled
    assert _said(res.output) == ["error: the store holds no archived records of desk.correlate (`watchfloor archive` "
                                 "keeps them)"], res.output  # fmt: skip


def test_rules_check_notes_nothing_of_the_walkthrough_pack(tmp_path: Path) -> None:
    alone = CliRunner().invoke(app, ["rules", "check", str(NATO), str(WORKERS)])
    assert alone.exit_code == 0, alone.output
    assert len(_said(alone.output)) == 1 and _said(alone.output)[0].startswith("ok:"), alone.output
    desk = CliRunner().invoke(app, ["rules", "check", "--config", str(_config(tmp_path, NATO))])
    assert desk.exit_code == 0, desk.output
    assert "over detections" not in desk.output and "refuses" not in desk.output, desk.output


def test_a_worker_refuses_a_detection_over_an_absence_or_over_a_derived_one_placing_each(tmp_path: Path) -> None:
    chain = tmp_path / "chain.yaml"
    chain.write_text(CHAIN, encoding="utf-8")
    res = CliRunner().invoke(app, ["worker", "--config", str(_config(tmp_path, NATO, COMPOSED, chain))])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    lines = _said(res.output)
    assert len(lines) == 1, res.output
    first = _line_of(COMPOSED, "- id: still-closed-alert")
    assert lines[0].startswith(f"error: {COMPOSED}:{first}:5: detection 'still-closed-alert' is over detections (it "
                               "takes the alerts of 'still-closed'): the distributed workers run detections over "
                               "detections, but not over an absence's alerts"), lines[0]  # fmt: skip
    assert f"so are 'closures-confirmed-twice' ({chain}:{_line_of(chain, '- id: closures')})" in lines[0], lines[0]
    assert "last-ratification" not in lines[0] and "'both-closed'" not in lines[0], lines[0]
    assert not (tmp_path / "w").exists()


def test_rules_check_notes_them_and_warns_with_a_config_for_the_workers(tmp_path: Path) -> None:
    note = f"{COMPOSED}:{_line_of(COMPOSED, '- id: still-closed-alert')}:5: note: detection 'still-closed-alert'"
    alone = CliRunner().invoke(app, ["rules", "check", str(COMPOSED)])
    assert alone.exit_code == 0, alone.output
    assert _said(alone.output)[0].startswith(note), alone.output
    assert "`watchfloor worker` refuses these rules at start" in alone.output
    assert _said(alone.output)[-1].startswith("ok:") and len(_said(alone.output)) == 2, alone.output
    desk = CliRunner().invoke(app, ["rules", "check", "--config", str(_config(tmp_path, COMPOSED))])
    assert desk.exit_code == 0, desk.output
    warning = note.replace(": note: ", ": warning: ")
    assert next(line for line in _said(desk.output) if "still-closed-alert" in line).startswith(warning), desk.output
