"""Embedded `watchfloor status --config` compares the rules the config names now with those the live `run` read at
its start, as the distributed `status` compares the workers' (trial 42, MED-4: `rules:` edited under a live `run`
was said once in its log, and `status` said "caught up", exit 0, `--json` without `rules`). The `run` records its
rules' fingerprint with each cycle. A real `run` process, SQLite on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

from .live_run import start_run, wait_for_heartbeat
from .test_healthz_run_gone import _config
from .test_served_rules import PACK

pytestmark = pytest.mark.functional
runner = CliRunner()


def _status(cfg: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["status", "--config", str(cfg), *args], env={"WATCHFLOOR_STORE": ""})
    return res.exit_code, res.output


def test_embedded_status_says_a_live_run_reads_other_rules_than_the_config_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WATCHFLOOR_KAFKA", raising=False)
    cfg = _config(tmp_path)
    live = start_run(cfg)
    try:
        hb = wait_for_heartbeat(tmp_path / "wf.db", lambda hb: hb.rules is not None)
        recorded = hb.rules if hb is not None else None
        assert recorded is not None
        code, out = _status(cfg, "--wait", "60", "--json")
        got = json.loads(out)
        assert code == 0 and got["ok"] is True, out  # the same rules: as before
        assert got["rules"] == {
            "compared_with": f"the rules {cfg} names",
            "fingerprint": recorded,
            "running": [recorded],
            "differs": False,
            "same_rules_other_release": [],
        }, got
        # The config's rules: edited under the live run (a pack added), which keeps reading with those it started with.
        pack = tmp_path / "missiles.yaml"
        pack.write_text(PACK, encoding="utf-8")
        cfg.write_text(
            cfg.read_text(encoding="utf-8").replace("[builtin:dprk_russia]", f"[builtin:dprk_russia, '{pack}']"),
            encoding="utf-8",
        )
        code, out = _status(cfg, "--json")
        got = json.loads(out)
        assert code == 3 and got["ok"] is False and got["caught_up"] is True, out
        assert got["rules"]["differs"] is True and got["rules"]["running"] == [recorded], got
        assert got["rules"]["fingerprint"] != recorded
        code, out = _status(cfg)
        said = " ".join(out.split())
    finally:
        live.kill()
        live.wait()
    assert code == 3, out
    assert (
        f"the `watchfloor run` that wrote the last cycle (pid {live.pid} on {os.uname().nodename}) runs other rules "
        f"than the rules {cfg} names now (" in said
    ), said
    assert f"fingerprint {recorded}, these are " in said and "stop the `run` and start it again" in said, said
    assert "caught up; the `watchfloor run` runs other rules (above)" in said, said
    # A `run --once` (cron) records no running rules: the next one reads the config's.
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"WATCHFLOOR_STORE": ""})
    assert res.exit_code in (0, 3), res.output
    code, out = _status(cfg, "--json")
    got = json.loads(out)
    assert got["rules"]["running"] == [] and got["rules"]["differs"] is False, got
