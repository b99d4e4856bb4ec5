"""`rules check --config` of a Kafka desk says what the workers do with a detection over an absence's alerts or a chain
(a state per level of derivation) and that it costs more (outside trial 84, F5: it said only `ok`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional
COMPOSED = (
    Path(__file__).resolve().parents[1] / "data" / "rules" / "composed.yaml"
)  # `still-closed-alert`: over an absence


@pytest.mark.parametrize("kafka", [True, False])
def test_rules_check_notes_the_levels_on_a_kafka_desk(tmp_path: Path, kafka: bool) -> None:
    cfg = tmp_path / "desk.yaml"
    section = "kafka: {bootstrap: 127.0.0.1:9, prefix: desk}\n" if kafka else ""
    cfg.write_text(f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{COMPOSED}]\n{section}", encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", "--config", str(cfg)])
    said = " ".join(res.output.split())
    assert res.exit_code == 0 and "ok: 1 pack" in said, res.output
    note = "note: on the Kafka workers, still-closed-alert (over an absence's alerts, or a chain) make each correlate"
    assert (note in said) is kafka, said
