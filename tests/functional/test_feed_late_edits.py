"""A feed item edited long after its own date changes no alert: one item, one thread per rule, however often it is
edited (outside trial 12, H1).

The item is dated 10 days before the test runs (the pack's lateness is 2 days) and edited twice under its guid:
"closed" -> "may have closed" -> "closed" (and the other way round). Before, the first edit revised the alert of the
rule that takes hedged and asserted reports (the one-item feed held event time at the item's date), and the second,
once event time had moved to the first edit, was read as a first report at poll time, past `realert`: a second alert
and a second Slack thread beside the revision, while a backtest of the captures stood on one. Now an edit seen more
than the lateness after its item's date leaves the alerts as they are (engine/corrections.py), live, in
`backtest --from-store` (both orders) and in a backtest of the captures. `watchfloor run --once` after each version
of the feed (SQLite, the real slack-sdk against the local Slack server).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.fixtures.slack_server import FakeSlack
from tests.functional.test_feed_corrections import Desk
from tests.functional.test_feed_firmer import RULES, backtest, from_store

pytestmark = pytest.mark.functional

DID = "Alphaland closed the border to lorries, port officials said"
MAY = "Alphaland may have closed the border to lorries, port officials said"
GUID = "https://harbour.example/desk/551"


def feed(title: str, now: datetime) -> str:
    """The edited item, dated 10 days back, and a fresh item of the poll's time that no rule reads (a feed lists its
    newest items too: the backtest of the captures dates an edit just after the newest item it has read)."""
    old = format_datetime(now - timedelta(days=10), usegmt=True)
    fresh = format_datetime(now - timedelta(minutes=5), usegmt=True)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Harbour Wire</title>'
        "<link>https://harbour.example/</link><description>test</description>"
        f"<item><title>{title}</title><link>{GUID}</link><guid>{GUID}</guid><pubDate>{old}</pubDate>"
        "<description>From our correspondent.</description></item>"
        "<item><title>Ferry timetable changes for the winter season</title>"
        "<link>https://harbour.example/desk/552</link><guid>https://harbour.example/desk/552</guid>"
        f"<pubDate>{fresh}</pubDate><description>Fewer crossings on Sundays.</description></item>"
        "</channel></rss>\n"
    )


@pytest.mark.parametrize("versions", [(DID, MAY, DID), (MAY, DID, MAY)], ids=["firm-soft-firm", "soft-firm-soft"])
def test_edits_long_after_the_items_date_leave_its_alerts_standing(
    tmp_path: Path, slack_server: FakeSlack, versions: tuple[str, str, str]
) -> None:
    now = datetime.now(UTC)
    desk = Desk(tmp_path, slack_server, rules=str(RULES))
    texts = [feed(v, now) for v in versions]
    desk.poll(texts[0])
    first = desk.standing()
    tops = desk.top_level()
    assert first and len(tops) == len(first)
    for text in texts[1:]:
        out = desk.poll(text)
        assert "1 edited in place" in out and "1 event-time report" in out, out
        # Said, where late reports are: why the publisher's edit changed nothing.
        assert "late edit: document https://harbour.example/desk/551#edition-" in out, out
        assert "edits item https://harbour.example/desk/551 10 days, " in out, out
    # The alerts of the item as first read, one per rule; no second thread, nothing posted in the first ones.
    assert desk.standing() == first
    assert len({d.rule for d in first.values()}) == len(first)
    assert desk.top_level() == tops
    assert all(m.get("thread_ts") in (None, m["ts"]) for m in slack_server.messages)
    assert not slack_server.updates
    # The same standing alerts from the live log replayed, in both orders, and from the feed's captures.
    alerts = sorted(first)
    assert from_store(tmp_path, "event-time") == alerts == from_store(tmp_path, "log")
    assert sorted(a["id"] for a in backtest(tmp_path, *texts)) == alerts
    assert json.loads((tmp_path / "bt.json").read_text())["stats"]["dead_letters"] == 0
