"""The cycle line of `watchfloor run` when no source was polled (outside trial 23, M3-3: a cycle that woke only to
deliver printed "polled 0 sources: 0 new documents, …", which read like a failure to poll anything)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional


def test_a_cycle_that_polls_no_source_says_none_was_due(tmp_path: Path) -> None:
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\nsources: []\n"
        f"channels: [{{type: file, name: desk, path: {tmp_path / 'a.jsonl'}}}]\nsubscriptions: [{{channel: desk}}]\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)])
    said = " ".join(res.output.split())
    assert res.exit_code == 0, said
    assert "no source due to poll (each is polled at its own `poll` interval) · 0 processed" in said
    assert "polled 0 sources" not in said
