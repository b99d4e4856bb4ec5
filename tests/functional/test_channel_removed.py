"""Deliveries outstanding for a channel removed from the config (trial 19, M5): the start names them and the way out,
and `watchfloor alerts cancel --channel NAME` settles them `suppressed` through the ledger (a delivery event each),
honouring `--dry-run`; the store is then caught up. Real SQLite store, real `run --once` and `status`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import EventType
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional

runner = CliRunner()


def setup(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    now = time.time()
    st = SqlStore(url)
    try:
        st.enqueue([DeliveryRecord(f"a{i}", "desk", seq=i, created_at=now - 60 + i) for i in range(1, 4)])
        st.defer_channel("desk", now + 600, now, server_asked=True)  # paused too: the cancel lifts it first
    finally:
        st.close()
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("", encoding="utf-8")
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: {url}\nsources:\n  - {{kind: jsonl, path: {inbox}}}\n"
        f"channels:\n  - {{type: file, name: archive, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "subscriptions:\n  - {channel: archive}\n",
        encoding="utf-8",
    )
    return url, cfg


def test_the_start_names_the_deliveries_of_a_channel_no_longer_configured(tmp_path: Path) -> None:
    _, cfg = setup(tmp_path)
    res = runner.invoke(app, ["run", "--config", str(cfg), "--once"])
    said = " ".join(res.output.split())
    assert (
        "3 deliveries outstanding for channel 'desk', which this config does not name: left for a process on this "
        "store whose config names it; if none does (removed), `watchfloor alerts cancel --channel desk` (or re-add it)"
    ) in said
    assert res.exit_code == 3  # still outstanding: undelivered alerts, until cancelled or sent


def test_alerts_cancel_settles_them_suppressed_with_a_delivery_event_and_dry_run_changes_nothing(
    tmp_path: Path,
) -> None:
    url, cfg = setup(tmp_path)
    res = runner.invoke(app, ["alerts", "cancel", "--channel", "desk", "--config", str(cfg), "--dry-run"])
    assert res.exit_code == 0 and "would cancel 3 deliveries outstanding for channel desk" in res.output
    st = SqlStore(url)
    try:
        assert {r.status for r in st.deliveries(channel="desk")} == {"outstanding"}
    finally:
        st.close()

    res = runner.invoke(app, ["alerts", "cancel", "--channel", "archive", "--config", str(cfg)])
    assert res.exit_code != 0 and "is configured" in res.output  # a live channel is not cancelled
    res = runner.invoke(app, ["alerts", "cancel", "--channel", "dsek", "--config", str(cfg)])
    assert res.exit_code != 0  # a typo is refused, not a silent no-op

    res = runner.invoke(app, ["alerts", "cancel", "--channel", "desk", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "cancelled 3 deliveries outstanding for channel desk" in " ".join(res.output.split())
    st = SqlStore(url)
    try:
        rows = st.deliveries(channel="desk")
        assert [r.status for r in rows] == ["suppressed"] * 3
        assert all("no longer configured" in r.detail for r in rows)
        events = [e.event.payload for e in st.read(types=[EventType.DELIVERY.value])]
        assert sorted((p["alert_id"], p["status"]) for p in events) == [(f"a{i}", "suppressed") for i in range(1, 4)]
    finally:
        st.close()
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    got = json.loads(res.stdout)
    assert got["caught_up"] and got["ok"] and got["deliveries"]["outstanding"] == {}
    assert res.exit_code == 0


def test_a_process_whose_config_lacks_a_channel_leaves_its_deliveries_to_one_that_has_it(tmp_path: Path) -> None:
    """Outside trial 23, M1/M2-3: two processes on one store during a config rollout, one naming the channel `desk`
    and one not. The one without it took desk's deliveries, failed them ("no notifier configured") and counted the
    attempts: with `retry.attempts: 2` the alerts expired unsent although the other process could send them. Now it
    leaves them as they are (no attempt, no backoff) and says so once; the process that names the channel sends."""
    samples = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    # desk's file cannot be written yet (a path under a plain file, even by root): its first attempts fail, as a
    # channel down would. (Not a directory at the path: the start refuses that as a bad config.)
    under = tmp_path / "desk"
    under.write_text("", encoding="utf-8")
    blocked = under / "desk.jsonl"

    def config(name: str, channels: str) -> Path:
        cfg = tmp_path / name
        cfg.write_text(
            f"store: {url}\nrules: [builtin:dprk_russia]\nretry: {{attempts: 2}}\n"
            f"sources:\n  - {{kind: jsonl, path: {samples}}}\n{channels}",
            encoding="utf-8",
        )
        return cfg

    with_desk = config(
        "a.yaml",
        f"channels:\n  - {{type: file, name: desk, path: {blocked}}}\nsubscriptions:\n  - {{channel: desk}}\n",
    )
    without = config(
        "b.yaml",
        f"channels:\n  - {{type: file, name: other, path: {tmp_path / 'other.jsonl'}}}\n"
        "subscriptions:\n  - {channel: other}\n",
    )
    res = runner.invoke(app, ["run", "--config", str(with_desk), "--once"])
    assert res.exit_code == 3, res.output  # desk's deliveries failed once each: outstanding
    st = SqlStore(url)
    try:
        before = {r.alert_id: r for r in st.deliveries(channel="desk")}
    finally:
        st.close()
    # The first failed; the channel's others wait for it (a channel-wide failure), not tried in this cycle.
    assert before and all(r.status == "outstanding" for r in before.values())
    assert sorted(r.attempts for r in before.values())[-1] == 1

    for _ in range(3):  # the other config's process, several cycles: desk's rows are not its to try
        res = runner.invoke(app, ["run", "--config", str(without), "--once"])
        said = " ".join(res.output.split())
        assert "which this config does not name" in said, said
    st = SqlStore(url)
    try:
        after = {r.alert_id: r for r in st.deliveries(channel="desk")}
    finally:
        st.close()
    assert {k: (r.status, r.attempts, r.next_attempt_at) for k, r in after.items()} == {
        k: (r.status, r.attempts, r.next_attempt_at) for k, r in before.items()
    }

    under.unlink()  # desk can be written now: the process that names it sends them all, none expired
    res = runner.invoke(app, ["run", "--config", str(with_desk), "--once"])
    assert res.exit_code == 0, res.output
    assert len(blocked.read_text(encoding="utf-8").splitlines()) == len(before)
