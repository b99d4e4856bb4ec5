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


def _status(cfg: Path, env: dict[str, str]) -> tuple[str, dict[str, object]]:
    res = runner.invoke(app, ["status", "--config", str(cfg)], env=env)
    said = " ".join(res.output.split())
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"], env=env)
    return said, json.loads(res.output[res.output.index("{") :])


def test_a_failed_check_is_superseded_by_a_delivery_sent_there_after_it(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Trial 54, LOW-1: Slack was down at the start (auth.test failed), then the channel took the run's alerts.
    `status`, /healthz and the page no longer warn of the start's check; `status` says it was superseded."""
    slack_server.channels = {"#desk"}
    cfg = _config(tmp_path, slack_server)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    slack_server.fail_next("auth.test", status=500, times=5)
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env)
    assert res.exit_code == 0, res.output
    assert "channel desk: check failed" in " ".join(res.output.split()), res.output  # (the start's own line)
    assert slack_server.messages, "the run delivered nothing: no delivery after the check to test with"
    url = f"sqlite:///{tmp_path / 'wf.db'}"

    said, got = _status(cfg, env)
    assert "check at start failed" in said and "delivered since (the last at" in said, said
    assert got["channel_checks_failed"] is None, got
    superseded = got["channel_checks_superseded"]
    assert isinstance(superseded, dict) and list(superseded["channels"]) == ["desk"], got
    health = json.loads(_get(url, "/healthz")[1])
    assert health["status"] == "ok" and "warnings" not in health, health
    code, page = _get(url, "/")
    assert code == 200 and "check at start (" not in page


def test_a_delivery_sent_before_the_failed_check_does_not_supersede_it(tmp_path: Path, slack_server: FakeSlack) -> None:
    """Only a delivery sent after the check's time tells the channel works since; one before it tells nothing."""
    from datetime import UTC, datetime, timedelta

    from tests.fixtures.ledger import settle_row
    from watchfloor.web.activity import record_channel_checks

    cfg = _config(tmp_path, slack_server)
    env = {"WF_TEST_SLACK": slack_server.token, "WATCHFLOOR_STORE": ""}
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    checked = datetime(2026, 12, 6, 17, 31, 44, tzinfo=UTC)
    st = SqlStore(url)
    try:
        settle_row(st, "a1", "desk", "sent", now=(checked - timedelta(minutes=5)).timestamp())
        settle_row(st, "a2", "other", "sent", now=(checked + timedelta(minutes=5)).timestamp())  # another channel
        why = "slack desk auth.test: network error: RemoteDisconnected"
        record_channel_checks(st, checked, [("desk", why)], {"desk": "desk"})
    finally:
        st.close()
    said, got = _status(cfg, env)
    assert "channel desk: check at start failed (2026-12-06T17:31:44+00:00): slack desk auth.test" in said, said
    assert "delivered since" not in said and got["channel_checks_superseded"] is None, got
    [warning] = json.loads(_get(url, "/healthz")[1])["warnings"]
    assert warning.startswith("channel desk: check at start (2026-12-06T17:31:44+00:00) failed: slack desk auth.test")

    st = SqlStore(url)
    try:
        settle_row(st, "a3", "desk", "sent", now=(checked + timedelta(seconds=13)).timestamp())
    finally:
        st.close()
    said, got = _status(cfg, env)
    assert "delivered since (the last at 17:31:57 UTC)" in said and got["channel_checks_failed"] is None, said
    assert "warnings" not in json.loads(_get(url, "/healthz")[1])
