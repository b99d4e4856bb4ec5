"""The `watchfloor alerts list` table: each alert's id, whole (what `alerts redeliver` takes), and its time in UTC,
marked so, whatever offset the report that fired it carried and whatever the machine's time zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import Detection, detection_event
from watchfloor.stream_processors.stores import open_store

pytestmark = pytest.mark.functional

runner = CliRunner()
TOKYO = timezone(timedelta(hours=9))


@pytest.fixture
def tokyo_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is Asia/Tokyo (UTC+9) for the test."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def detection(n: int, rule: str, fired_at: datetime) -> Detection:
    return Detection(id=f"{n:04d}a1b2c3d4e5f6a7b8", rule=rule, title=f"alert {n}", severity="high", fired_at=fired_at)


def test_alerts_list_shows_ids_and_utc_times(tmp_path: Path, tokyo_machine: None) -> None:
    assert time.localtime(0).tm_hour == 9  # the machine's zone is not UTC
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    st = open_store(url)
    try:
        st.append(
            [
                detection_event(detection(1, "from-tokyo", datetime(2024, 11, 4, 18, 12, 5, tzinfo=TOKYO))),
                detection_event(detection(2, "in-utc", datetime(2024, 11, 4, 23, 30, tzinfo=UTC))),
            ]
        )
    finally:
        st.close()
    env = {"WATCHFLOOR_STORE": "", "COLUMNS": "250"}
    res = runner.invoke(app, ["alerts", "list", "--store", url], env=env)
    assert res.exit_code == 0, res.output
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in res.output.splitlines() if line.startswith("│")]
    assert [r[:3] for r in rows] == [  # newest (raised last) first
        ["0002a1b2c3d4e5f6a7b8", "2024-11-04 23:30:00 UTC", "in-utc"],  # not 08:30 the next day, Tokyo time
        ["0001a1b2c3d4e5f6a7b8", "2024-11-04 09:12:05 UTC", "from-tokyo"],  # 18:12:05+09:00
    ], res.output
    header = next(line for line in res.output.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.split("┃")[1:4]] == ["id", "fired at", "rule"], res.output

    # The id shown is one `alerts redeliver` takes (no deliveries here: nothing to send, but no refusal).
    res = runner.invoke(app, ["alerts", "redeliver", rows[0][0], "--store", url], env=env)
    assert res.exit_code == 0 and "0 deliveries will be sent again" in res.output, res.output


def test_without_a_terminal_the_table_is_wide_enough_for_a_row_per_alert(tmp_path: Path) -> None:
    """Operator audit F8: from cron or a script's pipe (no terminal, no $COLUMNS) rich drew 80 columns, folding each
    alert over several lines; now 160."""
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'wf.db'}"
    title = "Border crossing at the northern checkpoint closed to freight"
    st = open_store(url)
    try:
        st.append(
            [
                detection_event(
                    Detection(
                        id="0001a1b2c3d4e5f6a7b8",
                        rule="crossing-closed",
                        title=title,
                        severity="high",
                        fired_at=datetime(2024, 11, 2, 8, tzinfo=UTC),
                    )
                )
            ]
        )
    finally:
        st.close()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES") and not k.startswith("WATCHFLOOR_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    res = subprocess.run(
        [sys.executable, "-m", "watchfloor", "alerts", "list", "--store", url],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    (row,) = [line for line in res.stdout.splitlines() if "0001a1b2c3d4e5f6a7b8" in line]
    assert title in row and "crossing-closed" in row and len(row) <= 160, res.stdout


def test_alerts_list_cuts_a_long_server_reply_at_a_word() -> None:
    from watchfloor.cli.alerts import _clip

    reply = "email m (127.0.0.1:8026): every recipient refused (bad@example.org: 550 5.1.1 mailbox unavailable): " * 3
    cut = _clip(reply)
    assert len(cut) <= 160 and cut.endswith("…") and reply.startswith(cut[:-1])
    assert reply[len(cut) - 1] in " ,;:"  # ended between words, not inside one
    assert _clip("short") == "short"


def test_the_table_lists_alerts_by_fired_time_not_the_order_they_reached_the_store(tmp_path: Path) -> None:
    # Outside trial 27, F4: under Kafka (or after a backfill) detections reach the store out of time order, and the
    # "newest first" list read 2024-12-17, 2024-11-06, 2024-10-28, 2024-10-23, 2024-06-19, 2024-10-18, 2024-10-24.
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    days = [(12, 17), (11, 6), (6, 19), (10, 18), (10, 24)]
    st = open_store(url)
    try:
        for n, (month, day) in enumerate(days):
            st.append([detection_event(detection(n, "troops", datetime(2024, month, day, 9, tzinfo=UTC)))])
    finally:
        st.close()
    res = runner.invoke(app, ["alerts", "list", "--store", url], env={"WATCHFLOOR_STORE": "", "COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    shown = [line.split("│")[2].strip()[:10] for line in res.output.splitlines() if line.startswith("│")]
    assert shown == ["2024-12-17", "2024-11-06", "2024-10-24", "2024-10-18", "2024-06-19"], res.output
    # --limit picks the alerts raised last, then shows them by fired time
    res = runner.invoke(app, ["alerts", "list", "--store", url, "--limit", "2"], env={"WATCHFLOOR_STORE": ""})
    assert [line.split("│")[2].strip()[:10] for line in res.output.splitlines() if line.startswith("│")] == [
        "2024-10-24",
        "2024-10-18",
    ], res.output
    # and says so (trial 45, LOW-2: "the newest 50" read as the 50 that fired last): picked by raise, sorted by fired
    assert "2 alerts, the last raised of 5 (3 more" in " ".join(res.output.split()), res.output
    said = " ".join(runner.invoke(app, ["alerts", "list", "--help"], env={"COLUMNS": "250"}).output.split())
    assert 'sorted by the "fired at" time shown, newest first (--json: in the order raised)' in said, said
    assert "The N alerts raised last" in said and "in the order raised (the store's, oldest first)" in said
