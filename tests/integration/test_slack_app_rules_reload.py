"""`watchfloor serve` offers the rules its config and rule files name now, not only those it started with (outside
trial 29, F4): a pack added to the config's `rules:` (or a rule file edited) is read again within seconds, said in
one line, and `/watchfloor subscribe NEW-RULE` is accepted; an edit that does not load keeps the rules as they were,
said. The real slack-bolt app behind `serve`, signed requests as Slack sends them, SQLite on disk."""

from __future__ import annotations

import os
import time

import pytest

from tests.integration import test_slack_app as base
from tests.integration.test_slack_app import DESK, Env, Served, ephemeral, slack

pytestmark = pytest.mark.integration

served = base.served
env = base.env

PACK = """version: 2
name: missiles
language: en
entities:
  PRK: {name: North Korea, kind: country, aliases: [North Korea, Pyongyang]}
signals:
  missile_fired:
    match: {all: [{any: [fires, launches]}, {any: [missile]}]}
    capture: {party: {entities: [PRK]}}
detections:
  - id: missile-fired
    title: "{party} fired a missile"
    severity: medium
    pattern: {any: missile_fired}
    group_by: [party]
"""


def said_by(served: Served, text: str, timeout: float = 30.0) -> str:
    """What serve has logged once a line holding `text` came (its stderr is read without blocking)."""
    assert served.proc.stderr is not None
    fd = served.proc.stderr.fileno()  # (non-blocking since it started serving: read the bytes there are)
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got += os.read(fd, 65536)
        except BlockingIOError:
            pass
        if text in got.decode("utf-8", "replace"):
            return got.decode("utf-8", "replace")
        time.sleep(0.2)
    raise AssertionError(f"serve did not say {text!r}:\n{got}")


def test_a_pack_added_to_the_config_is_offered_without_a_restart(env: Env, served: Served) -> None:
    app = slack(env, served)
    got = ephemeral(app.slash_command("subscribe missile-fired", channel_id=DESK, channel_name="desk"))
    assert got.startswith(":warning: unknown rule 'missile-fired'"), got

    (env.tmp / "missiles.yaml").write_text(PACK, encoding="utf-8")
    text = env.config.read_text(encoding="utf-8")
    env.config.write_text(
        text.replace("rules: [builtin:dprk_russia]", f"rules: [builtin:dprk_russia, {env.tmp / 'missiles.yaml'}]"),
        encoding="utf-8",
    )
    log = said_by(served, "the Slack app now offers")
    assert "its rules:)" in log and "new: missile-fired" in log, log
    got = ephemeral(app.slash_command("subscribe missile-fired", channel_id=DESK, channel_name="desk"))
    assert "missile-fired" in got and "unknown rule" not in got, got
    assert "missile-fired" in ephemeral(app.slash_command("rules", channel_id=DESK, channel_name="desk"))

    # An edit that does not load: said, and the rules stay as they were
    (env.tmp / "missiles.yaml").write_text(PACK.replace("severity: medium", "severity: urgent"), encoding="utf-8")
    log = said_by(served, "do not load; the Slack app keeps its rules")
    assert "missiles.yaml" in log, log
    assert "missile-fired" in ephemeral(app.slash_command("rules", channel_id=DESK, channel_name="desk"))
