"""`replay-workers` counts what its replay raised as what each count is (outside trial 45, MED-5: "4 alerts raised,
and on the way 160 revisions" of a store holding 164 alerts, 62 standing: an alert first raised late carries
`revision` 1 and revises nothing, and was counted as a revision)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchfloor.cli.distributed import replayed_counts
from watchfloor.schemas.events import Detection, Evidence, Retraction, detection_event, retraction_event

T0 = datetime(2023, 9, 16, tzinfo=UTC)


def det(n: int, *, revision: int = 0, revises: str | None = None) -> Detection:
    return Detection(
        id=f"a{n}",
        rule="kim-putin",
        title="Kim and Putin in the news",
        severity="low",
        group={},
        fired_at=T0 - timedelta(hours=n),
        revision=revision,
        revises=revises,
        evidence=(
            Evidence(
                event_id=f"doc-{n}",
                signal="kim_putin",
                source="wire",
                url=f"https://example.org/{n}",
                published_at=T0 - timedelta(hours=n),
                sentence="Kim and Putin meet.",
            ),
        ),
    )


def test_alerts_first_raised_late_count_as_alerts_and_the_standing_ones_are_said() -> None:
    # Newest first: a1 raised on time; a2, a3 first raised late (revision > 0, revising nothing); a4 revises a3;
    # a2 withdrawn. Four alerts raised, one of them a revision; two stand (a1, a4).
    events = [
        detection_event(det(1)),
        detection_event(det(2, revision=1)),
        detection_event(det(3, revision=2)),
        detection_event(det(4, revision=3, revises="a3")),
        retraction_event(Retraction(alert_id="a2", rule="kim-putin", group={}, reason="late", revision=4, at=T0)),
    ]
    said = replayed_counts(events)
    assert said == (
        "4 alerts raised (1 revising an earlier one, 2 first raised late, when a report changed its group's history "
        "(`revision` > 0)) and 1 retraction; 2 alerts stand at the end (as `alerts list` and a backtest count them)"
    ), said
    assert replayed_counts([detection_event(det(1))]) == (
        "1 alert raised and 0 retractions; 1 alert stands at the end (as `alerts list` and a backtest count them)"
    )
