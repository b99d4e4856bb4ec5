"""How many standing alerts no one has acknowledged (outside trial 81, F5): `status` says it (and its `--json`
carries it), and /metrics has it per rule (watchfloor_alerts_standing, watchfloor_alerts_unacknowledged), from a
SQLite store on disk with the detections, a withdrawal and the acknowledgements a desk made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from tests.functional.delivery_helpers import T0, detection, feed
from watchfloor.alerts.control import ControlLog
from watchfloor.cli import app
from watchfloor.schemas.control import Actor
from watchfloor.schemas.events import Retraction, retraction_event
from watchfloor.stream_processors.stores import open_store
from watchfloor.web.activity import ActivityView
from watchfloor.web.metrics import LogCollector, registry_for

pytestmark = pytest.mark.functional
runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """Four alerts of two rules: one withdrawn, two of the three standing acknowledged (one twice, in two channels)."""
    url = f"sqlite:///{tmp_path / 'wf.db'}"
    store = open_store(url)
    try:
        feed(
            store,
            detection(1, group={"route": "A"}),
            detection(2, group={"route": "B"}),
            detection(3, rule="treaty-ratified", group={"route": "C"}),
            detection(4, group={"route": "D"}),
        )
        withdrawn = Retraction(alert_id="det0004", rule="shells-shipped", reason="denied", revision=1, at=T0)
        store.append([retraction_event(withdrawn)])
        control = ControlLog(store)
        kim = Actor(via="cli", user="kim")
        control.acknowledge("det0001", by=kim, channel="desk")
        control.acknowledge("det0001", by=kim, channel="archive")
        control.acknowledge("det0003", by=kim)
        control.acknowledge("det0004", by=kim)  # (withdrawn: it does not stand, its ack counts for none)
    finally:
        store.close()
    return url


def test_status_says_how_many_standing_alerts_are_unacknowledged(url: str) -> None:
    res = runner.invoke(app, ["status", "--store", url], env={"COLUMNS": "200", "WATCHFLOOR_STORE": ""})
    assert "alerts standing: 3, 1 of them unacknowledged (2 acknowledged)" in res.output, res.output
    got = json.loads(runner.invoke(app, ["status", "--store", url, "--json"], env={"WATCHFLOOR_STORE": ""}).stdout)
    assert got["alerts"] == {
        "standing": 3,
        "unacknowledged": 1,
        "acknowledged": 2,
        "by_rule": {
            "shells-shipped": {"standing": 2, "unacknowledged": 1},
            "treaty-ratified": {"standing": 1, "unacknowledged": 0},
        },
    }


def test_metrics_have_the_standing_and_unacknowledged_alerts_per_rule(url: str) -> None:
    store = open_store(url)
    try:
        for view in (ActivityView(store), ActivityView(store, store)):  # a full read, and one saved to a checkpoint
            text = generate_latest(registry_for(LogCollector(store, view, ControlLog(store)))).decode()
            m = {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(text)
                for s in fam.samples
            }
            assert m[("watchfloor_alerts_standing", (("rule", "shells-shipped"),))] == 2
            assert m[("watchfloor_alerts_standing", (("rule", "treaty-ratified"),))] == 1
            assert m[("watchfloor_alerts_unacknowledged", (("rule", "shells-shipped"),))] == 1
            assert m[("watchfloor_alerts_unacknowledged", (("rule", "treaty-ratified"),))] == 0
        # a view started from the checkpoint the second saved, after one more acknowledgement: all acknowledged
        ControlLog(store).acknowledge("det0002", by=Actor(via="cli", user="lee"), channel="desk")
        restored = ActivityView(store, store).refresh()
        assert restored.standing.unacknowledged == 0 and restored.standing.total == 3
    finally:
        store.close()
