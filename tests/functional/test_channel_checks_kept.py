"""What the start-up channel check finds wrong is kept where the on-call looks, not only on the terminal of the start
(trial 33, M2: the app lacking channels:history, so a re-send after a lost answer cannot look first, was said once at
start and nowhere after): `watchfloor status` (and its JSON), /healthz's `warnings` and the status page. A warning,
not a verdict: the channel's alerts are tried anyway. The next start's check replaces it. Real slack-sdk against the
local Slack server, `run --once` on SQLite, a real HTTP server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.cli import app
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.server import Services, WebServer, create_app

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
NO_HISTORY = {"ok": False, "error": "missing_scope", "needed": "channels:history", "provided": "chat:write"}
runner = CliRunner()


def _config(tmp_path: Path, server: FakeSlack) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources:
  - {{kind: jsonl, path: {EVENTS / "treaty_story.jsonl"}}}
channels:
  - {{type: slack, name: desk, channel: "#desk", token_env: WF_TEST_SLACK, base_url: "{server.base_url}"}}
subscriptions:
  - {{channel: desk}}
""",
        encoding="utf-8",
    )
    return cfg


def _get(url: str, path: str) -> tuple[int, str]:
    st = SqlStore(url)
    control = ControlLog(st)
    services = Services(store=st, control=control, context=AppContext(control=control, rules={}), channels=("desk",))
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        try:
            with urllib.request.urlopen(server.url + path, timeout=60) as resp:
                return int(resp.status), str(resp.read().decode())
        except urllib.error.HTTPError as e:
            return int(e.code), str(e.read().decode())
    finally:
        server.stop()
        st.close()


def test_a_failed_channel_check_is_kept_for_status_healthz_and_the_page(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    slack_server.channels = {"#desk"}
    cfg = _config(tmp_path, slack_server)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    slack_server.fail_next("conversations.history", body=NO_HISTORY)
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code in (0, 3), res.output
    url = f"sqlite:///{tmp_path / 'wf.db'}"

    res = runner.invoke(app, ["status", "--config", str(cfg)], env=env)
    said = " ".join(res.output.split())
    assert "channel desk: check at start failed" in said and "channels:history" in said, said
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"], env=env)
    got = json.loads(res.output[res.output.index("{") :])
    assert list(got["channel_checks_failed"]["channels"]) == ["desk"], got
    assert "channels:history" in got["channel_checks_failed"]["channels"]["desk"]

    code, body = _get(url, "/healthz")
    health = json.loads(body)
    assert code == 200 and health["status"] == "ok", health  # a warning, not a verdict
    [warning] = health["warnings"]
    assert warning.startswith("channel desk: check at start (") and "channels:history" in warning, warning
    code, page = _get(url, "/")
    assert code == 200 and "channel desk: check at start (" in page

    # the next start's check passes: the warning is gone everywhere
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code in (0, 3), res.output
    assert "warnings" not in json.loads(_get(url, "/healthz")[1])
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"], env=env)
    assert json.loads(res.output[res.output.index("{") :])["channel_checks_failed"] is None
