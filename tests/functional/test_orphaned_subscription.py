"""A subscription made from the CLI or Slack whose rule is later renamed or removed from the packs is said, not left
silently dark (outside trial 69, M1: after a rule rename #ops got nothing, `run` started without a word, `list`
showed it as normal): `run` logs it, `subscriptions list` warns of it, and Slack's `/watchfloor list` marks it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.alerts.control import orphaned_subscriptions
from watchfloor.cli import app
from watchfloor.schemas.control import Actor, SubscriptionCreated

pytestmark = pytest.mark.functional

runner = CliRunner()

PACK = """version: 2
name: borders
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closed:
    match: {all: [closed, border]}
    capture: {country: {entities: [A]}}
detections:
  - id: RULE_ID
    title: "{country} closed its border"
    tags: [borders]
    pattern: {any: closed}
    group_by: [country]
"""


def test_a_subscription_whose_rule_was_renamed_is_said_by_run_and_list(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK.replace("RULE_ID", "border-closed"), encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\n"
        f"channels:\n  - {{type: file, name: ops, path: {tmp_path / 'ops.jsonl'}}}\n",
        encoding="utf-8",
    )
    c = ["--config", str(cfg)]
    res = runner.invoke(app, ["subscriptions", "add", "ops", "--rule", "border-closed", *c])
    assert res.exit_code == 0, res.output
    sub_id = res.output.split()[1]
    res = runner.invoke(app, ["subscriptions", "list", *c])
    assert "warning" not in res.output, res.output  # its rule is loaded: nothing to say
    # The pack renames the rule: the subscription now gets nothing.
    pack.write_text(PACK.replace("RULE_ID", "border-closure"), encoding="utf-8")
    res = runner.invoke(app, ["subscriptions", "list", *c], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert (
        f"warning: {sub_id} names rule 'border-closed' (did you mean border-closure?), which no loaded rule pack "
        f"has: it gets no alerts of it; restore the rule, or `watchfloor subscriptions remove {sub_id}`" in said
    ), said
    with caplog.at_level(logging.WARNING):
        res = runner.invoke(app, ["run", "--once", *c])
    assert res.exit_code == 0, res.output
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("subscriptions: ")]
    assert logged == [
        f"subscriptions: {sub_id} of channel ops (made by {_cli_actor(cfg)}) names rule 'border-closed' (did you mean "
        "border-closure?), which no loaded rule pack has: it gets no alerts of it; restore the rule, or `watchfloor "
        f"subscriptions remove {sub_id}`"
    ], logged


def _cli_actor(cfg: Path) -> str:
    res = runner.invoke(app, ["subscriptions", "list", "--json", "--config", str(cfg)])
    [line] = [line for line in res.output.splitlines() if line.startswith("{")]  # (the warning is beside it)
    return Actor.model_validate(json.loads(line)["by"]).label()


def test_a_tag_no_loaded_rule_carries_and_the_config_s_own_are_left_to_the_config_check() -> None:
    by = Actor(via="slack", user="U1", name="alice")
    at = "2026-12-01T00:00:00+00:00"
    subs = [
        SubscriptionCreated(id="s1", channel="slack:C1", tags=("treaty",), managed_by="slack", by=by, at=at),
        SubscriptionCreated(id="s2", channel="slack:C1", tags=("borders",), managed_by="slack", by=by, at=at),
        SubscriptionCreated(id="s3", channel="ops", rules=("gone",), managed_by="config", by=by, at=at),
        SubscriptionCreated(id="s4", channel="ops", rules=("*",), managed_by="slack", by=by, at=at),
    ]
    got = orphaned_subscriptions(subs, {"border-closure"}, {"borders"})
    assert [(s.id, why) for s, why in got] == [
        ("s1", "takes alerts tagged 'treaty', which no loaded rule carries: it gets nothing")
    ]
