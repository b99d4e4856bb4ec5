"""`rules explain` and near misses on a corroborated detection whose alert is already confirmed: a later report
within `realert` is held back by the throttle (`realert`), not by a corroboration short of sources (trial 13, M2:
"not fired (corroboration): … 5 of 2 distinct sources"); scores' covered repeats stay as they were."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.schemas.events import Detection, Document
from watchfloor.schemas.inputs import parse_document
from watchfloor.scoring.near_misses import NearMissCollector
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.explain_detections import explain_documents
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import T0

PACK = """
version: 1
name: test-harbour-watch
settings: {lateness: 12h}
signals:
  harbour_shut:
    match: {all: [harbour, {any: [closed, shut]}]}
    near: 6
detections:
  - id: harbour-shut
    title: the harbour is shut
    severity: medium
    pattern: {any: harbour_shut}
    realert: 30d
    corroborate: {distinct: source, at_least: 2, within: 48h, severity: high}
"""

# (id, hours after T0, source, title): a first report, the same desk again (still one source: short of the
# corroboration), a second desk (confirmed, high), a third desk within the corroboration window (3 of 2: met),
# and a fourth desk four days on (1 of 2 within 48h, but the group's alert is already high).
REPORTS = [
    ("hb-1", 0, "Quay Post", "The harbour at Lindo was closed to all ships"),
    ("hb-2", 2, "Quay Post", "Lindo harbour stays shut, pilots say"),
    ("hb-3", 3, "Coast Daily", "Port officers shut the harbour at Lindo"),
    ("hb-4", 5, "Tide Wire", "Ferries turned back as the harbour at Lindo closed"),
    ("hb-5", 100, "Bay Courier", "Lindo harbour closed for a fifth day"),
]


def _engine(tmp_path: Path) -> Engine:
    pack = tmp_path / "harbour.yaml"
    pack.write_text(PACK, encoding="utf-8")
    _loaded, rules = load_rules([str(pack)])
    return Engine(rules)


def _docs() -> list[Document]:
    return [
        parse_document(
            {
                "type": "news.article",
                "id": i,
                "published_at": (T0 + timedelta(hours=h)).isoformat(),
                "source": source,
                "title": title,
            }
        )
        for i, h, source, title in REPORTS
    ]


def test_a_report_after_the_alert_is_confirmed_is_held_back_by_realert_not_corroboration(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    explained, _end = explain_documents(engine, _docs())
    checks = {e.document_id: e.detections for e in explained}
    [first] = checks["hb-1"]
    [confirmed] = checks["hb-3"]
    assert first.fired and confirmed.fired and confirmed.alert is not None
    assert (confirmed.alert["severity"], confirmed.alert["confidence"]) == ("high", "confirmed")
    # Short of its sources while unconfirmed: the corroboration is what holds it back (more would raise it).
    [short] = checks["hb-2"]
    assert (short.kind, short.fired) == ("corroboration", False)
    assert short.reason == (
        "harbour-shut alerted at 2025-03-01T00:00+00:00, quiet for 30d unless more severe; "
        "corroboration: 1 of 2 distinct sources within 2d (then high, confirmed)"
    )
    # Confirmed already: only `realert` holds the later reports back, whatever their count of sources.
    [met] = checks["hb-4"]
    assert (met.kind, met.fired) == ("realert", False)
    assert met.reason == (
        "harbour-shut alerted at 2025-03-01T03:00+00:00 (high); quiet for 30d (until 2025-03-31T03:00+00:00) "
        "unless more severe; corroboration: met (3 distinct sources within 2d, 2 needed; then high, confirmed)"
    )
    [later] = checks["hb-5"]
    assert (later.kind, later.fired) == ("realert", False)
    assert later.reason.startswith("harbour-shut alerted at 2025-03-01T03:00+00:00 (high); quiet for 30d")
    assert later.reason.endswith("corroboration: 1 of 2 distinct sources within 2d (then high, confirmed)")


def test_near_misses_say_the_same_and_the_confirmed_alert_covers_its_repeats(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    explained, _end = explain_documents(engine, _docs())
    checks = {e.document_id: e.detections[0] for e in explained}
    collector = NearMissCollector(engine.rules)
    state = engine.initial_state()
    alerts: list[Detection] = []
    for d in _docs():
        state, outs = engine.process_document(state, d)
        alerts.extend(o for o in outs if isinstance(o, Detection))
        collector.on_outputs(outs)
    misses = {m.signal.document_id: m.reasons for m in collector.near_misses()}
    assert set(misses) == {"hb-2", "hb-4", "hb-5"}
    for doc_id, reasons in misses.items():
        [reason] = reasons
        assert (reason.kind, reason.detail) == (checks[doc_id].kind, checks[doc_id].reason)
    assert [r[0].kind for _d, r in sorted(misses.items())] == ["corroboration", "realert", "realert"]
    # Scores count these as repeats of the alert that held them back, as before the reason was renamed.
    first, confirmed = alerts
    assert collector.repeats == {first.id: ["hb-2"], confirmed.id: ["hb-4", "hb-5"]}


def test_rules_explain_counts_the_holds_by_their_true_reason(tmp_path: Path) -> None:
    _engine(tmp_path)  # writes the pack
    inbox = tmp_path / "harbour.jsonl"
    inbox.write_text(
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": i,
                    "published_at": (T0 + timedelta(hours=h)).isoformat(),
                    "source": s,
                    "title": t,
                }
            )
            + "\n"
            for i, h, s, t in REPORTS
        ),
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["rules", "explain", "--rules", str(tmp_path / "harbour.yaml"), str(inbox)])
    assert res.exit_code == 0, res.output
    assert "harbour-shut: fired 2; held back 3 (realert 2, corroboration 1)" in res.output
    assert "not fired (realert): harbour-shut alerted at 2025-03-01T03:00+00:00 (high)" in res.output
