"""The second-scenario walkthrough of docs/rules.md on real news: the NATO accession pack
(docs/examples/nato_accession.yaml) over all of the 2023 RSS corpus gives the alerts the walkthrough shows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from watchfloor.schemas.events import Detection
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.replay import replay
from watchfloor.stream_processors.rulefile import load_rules

pytestmark = pytest.mark.data

PACK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "nato_accession.yaml"
WORDS = ("nato", "finland", "sweden", "finnish", "swedish")


def _documents(shared_data: Path) -> list:  # type: ignore[type-arg]
    files = sorted((shared_data / "news_rss_2023").glob("*.jsonl.gz"))
    if not files:
        pytest.skip("news_rss_2023 not found")
    docs = []
    for f in files:
        feed = f.name.removesuffix(".jsonl.gz")
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                o = json.loads(line)
                text = f"{o.get('title') or ''} {o.get('description') or ''}"
                if not any(w in text.lower() for w in WORDS):
                    continue  # the rest of the year cannot match this pack (its aliases)
                docs.append(
                    parse_document(
                        {
                            "type": "news.article",
                            "published_at": o.get("date_published"),
                            "source": feed,
                            "title": o.get("title") or "",
                            "body": o.get("description") or "",
                            "url": o.get("link"),
                        }
                    )
                )
    return docs


def test_nato_walkthrough_alerts(shared_data: Path) -> None:
    engine = Engine(load_rules([str(PACK)])[1])
    alerts: list[Detection] = replay(_documents(shared_data), engine).detections
    confirmed = {
        (d.group["party"], d.group["candidate"]): d.fired_at.date().isoformat()
        for d in alerts
        if d.rule == "accession-ratified" and d.confidence == "confirmed"
    }
    # Hungary's parliament voted on 27 March 2023, Turkey's on 30 March; Sweden's ratifications came in 2024.
    assert confirmed == {("HUN", "FIN"): "2023-03-27", ("TUR", "FIN"): "2023-03-30"}
    joined = [(d.group["member"], d.fired_at.date().isoformat()) for d in alerts if d.rule == "joined-nato"]
    assert joined == [("FIN", "2023-04-04")]  # not on 3 April, when headlines said "Finland to join NATO"
    # A single outlet ran ahead of Turkey's vote ("Turkey ratifies ..." on 18 March): unconfirmed, medium.
    early = [d for d in alerts if d.rule == "accession-ratified" and d.fired_at.date().isoformat() == "2023-03-18"]
    assert [(d.severity, d.confidence) for d in early] == [("medium", "unconfirmed")]
    # The last ratification is built on confirmed alerts only: 30 March, not 27 March (Hungary's vote plus
    # that early headline).
    last = [(d.group["candidate"], d.fired_at.date().isoformat()) for d in alerts if d.rule == "last-ratification"]
    assert last == [("FIN", "2023-03-30")]
