"""/metrics keeps one series per document source name, and the names come from the input (a JSONL line's own, an
RSS feed's title, which it may change every poll): past MAX_SOURCE_NAMES distinct names the rest are counted
together, so one feed cannot grow /metrics without bound (security review, finding 10). Nothing is lost: the
total stays the number of documents."""

from __future__ import annotations

from watchfloor.schemas.events import document_event
from watchfloor.stream_processors.ports import StoredEvent
from watchfloor.web.activity import MAX_SOURCE_NAMES, OTHER_SOURCES, Activity

from .engine_helpers import doc


def test_source_names_past_the_cap_are_counted_together() -> None:
    activity = Activity()
    n = MAX_SOURCE_NAMES + 40
    for i in range(n):
        activity.apply(StoredEvent(i + 1, document_event(doc("text", source=f"Feed renamed #{i}", doc_id=f"d{i}"))))
    activity.apply(StoredEvent(n + 1, document_event(doc("more", source="Feed renamed #0", doc_id="again"))))
    assert len(activity.documents) == MAX_SOURCE_NAMES + 1
    assert activity.documents[OTHER_SOURCES] == 40
    assert activity.documents["Feed renamed #0"] == 2  # a name that has its series keeps counting there
    assert sum(activity.documents.values()) == n + 1
