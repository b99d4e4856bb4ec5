"""A report beyond the lateness, dated just before an alert its realert would have held back, takes that alert's
place in `watchfloor run --once`: the channel gets one alert, the backtest's, not two.

The outside tester's case, in small (the feed read first, the file's older lines beyond the lateness): a feed lists
a harbour strike of 1 Jan 13:00, which raises the alert, and a road closure of 2 Jan 01:00; a JSON Lines file, read
one line a poll, has a report of 2 Jan 00:30 and then one of the same strike dated 1 Jan 11:00. After the first poll
event time is 2 Jan 00:30 (the pack's lateness is 12h), so the 11:00 report is beyond the lateness, 2 hours before
the alert. Read in event time it raises the alert and the rule's realert (6h) holds the 13:00 report back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.watchfloor_process import command_env

pytestmark = pytest.mark.functional

RULES = """\
version: 2
name: harbour-desk
language: en
settings: {lateness: 12h}
signals:
  harbour_strike:
    match:
      any: [strike]
detections:
  - id: harbour-strike
    title: "Strike at the harbour"
    severity: medium
    pattern: {any: harbour_strike}
    realert: 6h
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Coast wire</title><link>https://coast.example/</link><description>c</description>
<item><guid>urn:coast:road</guid><title>Fog closes the coast road</title>
<pubDate>Tue, 02 Jan 2024 01:00:00 +0000</pubDate></item>
<item><guid>urn:coast:strike</guid><title>A strike hit the harbour at noon</title>
<pubDate>Mon, 01 Jan 2024 13:00:00 +0000</pubDate></item>
</channel></rss>
"""


def line(doc_id: str, at: str, title: str) -> str:
    doc = {"type": "news.article", "id": doc_id, "published_at": at, "source": "Coast Radio", "title": title}
    return json.dumps(doc) + "\n"


def test_the_earlier_report_read_last_replaces_the_alert_before_it_is_sent(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "coast.xml").write_text(FEED, encoding="utf-8")
    (tmp_path / "inbox.jsonl").write_text(
        line("ferries", "2024-01-02T00:30:00+00:00", "Ferries stay in port")
        + line("strike-11", "2024-01-01T11:00:00+00:00", "Residents report a strike at the harbour"),
        encoding="utf-8",
    )
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: 'sqlite:///{tmp_path / 'wf.db'}'\n"
        f"rules: ['{tmp_path / 'rules.yaml'}']\n"
        f"sources:\n  - {{kind: rss, url: '{tmp_path / 'coast.xml'}'}}\n"
        f"  - {{kind: jsonl, path: '{tmp_path / 'inbox.jsonl'}', max_lines_per_poll: 1}}\n"
        f"channels:\n  - {{type: file, name: archive, path: '{tmp_path / 'alerts.jsonl'}'}}\n"
        "subscriptions:\n  - {channel: archive}\n",
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "watchfloor", "run", "--once", "--config", str(cfg)]
    done = subprocess.run(cmd, cwd=tmp_path, env=command_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ": 1 late)" in done.stderr  # strike-11 was read beyond the lateness
    sent = [json.loads(s) for s in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines() if s]
    assert [[e["event_id"] for e in m["detection"]["evidence"]] for m in sent] == [["strike-11"]], sent
