"""A report dated in the future is taken at its receive time (the alert's own time); the evidence shows its claimed
date and now says it was counted when received (outside trial 23, M3-6: "Alpha Wire · 2099-10-20 09:00 UTC" above
"fired 2026-12-04 03:52 UTC", unflagged). Slack, console and email; a report dated before the alert is unchanged."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import notice_parts
from watchfloor.alerts.notifiers.slack_blocks import build_blocks
from watchfloor.schemas.events import Alert, Detection, Evidence, dated_ahead, dated_text

FIRED = datetime(2026, 12, 4, 3, 52, tzinfo=UTC)
FLAG = "(dated in the future: counted when received)"


def alert(published: datetime) -> Alert:
    ev = Evidence(event_id="doc-1", signal="s", source="Alpha Wire", published_at=published,
                  sentence="North Korean troops were deployed to Kursk.")  # fmt: skip
    det = Detection(id="det1", rule="troops", title="Troops in Kursk", severity="high", fired_at=FIRED, evidence=(ev,))
    return Alert(id="det1", detection=det, channels=("desk",))


def test_the_rule_and_its_words() -> None:
    assert dated_ahead(datetime(2099, 10, 20, 9, tzinfo=UTC), FIRED)
    assert not dated_ahead(FIRED + timedelta(minutes=30), FIRED)  # within the skew: taken at its own date
    assert not dated_ahead(FIRED - timedelta(days=1), FIRED)
    assert dated_text("2099-10-20 09:00 UTC", False, True) == f"2099-10-20 09:00 UTC {FLAG}"
    assert dated_text("12:03 UTC", True, True) == "first seen 12:03 UTC (undated)"


def test_slack_console_and_email_flag_a_future_dated_report_only() -> None:
    for published, flagged in ((datetime(2099, 10, 20, 9, tzinfo=UTC), True), (FIRED - timedelta(hours=5), False)):
        notice = notice_of(alert(published))
        slack = str(build_blocks(notice))
        buf = io.StringIO()
        ConsoleNotifier("console", console=Console(file=buf, width=200)).send(notice)
        mail = notice_parts(notice)
        for name, text in (("slack", slack), ("console", buf.getvalue()), ("email", str(mail))):
            assert (FLAG in text) is flagged, (name, published, text[:2000])


def _shown(ev: Evidence) -> list[tuple[str, str]]:
    """How console, email (text and HTML) and Slack show an alert of rule leader-dies resting on `ev` alone."""
    det = Detection(id="det2", rule="leader-dies", title="Leader dies", severity="high", fired_at=FIRED, evidence=(ev,))
    notice = notice_of(Alert(id="det2", detection=det, channels=("desk",)))
    buf = io.StringIO()
    ConsoleNotifier("console", console=Console(file=buf, width=200)).send(notice)
    text, page = notice_parts(notice)
    return [("console", buf.getvalue()), ("email", text), ("html", page), ("slack", str(build_blocks(notice)))]


def test_a_composed_rule_s_input_alert_is_not_quoted_as_the_outlet_s_words() -> None:
    """Outside trial 37, M3: a rule over other rules' alerts showed an input alert's title in quotes under the
    outlet's link, as if the outlet had written it. Slack, console and email show it as "alert RULE: TITLE"."""
    title = "Armed mutiny: the leader in rebellion"
    ev = Evidence(event_id="det-in", signal="alert:mutiny", source="Alpha Wire", published_at=FIRED,
                  sentence=title)  # fmt: skip
    for name, shown in _shown(ev):
        assert f"alert mutiny: {title}" in shown, (name, shown)
        assert f"“{title}”" not in shown and f"<q>{title}</q>" not in shown, (name, shown)


def test_a_composed_rule_s_input_alert_says_its_time_is_when_it_fired_and_its_link_its_first_report() -> None:
    """Outside trial 84, F2: an input alert's evidence line linked the first report behind it (a June article) beside
    the time the alert fired (October), read as that report's time. Slack, console and email say which is which."""
    ev = Evidence(event_id="det-in", signal="alert:mutiny", source="Alpha Wire", published_at=FIRED,
                  sentence="Armed mutiny", url="https://alpha.example/2026/06/first")  # fmt: skip
    for name, shown in _shown(ev):
        assert "Alpha Wire, its first report" in shown and "alert fired " in shown, (name, shown)
        assert "2026-12-04 03:52" in shown.split("alert fired ", 1)[1][:80], (name, shown)  # (Slack: in a date token)
    report = Evidence(event_id="r1", signal="mutiny", source="Alpha Wire", published_at=FIRED, sentence="A mutiny.")
    det = Detection(id="det3", rule="mutiny", title="Mutiny", severity="high", fired_at=FIRED, evidence=(report,))
    plain = notice_of(Alert(id="det3", detection=det, channels=("desk",)))
    assert "alert fired" not in str(build_blocks(plain)) and "its first report" not in str(build_blocks(plain))
