"""`rules explain` on a `count` over more reports than an alert shows (ten): a count that had its N reports
but whose group had just alerted says `realert`, as the backtest's near misses do; and a report the alert
rests on but does not show (a late one completing the count) is judged fired, not "12 of 12"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.scoring_packs import flood_pack
from watchfloor.schemas.events import Detection, Document
from watchfloor.schemas.inputs import parse_document
from watchfloor.scoring.near_misses import NearMissCollector
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.explain_detections import Explainer, explain_documents
from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import T0


def _engine(tmp_path: Path, lateness: str = "12h") -> Engine:
    pack = tmp_path / "flood.yaml"
    pack.write_text(flood_pack(lateness), encoding="utf-8")
    _loaded, rules = load_rules([str(pack)])
    return Engine(rules)


def _reports(n: int, hours_apart: float) -> list[Document]:
    return [
        parse_document(
            {
                "type": "news.article",
                "id": f"lv-{i:02d}",
                "published_at": (T0 + timedelta(hours=hours_apart * i)).isoformat(),
                "source": f"Desk {i}",
                "title": f"A levee breach flooded farmland near mile {i}",
            }
        )
        for i in range(n)
    ]


def test_a_count_that_had_its_reports_but_was_throttled_says_realert_as_near_misses_do(tmp_path: Path) -> None:
    # Outside audit: explain said "not fired (count): 13 of 12 distinct documents within 30d" for the 13th and
    # 14th reports, while the backtest's near misses (docs/backtest.md: the reasons of `rules explain`) said
    # realert for the same reports.
    engine = _engine(tmp_path)
    docs = _reports(14, 6)
    explained, _end = explain_documents(engine, docs)
    checks = {e.document_id: e.detections for e in explained}
    [fired] = checks["lv-11"]
    assert fired.fired
    for doc_id, n in (("lv-12", 13), ("lv-13", 14)):
        [check] = checks[doc_id]
        assert (check.kind, check.fired) == ("realert", False)
        assert check.reason == (
            "breaches-widespread alerted at 2025-03-03T18:00+00:00; quiet for 30d (until 2025-04-02T18:00+00:00), "
            f"though it had {n} of 12 distinct documents within 30d"
        )
    [short] = checks["lv-10"]
    assert (short.kind, short.reason) == ("count", "11 of 12 distinct documents within 30d")
    # The near misses of a replay of the same reports give the same kind and words.
    collector = NearMissCollector(engine.rules)
    state = engine.initial_state()
    for d in docs:
        state, outs = engine.process_document(state, d)
        collector.on_outputs(outs)
    misses = {m.signal.document_id: m.reasons for m in collector.near_misses()}
    assert set(misses) == {"lv-12", "lv-13"}
    for doc_id in misses:
        [reason] = misses[doc_id]
        [check] = checks[doc_id]
        assert (reason.kind, reason.detail) == (check.kind, check.reason)


def test_a_late_report_completing_a_count_is_judged_fired_though_the_alert_does_not_show_it(tmp_path: Path) -> None:
    # The alert shows the first report and the newest nine of its twelve; lv-01, come last (as `backtest
    # --order log` may feed it), completes the count and sits second: not shown. Explain judged it by the
    # shown ten: "not fired (count): 12 of 12", and the alert "fired: the window closed".
    engine = _engine(tmp_path, lateness="48h")
    docs = _reports(12, 1)
    state = engine.initial_state()
    for d in docs[:1] + docs[2:]:
        state, _outs = engine.process_document(state, d)
    _state, outs = engine.process_document(state, docs[1])
    [alert] = [o for o in outs if isinstance(o, Detection)]
    assert alert.evidence_total == 12 and "lv-01" not in {e.event_id for e in alert.evidence}
    ex = Explainer(engine)
    for d in docs[:1] + docs[2:]:
        ex.document(d)
    last = ex.document(docs[1])
    assert [(c.detection, c.signal, c.kind, c.fired) for c in last.detections] == [
        ("breaches-widespread", "levee_breach", "fired", True)
    ]
    [check] = last.detections
    assert check.alert is not None and check.alert["id"] == alert.id and check.reason == "fired"


def test_a_report_dated_in_the_future_completing_a_count_is_judged_fired(tmp_path: Path) -> None:
    # Review finding 3: a report dated beyond the skew is counted at its receive time; explain kept it at its
    # published_at (90 days on), outside the window around the alert, so it did not find it among the reports
    # the alert rests on but does not show, and judged it not fired.
    engine = _engine(tmp_path, lateness="10d")
    docs = _reports(12, 1)
    on_time = [docs[0], docs[2], *docs[3:]]
    future = parse_document(
        {
            "type": "news.article",
            "id": "lv-01",
            "published_at": (T0 + timedelta(days=90)).isoformat(),
            "source": "Desk 1",
            "title": "A levee breach flooded farmland near mile 1",
        }
    )
    state = engine.initial_state()
    ex = Explainer(engine)
    for d in on_time:
        state, outs = engine.process_document(state, d)
        ex.observe(outs)
    _state, outs = engine.process_document(state, future, received_at=T0 + timedelta(minutes=30))
    [alert] = [o for o in outs if isinstance(o, Detection)]
    assert alert.evidence_total == 12 and "lv-01" not in {e.event_id for e in alert.evidence}
    checks = ex.observe(outs)
    assert [(c.detection, c.kind, c.fired) for c in checks] == [("breaches-widespread", "fired", True)], checks
