"""An alert with more attributes than a Slack section's 10 fields shows them all, in the sections after it (outside
trial 70, H1: a GDELT alert whose rule had captures lost its event date, actors and action place); an attribute
whose values hold ", " themselves (a GDELT place) lists them with "; " (M1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.fixtures.blockkit import message_problems
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.slack_blocks import build_blocks
from watchfloor.schemas.events import Alert, Detection, Evidence

AT = datetime(2024, 11, 4, 8, tzinfo=UTC)


def _alert(attributes: dict[str, list[str]]) -> Alert:
    ev = Evidence(
        event_id="doc-1", signal="s", source="GDELT", url="https://news.example.org/a", published_at=AT,
        sentence="Russia (Russia): Use conventional military force against Ukraine (Ukraine)", modality="asserted",
    )  # fmt: skip
    det = Detection(
        id="det0001", rule="force", title="Force against Ukraine", severity="high", tags=(),
        group={"target": "UKR"}, fired_at=AT, evidence=(ev,), attributes=attributes,
    )  # fmt: skip
    return Alert(id="det0001", detection=det, channels=("desk",))


def _field_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]


def test_every_attribute_is_shown_past_ten_fields() -> None:
    attributes = {f"capture_{i}": [f"value {i}"] for i in range(6)} | {
        "cameo_event": ["190 Use conventional military force"],
        "goldstein": ["-10"],
        "mentions": ["12"],
        "actors": ["Russia (RUS) → Ukraine (UKR)"],
        "action_geo": ["Kharkiv, Kharkivs'ka Oblast', Ukraine (UP)", "Kyiv, Kyyiv, Misto, Ukraine (UP)"],
        "event_date": ["2024-11-03 (added by GDELT 2024-11-04 08:00 UTC)"],
    }
    blocks = build_blocks(notice_of(_alert(attributes)))
    assert message_problems({"text": "x", "blocks": blocks}) == []
    texts = " ".join(_field_texts(blocks)).replace("\u200b", "")  # (a captured value's ":" is made inert)
    for values in attributes.values():
        assert values[0].split(",")[0] in texts, values
    assert "2024-11-03 (added by GDELT 2024-11-04 08:00 UTC)" in texts
    assert "Kharkiv, Kharkivs'ka Oblast', Ukraine (UP); Kyiv, Kyyiv, Misto, Ukraine (UP)" in texts
    sections = [b for b in blocks if b["type"] == "section" and "fields" in b]
    assert [len(b["fields"]) for b in sections] == [10, 5]  # severity, rule, group, 12 attributes
