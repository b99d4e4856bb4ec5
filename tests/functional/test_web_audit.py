"""`watchfloor serve`'s status page and /metrics over a store two `run --once` filled, the second with a late report:
the page finds the deliveries of the alerts that report raised (revision > 0), which the ledger and `delivery`
events key by the detection's delivery key, not its alert id; and the log head on the page and in
`watchfloor_log_head` is the log's real head, as /healthz says, not the newest event of the types the page reads."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.test_cli_audit_deliveries import config, wf
from watchfloor.cli._common import app_config
from watchfloor.cli.serve import start_server
from watchfloor.schemas.events import CaughtUp, Detection, EventType, caught_up_event, detection_event_id
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.wiring import open_control, open_store

pytestmark = pytest.mark.functional


@dataclass
class Served:
    url: str
    store: Store

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=30) as resp:
            body: bytes = resp.read()
        return body.decode()

    def health(self) -> dict[str, Any]:
        """/healthz's body, whatever its status: this store's given-up deliveries make it 503 `degraded`."""
        try:
            got: dict[str, Any] = json.loads(self.get("/healthz"))
        except urllib.error.HTTPError as e:
            got = json.loads(e.read())
        return got


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The `revised` store of test_cli_audit_deliveries (a late report raises a revision of the `troop-engagement`
    alert and its follow-up, both at revision 1, their deliveries given up at once), served as `serve` does."""
    lines = (Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl").read_text(
        encoding="utf-8"
    )
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text("\n".join(lines.splitlines()[:-1]) + "\n", encoding="utf-8")
    res = wf("run", "--once", "--config", str(config(tmp_path)))
    assert res.exit_code == 0, res.output
    inbox.write_text(lines, encoding="utf-8")
    path = config(tmp_path, retry="retry: {max_age: 0s}\n")
    res = wf("run", "--once", "--config", str(path))
    assert res.exit_code == 3, res.output  # the revisions' deliveries were given up in this run
    cfg = app_config(path)
    _, rules = load_rules(cfg.rules)
    store = open_store(cfg.store)
    server = start_server(cfg, store, open_control(store, cfg), rules, "127.0.0.1", 0)
    try:
        yield Served(server.url, store)
    finally:
        server.stop()
        store.close()


def late_alerts(store: Store) -> dict[str, Detection]:
    """Delivery key -> detection, for the detections the late report raised."""
    dets = (Detection.model_validate(se.event.payload) for se in store.read(types={EventType.DETECTION.value}))
    return {detection_event_id(d): d for d in dets if d.revision > 0}


def test_status_page_shows_the_deliveries_and_rule_of_revisions(served: Served) -> None:
    late = late_alerts(served.store)
    assert len(late) == 2 and all(key != d.id for key, d in late.items())
    page = served.get("/")
    alerts = page.split('id="alerts"')[1].split("</section>")[0]
    rows = {m[1]: m[2] for m in re.finditer(r'<tr class="alert" data-alert="([^"]+)">(.*?)</tr>', alerts, re.S)}
    for d in late.values():
        # Looked up by alert id, the revision's ledger rows were never found: "archive: queued" forever.
        assert "archive: expired" in rows[d.id] and "queued" not in rows[d.id], rows[d.id]
    assert "queued" not in alerts and alerts.count("archive: sent") == len(rows) - 2
    outstanding = page.split('id="outstanding"')[1].split("</section>")[0]
    cells = re.findall(r"<tr><td><code>([^<]*)</code></td><td><code>([^<]*)</code></td>", outstanding)
    # The ledger's rows name the delivery key; the rule column was empty for them.
    assert sorted(cells) == sorted((key, "troop-engagement") for key in late), cells


def test_log_head_is_the_logs_head(served: Served) -> None:
    # The newest event a `caught_up` mark (a poll with nothing new: the run's deliveries of a poll now come after its
    # mark, once its sources are all read).
    served.store.append([caught_up_event(CaughtUp(at=datetime.now(UTC), origins=("inbox.jsonl",)))])
    head = served.store.head()
    newest = served.store.read(head - 1, limit=1)
    assert [se.position for se in newest] == [head]
    # The newest event is of a type the status page's activity does not read (the run's `caught_up`), which is
    # what the page and the metric reported instead of the head.
    assert newest[0].event.type == EventType.CAUGHT_UP.value
    health = served.health()
    assert health["log_head"] == head
    assert health["status"] == "degraded" and health["deliveries_expired"] == {"archive": 2}, health
    assert f'<span id="log-head">log head {head}</span>' in html.unescape(served.get("/"))
    metrics = {s.name: s.value for fam in text_string_to_metric_families(served.get("/metrics")) for s in fam.samples}
    assert metrics["watchfloor_log_head"] == head
