"""A live `watchfloor notify` waits out its PostgreSQL store going away, and delivers what comes after it is back
(outside trial 39, H1: it exited 1 within 2 s of PostgreSQL stopping, and nothing restarted it). The outage is a real
one for the process: its connections go through a TCP relay in front of the test's PostgreSQL, which is closed (every
connection cut, new ones refused) and opened again. Real processes, real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.fixtures.relay import Relay
from tests.fixtures.slack_server import FakeSlack
from tests.functional.delivery_helpers import detection, feed
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _wait_for(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.3)
    return False


def ledger(st: SqlStore) -> list[tuple[str, str, int, str, str | None, float | None]]:
    """The rows as a failure message shows them (a row claimed and not settled is what held alerts back in CI)."""
    return [(r.alert_id, r.status, r.attempts, r.detail, r.lease_owner, r.lease_until) for r in st.deliveries()]


@contextmanager
def notify_through_relay(
    pg_url: str, tmp_path: Path, channel: str, subscribed: str, env: dict[str, str] | None = None
) -> Iterator[tuple[Relay, subprocess.Popen[bytes], Path]]:
    """A live `notify` on the test's PostgreSQL seen through a relay the test cuts and resumes; its output in a log."""
    parts = urlsplit(pg_url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    user = parts.username or "postgres"
    proxied = urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{relay.port}"))
    cfg = tmp_path / "desk.yaml"
    cfg.write_text(
        f"store: {proxied}\nchannels: [{channel}]\nsubscriptions: [{{channel: {subscribed}}}]\n", encoding="utf-8"
    )
    log = tmp_path / "notify.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "WATCHFLOOR_STORE": "", "WATCHFLOOR_KAFKA": "", **(env or {})}
    with log.open("w") as out:
        notify = subprocess.Popen(
            [sys.executable, "-m", "watchfloor", "notify", "--config", str(cfg), "--interval", "0.5"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield relay, notify, log
    finally:
        notify.terminate()
        notify.wait(30)
        relay.close()


def test_a_live_notify_waits_out_a_store_outage_and_delivers_after_it(pg_url: str, tmp_path: Path) -> None:
    archive = tmp_path / "alerts.jsonl"
    st = SqlStore(pg_url)
    feed(st, detection(1))

    def delivered() -> list[str]:
        if not archive.exists():
            return []
        return [json.loads(line)["id"] for line in archive.read_text().splitlines() if line.strip()]

    channel = f"{{type: file, name: archive, path: {archive}}}"
    with notify_through_relay(pg_url, tmp_path, channel, "archive") as (relay, notify, log):
        try:
            assert _wait_for(lambda: len(delivered()) == 1, 90), log.read_text()
            # The outage comes between deliveries here (once the first is settled too); one cut between a post and
            # its settlement is the next test's.
            settled = _wait_for(lambda: [r.status for r in st.deliveries(channel="archive")] == ["sent"], 60)
            assert settled, log.read_text()
            relay.cut()  # PostgreSQL goes away for notify
            time.sleep(8)
            assert notify.poll() is None, log.read_text()  # still running (it exited 1 here)
            feed(st, detection(2))  # (written straight to PostgreSQL meanwhile, as the workers would)
            relay.resume()
            assert _wait_for(lambda: len(delivered()) == 2, 90), (ledger(st), log.read_text())
            # (the "reachable again" line is said once the cycle that met the store again ends, which may be just
            # after its delivery is in the file: the CI rehearsal read the log in between)
            assert _wait_for(lambda: "reachable again" in log.read_text(), 30), log.read_text()
            said = log.read_text()
            assert "the store" in said and "unreachable" in said, said
            assert "notify tries again every 1s" in said and "reachable again" in said, said
        finally:
            st.close()


def test_a_post_that_got_through_as_the_store_went_away_is_recorded_once_it_is_back(
    pg_url: str, tmp_path: Path, slack_server: FakeSlack
) -> None:
    """Cut between a Slack post and its settlement (seen in CI): the post's outcome is recorded as soon as the store is
    back, and the channel's next alert goes at once. Left claimed by the process, the row waited out its lease
    (`retry.lease`, 2 min) with the next alert behind it; the test gives it 60 s."""
    st = SqlStore(pg_url)
    feed(st, detection(1))
    release, arrived = slack_server.hold_next("chat.postMessage")
    channel = (
        "{type: slack, name: desk, channel: '#desk', token_env: WF_TEST_SLACK, "
        f"base_url: '{slack_server.base_url}', timeout: 5}}"
    )
    token = {"WF_TEST_SLACK": slack_server.token}
    with notify_through_relay(pg_url, tmp_path, channel, "desk", token) as (relay, notify, log):
        try:
            assert arrived.wait(90), log.read_text()  # the first alert's post is at Slack, not answered yet
            relay.cut()  # PostgreSQL goes away for notify
            release.set()  # Slack answers: the post went through, and its settlement meets the outage
            time.sleep(5)
            assert notify.poll() is None, log.read_text()
            feed(st, detection(2))
            relay.resume()

            def statuses() -> list[str]:
                return sorted(r.status for r in st.deliveries(channel="desk"))

            assert _wait_for(lambda: statuses() == ["sent", "sent"], 60), (statuses(), log.read_text())
            posted = [r.body.get("metadata") for r in slack_server.requests_for("chat.postMessage")]
            assert len(posted) == 2, posted  # each once: the first was not sent again
        finally:
            st.close()
