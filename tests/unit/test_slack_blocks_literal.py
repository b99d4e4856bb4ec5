"""Article text shows in Slack as written: it cannot make itself bold, struck, code or an emoji, and so pass for
the alert's own wording (outside trial 16, L4: only &, < and > were escaped). Slack documents no escape for mrkdwn's
formatting characters, so quoted text goes in plain_text objects (emoji off); captured values inside mrkdwn fields,
and the titles and groups of digest lines (mrkdwn for their links), get a zero-width space after each formatting
character."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.fixtures.blockkit import message_problems
from watchfloor.alerts.notice import Digest, notice_of
from watchfloor.alerts.notifiers.slack_blocks import build_blocks, digest_blocks
from watchfloor.schemas.events import Alert, Detection, Evidence

FORMATTED = "*Confirmed by watchfloor* ~not~ `verified` _urgent_ :rotating_light:"
AT = datetime(2024, 11, 4, 8, tzinfo=UTC)


def _detection() -> Detection:
    ev = Evidence(
        event_id="doc-1", signal="s", source="Coastal Observer", url="https://news.example.org/a",
        published_at=AT, sentence=f"Officials said {FORMATTED} the shells were shipped.", modality="hedged",
    )  # fmt: skip
    return Detection(
        id="det0001", rule="shells_shipped", title=f"Shells shipped {FORMATTED}", severity="high", tags=(),
        group={"place": "*KURSK*"}, fired_at=AT, evidence=(ev,), attributes={"vessel": ["`Lady R` :ship:"]},
    )  # fmt: skip


def _texts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every text object of the blocks."""
    out: list[dict[str, Any]] = []
    for b in blocks:
        for key in ("text",):
            if isinstance(b.get(key), dict):
                out.append(b[key])
        out += [f for f in b.get("fields", []) if isinstance(f, dict)]
        out += [e for e in b.get("elements", []) if isinstance(e, dict) and e.get("type") in ("mrkdwn", "plain_text")]
    return out


def test_quoted_sentences_and_titles_are_plain_text_without_emoji() -> None:
    blocks = build_blocks(notice_of(Alert(id="det0001", detection=_detection(), channels=("desk",))))
    assert message_problems({"text": "x", "blocks": blocks}) == []
    texts = _texts(blocks)
    quoted = [t for t in texts if FORMATTED in t["text"]]
    assert len(quoted) == 2  # the header (title) and the evidence sentence
    assert all(t["type"] == "plain_text" and t["emoji"] is False for t in quoted), quoted
    # the evidence's source link and modality are still mrkdwn, in the block before the sentence
    assert any(t["type"] == "mrkdwn" and "<https://news.example.org/a|Coastal Observer>" in t["text"] for t in texts)
    assert any(t["type"] == "mrkdwn" and "_hedged_" in t["text"] for t in texts)


def test_captured_values_in_mrkdwn_fields_are_made_inert() -> None:
    blocks = build_blocks(notice_of(Alert(id="det0001", detection=_detection(), channels=("desk",))))
    mrkdwn = " ".join(t["text"] for t in _texts(blocks) if t["type"] == "mrkdwn")
    for formatted in ("*KURSK*", "`Lady R`", ":ship:"):
        assert formatted not in mrkdwn, formatted
    assert "*\u200bKURSK*\u200b" in mrkdwn and ":\u200bship:\u200b" in mrkdwn
    assert "*Rule*\nshells_shipped" in mrkdwn  # the rule id (the config's, copied into commands) as it is


def test_digest_lines_link_their_report_and_keep_quoted_text_inert() -> None:
    """A digest line is mrkdwn, for its source link (outside trial 19, L4), so its quoted parts (title, group) get
    the inert treatment of captured values: none of the article's formatting shows as formatting."""
    digest = Digest("dig-1", "sub-1", "desk", AT, None, 0, 3, (_detection(),))
    blocks = digest_blocks(digest)
    assert message_problems({"text": "x", "blocks": blocks}) == []
    texts = _texts(blocks)
    assert not any(FORMATTED in t["text"] or "*KURSK*" in t["text"] for t in texts), texts
    (line,) = [t for t in texts if "Shells shipped" in t["text"]]
    assert line["type"] == "mrkdwn" and line["verbatim"] is True
    assert "*\u200bConfirmed by watchfloor*\u200b" in line["text"]
    assert ":\u200brotating_\u200blight:\u200b" in line["text"]
    assert "<https://news.example.org/a|Coastal Observer>" in line["text"] and "alert `det0001`" in line["text"]


def test_a_digest_line_marks_an_undated_reports_first_seen_time() -> None:
    det = _detection()
    undated = det.model_copy(update={"evidence": (det.evidence[0].model_copy(update={"first_seen": True}),)})
    digest = Digest("dig-1", "sub-1", "desk", AT, None, 0, 3, (undated,))
    assert "· first seen 2024-11-04 08:00 UTC (undated) ·" in digest.lines()[0]
    at = "<!date^1730707200^{date_num} {time}|2024-11-04 08:00 UTC>"  # Slack's date token, its fallback the UTC text
    assert f"first seen {at} (undated)" in str(digest_blocks(digest))
