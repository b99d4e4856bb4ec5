"""Which detections over detections the distributed commands take (no broker here: what is said comes before one).

The workers run a detection over detections (kafka/partition.py; the broker test is
tests/integration/test_kafka_compose_workers.py): the walkthrough pack docs/examples/nato_accession.yaml, whose
`last-ratification` `worker` and `replay-workers` refused before, is taken, and `rules check` notes nothing of it.
So they do a detection over an absence's alerts and one over another detection over detections, which they refused
before (their partitions keep a state per level of derivation: kafka/partition.py, LEVELS; the broker test is
tests/integration/test_kafka_levels_workers.py), and `rules check` notes nothing of those either."""

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


def test_replay_workers_takes_a_detection_over_an_absence_and_a_chain(tmp_path: Path) -> None:
    """Refused at start before (one `error:` line placing each): the partitions keep a state per level now."""
    open_store(f"sqlite:///{tmp_path / 'w.db'}").close()
    chain = tmp_path / "chain.yaml"
    chain.write_text(CHAIN, encoding="utf-8")
    res = CliRunner().invoke(app, ["replay-workers", "--config", str(_config(tmp_path, NATO, COMPOSED, chain)),
                                   "--from-store"])  # fmt: skip
    assert "over detections" not in res.output and "still-closed-alert" not in res.output, res.output
    # past the rules, it reads the store, which the archive never filled
    assert _said(res.output)[0].startswith("error: the store holds no archived records of desk.correlate"), res.output


def test_rules_check_refuses_none_of_them_and_notes_their_levels_on_a_kafka_desk(tmp_path: Path) -> None:
    alone = CliRunner().invoke(app, ["rules", "check", str(COMPOSED)])
    assert alone.exit_code == 0, alone.output
    assert len(_said(alone.output)) == 1 and _said(alone.output)[0].startswith("ok:"), alone.output
    desk = CliRunner().invoke(app, ["rules", "check", "--config", str(_config(tmp_path, COMPOSED))])
    assert desk.exit_code == 0, desk.output
    assert "refuses" not in desk.output and "error" not in desk.output, desk.output
    # what the workers do with it, and its cost (outside trial 84, F5: tests/functional/test_rules_check_levels_note.py)
    assert "note: on the Kafka workers, still-closed-alert" in " ".join(desk.output.split()), desk.output
