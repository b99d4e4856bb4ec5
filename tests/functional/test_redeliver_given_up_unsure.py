"""Trial 36, LOW-2: deliveries given up "maybe delivered" (a Slack 500: the post may have been made).

`status` advised `watchfloor alerts redeliver --all-expired --send` for them, which leaves the unsure out and sent 0;
its advice is now the command that re-sends them (with --include-unconfirmed, which looks in the channel first). And
`redeliver --send` with the Slack token unset re-queued the rows, then failed on the token (exit 1, state changed):
what sends is now built before the ledger is touched, so the error leaves the rows given up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.slack_server import FakeSlack
from watchfloor.cli import app
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional
runner = CliRunner()


def given_up_unsure(tmp_path: Path, slack: FakeSlack) -> Path:
    """A store whose one alert's Slack delivery was given up after a 500 (retry.attempts 1): maybe delivered."""
    cfg = desk(tmp_path, slack, "retry: {attempts: 1}\n")
    slack.fail_next("chat.postMessage", status=500)
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env(slack))
    assert res.exit_code == 3 and slack.messages == [], res.output
    return cfg


def desk(tmp_path: Path, slack: FakeSlack, extra: str = "") -> Path:
    """A config: one report that raises one alert, for the Slack channel `desk` (#border) of the local Slack."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        'version: 2\nname: crossing\nsignals:\n  closure:\n    match: {any: ["closed the border crossing"]}\n'
        "detections:\n  - id: crossing-closed\n    title: Border crossing closed\n    severity: high\n"
        "    pattern: {any: closure}\n",
        encoding="utf-8",
    )
    inbox = tmp_path / "inbox.jsonl"
    item = {
        "type": "news.article",
        "id": "crossing-1",
        "source": "Border Daily",
        "published_at": "2024-11-02T08:00:00+00:00",
        "title": "Crossing closed",
        "body": "Guards closed the border crossing this morning.",
    }
    inbox.write_text(json.dumps(item) + "\n", encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\nsources: [{{kind: jsonl, path: {inbox}}}]\n"
        f'channels: [{{type: slack, name: desk, channel: "#border", token_env: WF_TEST_SLACK, '
        f'base_url: "{slack.base_url}"}}]\nsubscriptions: [{{channel: desk}}]\n' + extra,
        encoding="utf-8",
    )
    slack.channels = {"#border"}  # (listed by conversations.list: the look before a re-send finds where to look)
    return cfg


def env(slack: FakeSlack | None) -> dict[str, str | None]:
    return {"WF_TEST_SLACK": None if slack is None else slack.token, "WATCHFLOOR_STORE": ""}


def expired(tmp_path: Path) -> list[tuple[str, bool]]:
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        return [(r.channel, r.unsure) for r in store.deliveries(statuses={"expired"})]
    finally:
        store.close()


def test_status_advises_the_re_send_that_sends_a_maybe_delivered_one(tmp_path: Path, slack_server: FakeSlack) -> None:
    cfg = given_up_unsure(tmp_path, slack_server)
    assert expired(tmp_path) == [("desk", True)]
    res = runner.invoke(app, ["status", "--config", str(cfg)], env=env(slack_server))
    assert res.exit_code == 3, res.output
    said = " ".join(res.output.split())
    advised = "watchfloor alerts redeliver --all-expired --include-unconfirmed --send"
    assert (
        f"1 may have got through (not confirmed; `watchfloor alerts list --undelivered` names them): `{advised}`"
        in (said)
    ), said
    assert "looking for each that may have got through in its Slack channel or file first" in said
    # The bulk re-send without --include-unconfirmed is not advised: it would send nothing here.
    assert "--all-expired --send" not in said, said

    # As advised: looked for in the channel (not there: the 500 came before the post), posted once.
    res = runner.invoke(app, ["alerts", "redeliver", *advised.split()[3:], "--config", str(cfg)], env=env(slack_server))
    assert res.exit_code == 0, res.output
    assert "1 delivery will be sent again (it may have got through before: looked for in the channel first" in (
        " ".join(res.output.split())
    )
    assert len(slack_server.messages) == 1 and expired(tmp_path) == []
    assert slack_server.requests_for("conversations.history"), "looked in the channel before posting"


def test_redeliver_send_without_the_token_leaves_the_ledger_as_it_was(tmp_path: Path, slack_server: FakeSlack) -> None:
    cfg = given_up_unsure(tmp_path, slack_server)
    args = ["alerts", "redeliver", "--all-expired", "--include-unconfirmed", "--send", "--config", str(cfg)]
    res = runner.invoke(app, args, env=env(None))
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert "WF_TEST_SLACK, which is not set" in said and "will be sent again" not in said, said
    assert expired(tmp_path) == [("desk", True)]  # still given up, still unsure: not re-queued behind the error
    st = runner.invoke(app, ["status", "--config", str(cfg), "--json"], env=env(None))
    got = json.loads(st.stdout)["deliveries"]
    assert st.exit_code == 3 and got["expired"] == {"desk": 1} and got["outstanding"] == {}
    # With the token, the same command sends it.
    res = runner.invoke(app, args, env=env(slack_server))
    assert res.exit_code == 0 and len(slack_server.messages) == 1, res.output


def test_resume_send_without_the_token_leaves_the_pause(tmp_path: Path, slack_server: FakeSlack) -> None:
    """`alerts resume CHANNEL --send` likewise: the pause was lifted, then the token failed (exit 1, state changed)."""
    cfg = desk(tmp_path, slack_server)
    slack_server.fail_next("chat.postMessage", status=429, headers={"Retry-After": "600"})
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env=env(slack_server))
    assert res.exit_code == 3 and slack_server.messages == [], res.output
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        paused = store.channel_pauses(0)
    finally:
        store.close()
    assert set(paused) == {"desk"}
    res = runner.invoke(app, ["alerts", "resume", "desk", "--send", "--config", str(cfg)], env=env(None))
    assert res.exit_code == 1 and "WF_TEST_SLACK, which is not set" in res.output, res.output
    assert "resumed" not in res.output, res.output
    store = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    try:
        assert store.channel_pauses(0) == paused  # still paused, as the server asked
    finally:
        store.close()
