"""A pack with a detection over detections is taken by the distributed commands, and `rules check` has nothing to
note of it: the workers run such detections too (kafka/partition.py; the broker test is
tests/integration/test_kafka_compose_workers.py). Before, `worker` and `replay-workers` refused the walkthrough pack
(docs/examples/nato_accession.yaml) in one `error:` line, and `rules check` noted that they would. No broker here."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.stores import open_store

REPO = Path(__file__).resolve().parents[2]
NATO = REPO / "docs" / "examples" / "nato_accession.yaml"
COMPOSED = REPO / "tests" / "data" / "rules" / "composed.yaml"
UNREACHABLE = "127.0.0.1:1"


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
    cfg = _config(tmp_path, NATO, COMPOSED)
    res = CliRunner().invoke(app, ["replay-workers", "--config", str(cfg), "--from-store"])
    assert "over detections" not in res.output, res.output
    # past the rules, it reads the store, which the archive never filled
    assert _said(res.output) == ["error: the store holds no archived records of desk.correlate (`watchfloor archive` "
                                 "keeps them)"], res.output  # fmt: skip


def test_rules_check_notes_nothing_of_it_with_or_without_a_config_for_the_workers(tmp_path: Path) -> None:
    alone = CliRunner().invoke(app, ["rules", "check", str(NATO), str(COMPOSED)])
    assert alone.exit_code == 0, alone.output
    assert len(_said(alone.output)) == 1 and _said(alone.output)[0].startswith("ok:"), alone.output
    desk = CliRunner().invoke(app, ["rules", "check", "--config", str(_config(tmp_path, NATO))])
    assert desk.exit_code == 0, desk.output
    assert "over detections" not in desk.output and "refuses" not in desk.output, desk.output
