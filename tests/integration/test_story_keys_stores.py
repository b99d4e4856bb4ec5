"""Evidence story keys (Evidence.story) in both SQL stores: detections stored before keys existed stay readable and
count by outlet, new ones link syndicated copies, and a thread mixing the two counts both (SQLite and PostgreSQL,
the real dispatcher, a file channel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.functional.delivery_helpers import RETRY, Clock, detection, lines
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog, independent_sources
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.schemas.config import Subscription
from watchfloor.schemas.detection_fields import detection_fields
from watchfloor.schemas.events import Detection, Event, detection_event
from watchfloor.stream_processors.ports import Store

pytestmark = pytest.mark.integration

WIRE_KEY = "a1b2c3d4e5f6"


@pytest.fixture
def store(sql_store: Store) -> Store:
    return sql_store


def old_event(det: Detection) -> Event:
    """The detection's event as a release before story keys wrote it: evidence without a `story` field."""
    ev = detection_event(det)
    payload: dict[str, Any] = dict(ev.payload)
    payload["evidence"] = [{k: v for k, v in e.items() if k != "story"} for e in payload["evidence"]]
    return ev.model_copy(update={"payload": payload})


def with_stories(det: Detection, stories: list[str | None]) -> Detection:
    evidence = tuple(e.model_copy(update={"story": s}) for e, s in zip(det.evidence, stories, strict=True))
    return det.model_copy(update={"evidence": evidence})


def test_old_and_new_detections_in_one_thread(store: Store, tmp_path: Path) -> None:
    """The first alert was stored before keys (Harbor Ledger's wire story); the follow-up cites the wire story again
    beside Valley Tribune's copy of it (one key) and Coastal Times's own report: 2 independent sources, not 3."""
    first = detection(1, severity="medium", confidence="unconfirmed", sources=("Harbor Ledger",))
    follow = with_stories(
        detection(2, severity="high", sources=("Harbor Ledger", "Valley Tribune", "Coastal Times")),
        [WIRE_KEY, WIRE_KEY, "0f0f0f0f0f0f"],
    )
    old = old_event(first)
    assert "story" not in old.payload["evidence"][0]
    store.append([old])
    store.append([detection_event(follow)])

    [a, b] = [se.event.payload for se in store.read(types={"detection"}, limit=10)]
    assert Detection.model_validate(a).evidence[0].story is None  # read back as the old release wrote it
    assert [e["story"] for e in b["evidence"]] == [WIRE_KEY, WIRE_KEY, "0f0f0f0f0f0f"]
    assert all(detection_fields(orjson.dumps(p)) is not None for p in (a, b))  # the dispatcher's fast reading
    assert independent_sources([Detection.model_validate(a)]) == 1

    archive = tmp_path / "alerts.jsonl"
    catalog = AlertCatalog(open_periods={"shells-shipped": RETRY.max_age})
    d = AlertDispatcher(
        store, {"archive": FileNotifier("archive", archive)}, [Subscription(channel="archive")], RETRY,
        now=Clock(), catalog=catalog,
    )  # fmt: skip
    assert d.cycle().ok
    [record] = [r for r in lines(archive) if r["kind"] == "followup"]
    assert record["thread"]["sources"] == 2  # Harbor Ledger and its copy are one; Coastal Times the other


def test_a_story_counts_for_its_first_outlet_across_the_threads_alerts() -> None:
    """A shared key makes one story, which counts for the outlet of its first report (one date here: the smallest
    report id); an outlet counts once for the stories it originated, so B, which carried A's copy, still counts for
    the story it told first (outside trial 64, HIGH-1: the copy linked A and B, and the thread said 1); evidence
    without a key counts by outlet; an outlet named in another case is the same outlet."""
    a = with_stories(detection(1, sources=("A", "B")), ["k1", "k1"])  # B carried A's story
    b = with_stories(detection(2, sources=("b", "C")), ["k2", "k2"])  # B's own story, which C carried
    c = detection(3, sources=("D", "E"))  # stored before keys
    assert independent_sources([a]) == 1
    assert independent_sources([a, b]) == 2
    assert independent_sources([b]) == 1
    assert independent_sources([a, b, c]) == 4
    assert independent_sources([with_stories(detection(4, sources=("A", "B")), ["k1", "k2"])]) == 2
