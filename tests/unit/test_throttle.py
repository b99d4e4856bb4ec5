"""The channel throttle's pure part: the config's `throttle: N per DURATION`, fixed windows, send-or-hold from the
decisions before, and the summaries' contents (alerts.throttle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchfloor.alerts.throttle import Held, Mark, admit, next_window_end, plan_summary, summary_id, window_start
from watchfloor.schemas.config import AppConfig, ThrottleSpec, parse_throttle
from watchfloor.schemas.events import Detection

T0 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def det(n: int, severity: str = "high", at: datetime = T0) -> Detection:
    return Detection(
        id=f"d{n}",
        rule="shells-shipped",
        title=f"Rail cars said to carry shells (#{n})",
        severity=severity,  # type: ignore[arg-type]
        group={"route": "RAJIN"},
        fired_at=at,
    )


def test_the_config_form_and_its_errors() -> None:
    spec = parse_throttle("10  per 1h")
    assert (spec.max, spec.per, str(spec)) == (10, HOUR, "10 per 1h")
    cfg = AppConfig.model_validate(
        {"channels": [{"type": "slack", "name": "desk", "channel": "#d", "throttle": "3 per 15m"}]}
    )
    assert cfg.channels[0].throttle == ThrottleSpec(max=3, per=timedelta(minutes=15))
    assert cfg.model_dump(mode="json")["channels"][0]["throttle"] == "3 per 15m"  # written back as it is read
    for bad, says in [
        ("10/h", "write 'N per DURATION'"),
        ("10 per hour", "bad duration"),
        ("0 per 1h", "N must be 1 to"),
        ("5 per 7m", "divide a day evenly"),
        ("5 per 2d", "divide a day evenly"),
        ("5 per 30s", "divide a day evenly"),
        (10, "write 'N per DURATION'"),
    ]:
        with pytest.raises(ValueError, match=says):
            parse_throttle(bad)


def test_fixed_windows_from_midnight_utc() -> None:
    assert window_start(datetime(2026, 12, 2, 7, 59, 59, 999_999, tzinfo=UTC), HOUR) == T0
    assert window_start(T0, HOUR) == T0
    assert window_start(datetime(2026, 12, 2, 7, 44, tzinfo=UTC), timedelta(minutes=15)) == T0 + timedelta(minutes=30)
    # an offset is the same instant: the window is UTC's
    east = datetime(2026, 12, 2, 10, 30, tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata"))
    assert window_start(east, timedelta(days=1)) == datetime(2026, 12, 2, tzinfo=UTC)
    assert window_start(datetime(1969, 12, 31, 23, 30, tzinfo=UTC), HOUR) == datetime(1969, 12, 31, 23, tzinfo=UTC)


def test_admit_counts_the_window_admitted_only() -> None:
    spec = ThrottleSpec(max=2, per=HOUR)
    marks: list[Mark] = []
    for minute in (1, 2, 3, 4):
        marks.append(admit(spec, T0 + timedelta(minutes=minute), marks))
    assert [m.held for m in marks] == [False, False, True, True]
    # the next window starts afresh; held ones never count
    nxt = admit(spec, T0 + HOUR, marks)
    assert (nxt.window, nxt.held, nxt.spec) == (T0 + HOUR, False, spec)
    # the order the earlier decisions are read in makes no difference
    assert admit(spec, T0, reversed(marks)) == admit(spec, T0, marks)


def test_summary_waits_for_the_window_and_lists_by_severity() -> None:
    held = [
        Held("k5", 5, T0, T0 + HOUR, det(5, "medium")),
        Held("k6", 6, T0, T0 + HOUR, det(6, "critical", T0 + timedelta(minutes=9))),
        Held("k7", 7, T0, T0 + HOUR, det(7, "high"), gone="withdrawn"),
        Held("k9", 9, T0 + HOUR, T0 + 2 * HOUR, det(9)),
    ]
    assert plan_summary(held, 0, 9, T0 + timedelta(minutes=59)) is None  # the window has not ended
    assert next_window_end(held, 0) == T0 + HOUR
    plan = plan_summary(held, 0, 9, T0 + HOUR)
    assert plan is not None
    assert [h.key for h in plan.listed] == ["k6", "k5"]  # critical first; k9's window is still open: not yet
    assert [h.key for h in plan.withdrawn] == ["k7"]
    assert (plan.after, plan.through, plan.since, plan.until) == (0, 7, T0, T0 + HOUR)
    later = plan_summary(held, plan.through, 9, T0 + 2 * HOUR)
    assert later is not None and [h.key for h in later.listed] == ["k9"] and later.after == 7
    assert summary_id("desk", 0) != summary_id("desk", 7) != summary_id("other", 7)
    assert summary_id("desk", 7) == summary_id("desk", 7)  # the same in every process


# One alert: (minutes after T0 it was raised, minutes after T0 its row reached the ledger, withdrawn before its summary)
alerts = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 60), st.booleans()),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    alerts=alerts,
    limit=st.integers(1, 5),
    per_minutes=st.sampled_from([15, 30, 60, 120]),
    looks=st.lists(st.integers(0, 500), max_size=12),
)
def test_never_over_the_limit_and_every_alert_told_once(
    alerts: list[tuple[int, int, bool]], limit: int, per_minutes: int, looks: list[int]
) -> None:
    """Alerts reach the ledger in log order (their raise times may be out of order: late reports, several
    partitions); summaries are planned at arbitrary moments while the log grows, then once more at the end. Never
    more than `max` posted in a window; every alert posted or in exactly one summary (listed, or counted as
    withdrawn)."""
    spec = ThrottleSpec(max=limit, per=timedelta(minutes=per_minutes))
    # log order: by the time each reached the ledger (then as given)
    order = sorted(range(len(alerts)), key=lambda i: (alerts[i][0] + alerts[i][1], i))
    marks: list[Mark] = []
    held: list[Held] = []
    arrival: dict[int, int] = {}  # position -> minute it reached the ledger
    for position, i in enumerate(order, start=1):
        raised_min, delay, withdrawn = alerts[i]
        mark = admit(spec, T0 + timedelta(minutes=raised_min), marks)
        marks.append(mark)
        arrival[position] = raised_min + delay
        if mark.held:
            end = mark.window + spec.per
            held.append(
                Held(f"k{position}", position, mark.window, end, det(position), "withdrawn" if withdrawn else "")
            )
    posted: dict[datetime, int] = {}
    for m in marks:
        if not m.held:
            posted[m.window] = posted.get(m.window, 0) + 1
    assert all(n <= limit for n in posted.values())

    told: list[str] = []
    after = 0
    for minute in [*sorted(looks), 10_000]:
        head = max((p for p, at in arrival.items() if at <= minute), default=0)  # what the ledger holds by then
        visible = [h for h in held if h.seq <= head]
        plan = plan_summary(visible, after, head, T0 + timedelta(minutes=minute))
        if plan is None:
            continue
        assert plan.after == after and plan.through > after
        for h in (*plan.listed, *plan.withdrawn):
            assert h.end <= T0 + timedelta(minutes=minute)  # sent when its window has ended
        told += [h.key for h in (*plan.listed, *plan.withdrawn, *plan.revised)]
        after = plan.through
    assert sorted(told) == sorted(h.key for h in held)  # each held alert in exactly one summary
    assert len(told) == len(set(told))
    assert len(held) + sum(posted.values()) == len(alerts)  # posted or held: nothing else


def test_a_held_alert_raised_again_is_not_told_twice() -> None:
    """The same alert raised again (its reports re-sent) while held: it stands (told in the summary), so the second
    raising is suppressed rather than posted in the next window."""
    from watchfloor.alerts.intake import standing_copy
    from watchfloor.alerts.notice import payload
    from watchfloor.schemas.events import Alert
    from watchfloor.stream_processors.ports import DeliveryRecord

    d = det(1)
    held = DeliveryRecord("k1", "desk", status="held", payload=payload(Alert(id=d.id, detection=d, channels=())))
    assert standing_copy(d, "k2", [held]) == held


def test_the_config_json_schema_says_how_a_throttle_is_written() -> None:
    import re

    from watchfloor.schemas.export import all_schemas

    schema = all_schemas()["config"]
    for name in ("ConsoleChannel", "FileChannel", "SlackChannel", "WebhookChannel", "EmailChannel"):
        (written,) = [s for s in schema["$defs"][name]["properties"]["throttle"]["anyOf"] if s.get("type") == "string"]
        assert re.match(written["pattern"], "10 per 1h") and not re.match(written["pattern"], "10/h")
