"""Several dispatchers on one store keep a channel in event time when one post fails (trial 46, MED-2).

Three dispatchers (threads here, each with its own connections, as processes would have) share one SQLite or
PostgreSQL store and one Slack channel. While one of them holds a post of the channel (Slack slow to answer, then a
500), the others must not claim the channel's later rows past it (PostgreSQL's SKIP LOCKED and an expired-lease
check let them), and while the failed row backs off no one posts past it either: the claim itself keeps the rule, so
the channel's posts come in event time, each once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import RETRY, detection, feed, slack
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.schemas.config import Subscription
from watchfloor.stream_processors.stores.sql import SqlStore

ALERTS = 10


def _posted_order(server: FakeSlack) -> list[str]:
    return [str(m["metadata"]["event_payload"]["alert_id"]) for m in server.messages]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_three_dispatchers_and_one_failed_post_keep_the_channel_in_event_time(
    tmp_path: Path, slack_server: FakeSlack, request: pytest.FixtureRequest, kind: str
) -> None:
    url = f"sqlite:///{tmp_path / 'wf.db'}" if kind == "sqlite" else str(request.getfixturevalue("pg_url"))
    subs = [Subscription(channel="slack-ops")]
    retry = RETRY.model_copy(update={"backoff": timedelta(seconds=1)})
    stores = [SqlStore(url) for _ in range(3)]
    try:
        # Each alert a story of its own (a group each): one message per alert, fired a minute apart
        dets = [detection(n, group={"route": f"R{n:02d}"}) for n in range(1, ALERTS + 1)]
        feed(stores[0], *dets)
        dispatchers = [
            AlertDispatcher(s, {"slack-ops": slack(slack_server)}, subs, retry, owner=f"d{i}")
            for i, s in enumerate(stores)
        ]
        dispatchers[0].cycle(deliver=False)  # every row in the ledger before anyone delivers
        keys = [r.alert_id for r in stores[0].deliveries(channel="slack-ops")]
        assert len(keys) == ALERTS
        # The third post: Slack answers it slowly (the others look for work meanwhile), then with a 500
        slack_server.slow_next("chat.postMessage", 0.2, times=2)
        slack_server.slow_next("chat.postMessage", 1.5)
        slack_server.fail_next("chat.postMessage", 500, after=2)
        slack_server.slow_next("chat.postMessage", 0.2, times=3)
        errors: list[BaseException] = []
        deadline = time.monotonic() + 60

        def work(d: AlertDispatcher) -> None:
            try:
                while time.monotonic() < deadline:
                    d.cycle()
                    if not d.store.deliveries(statuses={"outstanding"}, channel="slack-ops"):
                        return
                    time.sleep(0.05)
            except BaseException as e:  # (said by the test)
                errors.append(e)

        threads = [threading.Thread(target=work, args=(d,)) for d in dispatchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        assert not errors, errors
        posted = _posted_order(slack_server)
        assert len(posted) == len(set(posted)), posted  # never twice
        assert sorted(posted) == sorted(keys), posted  # everything delivered
        fired = {r.alert_id: r.order_at for r in stores[0].deliveries(channel="slack-ops")}
        times = [fired[k] for k in posted]
        assert times == sorted(times), posted  # in event time, the failed one where it belongs
        assert any(q.status == 500 for q in slack_server.requests_for("chat.postMessage"))
    finally:
        for s in stores:
            s.close()
