"""The reports a message showed before late reports revised its alert: kept, and counted, while they stand (outside
trial 30, F3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.alerts.notice import independent_sources, reports_told_before
from watchfloor.schemas.events import INPUT_ALERT, Alert, Detection, Evidence
from watchfloor.stream_processors.engine.compiled import ALERT

T0 = datetime(2024, 10, 18, 14, 42, tzinfo=UTC)


def report(doc: str, source: str, hours: float = 0, signal: str = "troops_sent") -> Evidence:
    return Evidence(
        event_id=doc,
        signal=signal,
        source=source,
        published_at=T0 + timedelta(hours=hours),
        sentence=f"{source} says troops were sent.",
    )


def alert(
    aid: str, *evidence: Evidence, revises: str | None = None, revision: int = 0, cause: str | None = None
) -> Alert:
    det = Detection(
        id=aid,
        rule="troops-deployed",
        title="North Korean troops reported in Russia",
        severity="medium",
        fired_at=min(ev.published_at for ev in evidence),
        evidence=evidence,
        revises=revises,
        revision=revision,
        cause=cause,
    )
    return Alert(id=aid, detection=det, channels=("desk",))


A = alert("a1", report("doc-a", "Outlet A"))
B = alert("b1", report("doc-b", "Outlet B", hours=-19), revises="a1", revision=1)


def test_a_late_reports_revision_keeps_the_report_it_moved_the_alert_from() -> None:
    assert [ev.source for ev in reports_told_before(A, B, [A, B])] == ["Outlet A"]
    assert independent_sources([B.detection], [reports_told_before(A, B, [A, B])]) == 2


def test_nothing_is_told_before_an_alert_that_was_not_revised() -> None:
    assert reports_told_before(A, A, [A]) == ()


def test_a_report_the_revision_still_carries_is_not_told_twice() -> None:
    both = alert("b2", report("doc-b", "Outlet B", hours=-19), report("doc-a", "Outlet A"), revises="a1", revision=1)
    assert reports_told_before(A, both, [A, both]) == ()


def test_a_revision_never_sent_passes_its_reports_on_only_when_told() -> None:
    # a1 told, b1 replaced before it was sent (passed), c1 told: the reports of a1 that c1 lacks; b1's were never shown
    c = alert("c1", report("doc-c", "Outlet C", hours=-30), revises="b1", revision=2)
    got = reports_told_before(A, c, [A, c], passed=[B])
    assert [ev.event_id for ev in got] == ["doc-a"]
    assert [ev.event_id for ev in reports_told_before(A, c, [A, B, c])] == ["doc-a", "doc-b"]


def test_what_was_told_before_a_correction_is_left_out() -> None:
    fixed = alert("c1", report("doc-c", "Outlet C", hours=-30), revises="b1", revision=2, cause="corrected")
    assert reports_told_before(A, fixed, [A, B, fixed]) == ()
    later = alert("d1", report("doc-d", "Outlet D", hours=-40), revises="c1", revision=3)
    # told after the correction: kept; before it: not
    assert [ev.event_id for ev in reports_told_before(A, later, [A, B, fixed, later])] == ["doc-c"]


def test_a_composed_rules_input_alert_is_not_a_report_told_before() -> None:
    assert INPUT_ALERT == ALERT  # what the engine files an input alert's evidence under
    composed = alert("x1", report("alert-9", "Outlet A", signal=INPUT_ALERT + "troops-deployed"))
    revised = alert(
        "x2", report("alert-10", "Outlet B", signal=INPUT_ALERT + "troops-deployed"), revises="x1", revision=1
    )
    assert reports_told_before(composed, revised, [composed, revised]) == ()
