"""Notify's intake backlog (detections in the log no dispatcher has taken in, so the ledger holds no row of them) is
shown where the operator watches, not only by `watchfloor status` (trial 45): /metrics' gauges, /healthz's JSON and
the status page. /healthz degrades only once the intake has taken none in for health.delivery_outstanding with some
waiting, as the server's looks see it (a notify seconds behind moves between looks); a store no notify has ever run
on gets a warning, not a backlog. SQLite on disk, a real HTTP server; the server's clock is stepped, never waited on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import PROCESSOR
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.sql import SqlStore
from watchfloor.web.server import Services, WebServer, create_app

from .test_source_failures import get, samples
from .test_status_intake import detections

pytestmark = pytest.mark.functional


def gauges(url: str) -> dict[str, float]:
    status, text = get(url + "/metrics")
    assert status == 200, text
    names = ("watchfloor_detections_not_taken_in", "watchfloor_intake_started", "watchfloor_intake_stalled_seconds")
    return {name: v for (name, _labels), v in samples(text).items() if name in names}


def health(url: str) -> tuple[int, dict[str, object]]:
    status, body = get(url + "/healthz")
    return status, json.loads(body)


def test_the_intake_backlog_is_shown_and_degrades_health_only_when_stalled(tmp_path: Path) -> None:
    st = SqlStore(f"sqlite:///{tmp_path / 'wf.db'}")
    st.append(detections(4))  # no notify has run on this store yet
    control = ControlLog(st)
    clock = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    services = Services(store=st, control=control, context=AppContext(control=control, rules={}), now=lambda: clock[0])
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        url = server.url
        # no notify ever: counted, and a warning, not a backlog, however long it lasts
        for _ in range(2):
            code, body = health(url)
            assert code == 200 and body["status"] == "ok", body
            assert body["detections_not_taken_in"] == 4 and body["intake_started"] is False, body
            assert body["intake_stalled_seconds"] == 0
            [warning] = body["warnings"]  # type: ignore[misc]
            assert warning.startswith("4 detections not taken in for delivery: no `watchfloor notify`"), warning
            assert gauges(url) == {
                "watchfloor_detections_not_taken_in": 4,
                "watchfloor_intake_started": 0,
                "watchfloor_intake_stalled_seconds": 0,
            }
            clock[0] += timedelta(hours=1)
        page = get(url + "/")[1]
        assert "by <code>notify</code>: 4 (no notify has ever run on this store)" in page, page

        st.commit(PROCESSOR, Checkpoint(1, None), [])  # a notify took one in, then stopped
        code, body = health(url)
        assert code == 200 and body["detections_not_taken_in"] == 3 and "warnings" not in body, body
        clock[0] += timedelta(minutes=20)  # stalled, within health.delivery_outstanding (30 min): still ok
        code, body = health(url)
        assert code == 200 and body["intake_stalled_seconds"] == 1200, body
        clock[0] += timedelta(minutes=11)
        code, body = health(url)
        assert code == 503 and body["status"] == "degraded", body
        assert body["problems"] == [
            "notify's intake: 3 detections not taken in for delivery, none taken in for 1860s: is `watchfloor "
            "notify` running on this store?"
        ], body
        assert gauges(url) == {
            "watchfloor_detections_not_taken_in": 3,
            "watchfloor_intake_started": 1,
            "watchfloor_intake_stalled_seconds": 1860,
        }
        page = get(url + "/")[1]
        assert '<p id="not-taken-in" class="bad">' in page and ": 3 (none taken in for 31 min)" in page, page

        # it takes one more in: moving, so not stalled, whatever is left (a notify behind is busy, not stuck)
        st.commit(PROCESSOR, Checkpoint(2, None), [])
        clock[0] += timedelta(minutes=5)
        code, body = health(url)
        assert code == 200 and body["detections_not_taken_in"] == 2 and body["intake_stalled_seconds"] == 0, body
        st.append([ev.model_copy(update={"id": f"later-{ev.id}"}) for ev in detections(3)])  # more come in
        assert health(url)[1]["detections_not_taken_in"] == 5
        assert gauges(url)["watchfloor_detections_not_taken_in"] == 5
        st.commit(PROCESSOR, Checkpoint(st.head(), None), [])  # and the rest
        clock[0] += timedelta(hours=2)
        code, body = health(url)
        assert code == 200 and body["detections_not_taken_in"] == 0 and body["intake_stalled_seconds"] == 0, body
        assert gauges(url)["watchfloor_detections_not_taken_in"] == 0
        assert "by <code>notify</code>: 0</p>" in get(url + "/")[1]
    finally:
        server.stop()
        st.close()
