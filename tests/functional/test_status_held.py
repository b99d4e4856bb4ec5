"""`watchfloor status` shows the alerts a channel's throttle holds for its next summary, apart from the deliveries
outstanding (limits of session 13, item 3: held rows were in no count, so an operator could not see alerts waiting
for a throttle summary). Held rows a summary has listed keep their status; they are not waiting any more."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.alerts.notice import DIGEST_KIND
from watchfloor.alerts.throttle import HELD, summary_thread
from watchfloor.cli import app
from watchfloor.stream_processors.ports import DeliveryRecord
from watchfloor.stream_processors.stores.sql import SqlStore

pytestmark = pytest.mark.functional

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wf.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def held(key: str, seq: int, created: float, channel: str = "desk") -> DeliveryRecord:
    mark = {"window": "2026-03-02T09:00:00+00:00", "held": True, "spec": "2 per 1h"}
    return DeliveryRecord(key, channel, status=HELD, payload={"throttle": mark}, seq=seq, created_at=created)


def test_status_names_the_alerts_held_for_a_throttle_summary(url: str, tmp_path: Path) -> None:
    now = time.time()
    st = SqlStore(url)
    try:
        st.enqueue(
            [
                held("a3", 3, now - 7200),  # listed by the summary below (through 6): told
                held("a5", 5, now - 7100),
                DeliveryRecord(
                    "thr-1", "desk", status="sent", kind=DIGEST_KIND, thread_key=summary_thread("desk"), seq=6
                ),
                held("a8", 8, now - 600),  # after it: waiting for the next summary
                held("a9", 9, now - 60),
                held("b4", 4, now - 300, channel="wire"),  # a channel with no summary yet
                DeliveryRecord("a10", "wire", seq=10, created_at=now - 30),  # outstanding
            ]
        )
    finally:
        st.close()
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: {url}\n", encoding="utf-8")
    res = runner.invoke(app, ["status", "--config", str(cfg), "--json"])
    got = json.loads(res.stdout)["deliveries"]
    assert got["held"] == {"desk": 2, "wire": 1}
    assert 590 <= got["oldest_held_seconds"]["desk"] < 3600 and got["oldest_held_seconds"]["wire"] >= 290
    assert got["outstanding"] == {"wire": 1}  # held rows are not outstanding: nothing sends them alone
    res = runner.invoke(app, ["status", "--config", str(cfg)])
    said = " ".join(res.output.split())
    assert "held for summary" in said and "3 alerts held by a channel's throttle, waiting for the summary" in said
    assert res.exit_code == 3 and "1 delivery outstanding" in said  # the verdict waits for outstanding rows only
