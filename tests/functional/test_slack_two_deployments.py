"""Two deployments (staging and production, or two stores) posting the same alert ids into one Slack channel
(outside trial 9, F6): after an attempt that may have got through, the look in the channel finds only its own
deployment's message, written in the metadata; a message of before deployments were written is still found.
Real slack-sdk against the local Slack server, the ledgers in SQLite on disk; the deployment comes from the store
as `watchfloor run` names it (wiring.deployment_of)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import Clock, detection, feed, ledger, make
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores import open_store
from watchfloor.wiring import deployment_of

pytestmark = pytest.mark.functional


def deployment(tmp_path: Path, name: str, server: FakeSlack, deployed: bool = True) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path / name / 'wf.db'}"
    (tmp_path / name).mkdir()
    return open_store(url), deployment_of(url) if deployed else ""


def notifier(server: FakeSlack, deployment: str) -> SlackNotifier:
    return SlackNotifier(
        "slack-ops", "#dprk-russia", server.token, base_url=server.base_url, deployment=deployment or None
    )


def test_the_look_after_an_interrupted_attempt_finds_only_its_own_deployments_message(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    prod, prod_id = deployment(tmp_path, "prod", slack_server)
    staging, staging_id = deployment(tmp_path, "staging", slack_server)
    assert prod_id != staging_id
    clock = Clock()
    p = make(prod, slack_server, tmp_path / "p.jsonl", clock, slack_notifier=notifier(slack_server, prod_id))
    feed(prod, detection(1))
    assert p.cycle().ok
    [posted] = slack_server.messages
    assert posted["metadata"]["event_payload"]["deployment"] == prod_id

    # staging: the same alert; its first attempt fails with a 500 that may have posted (it did not)
    s = make(staging, slack_server, tmp_path / "s.jsonl", clock, slack_notifier=notifier(slack_server, staging_id))
    slack_server.fail_next("chat.postMessage", status=500)
    feed(staging, detection(1))
    assert not s.cycle().ok
    clock.advance(s.next_due() or 0)
    assert s.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 2  # its own message, not production's taken for it
    mine = ledger(staging)[("det0001", "slack-ops")]
    assert (
        mine.ref.endswith(":" + slack_server.messages[-1]["ts"])
        and mine.ref != ledger(prod)[("det0001", "slack-ops")].ref
    )
    prod.close()
    staging.close()


def test_a_message_posted_before_deployments_were_written_is_still_found(
    tmp_path: Path, slack_server: FakeSlack
) -> None:
    """An upgrade: the first attempt (an older version: no deployment in the metadata) got through but its answer
    was lost; the upgraded process looks, finds it, and does not post it again."""
    store, deployed = deployment(tmp_path, "one", slack_server)
    clock = Clock()
    old = make(store, slack_server, tmp_path / "a.jsonl", clock, slack_notifier=notifier(slack_server, ""))
    slack_server.fail_after_next("chat.postMessage", status=500)  # posted, then answered 500
    feed(store, detection(1))
    assert not old.cycle().ok
    new = make(store, slack_server, tmp_path / "a.jsonl", clock, slack_notifier=notifier(slack_server, deployed))
    clock.advance(new.next_due() or 0)
    assert new.cycle().ok
    assert len(slack_server.messages_for("det0001")) == 1
    store.close()
