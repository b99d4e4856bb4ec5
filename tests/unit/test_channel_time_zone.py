"""A console or email channel shows its times in the zone it is given (`timezone: Europe/Moscow`), labelled with the
zone, instead of UTC (trial 35, L4: a Moscow desk read every time in UTC; Slack's date token already shows each
reader's own). Without one, UTC as before; a zone that is not one is refused at load with the closest names."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from watchfloor.alerts.notice import Digest, notice_of
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import EmailNotifier, notice_parts
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.events import Alert, Detection, Evidence
from watchfloor.schemas.timefmt import utc_text, zone_text
from watchfloor.wiring import build_notifier

FIRED = datetime(2024, 11, 12, 8, 0, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")


def alert() -> Alert:
    published = datetime(2024, 11, 12, 7, 30, tzinfo=UTC)
    ev = Evidence(event_id="doc-1", signal="s", source="Alpha Wire", published_at=published,
                  sentence="The treaty entered into force.")  # fmt: skip
    det = Detection(id="det1", rule="treaty", title="Treaty in force", severity="high", fired_at=FIRED, evidence=(ev,))
    return Alert(id="det1", detection=det, channels=("desk",))


def test_a_time_in_a_zone_is_labelled_by_its_abbreviation_or_its_offset() -> None:
    assert zone_text(None) is utc_text
    assert zone_text(MOSCOW)(FIRED) == "2024-11-12 11:00 MSK"
    assert zone_text(ZoneInfo("Europe/Berlin"))(datetime(2024, 7, 1, 12, tzinfo=UTC)) == "2024-07-01 14:00 CEST"
    # IANA has no abbreviation for these ("+04"): the offset from UTC is said instead.
    assert zone_text(ZoneInfo("Asia/Dubai"))(FIRED) == "2024-11-12 12:00 UTC+4"
    assert zone_text(ZoneInfo("Asia/Kathmandu"))(FIRED) == "2024-11-12 13:45 UTC+5:45"
    assert zone_text(ZoneInfo("America/Sao_Paulo"))(FIRED) == "2024-11-12 05:00 UTC-3"
    # A time at the calendar's edge is shown as given, never an OverflowError (as utc_text).
    edge = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert zone_text(MOSCOW)(edge) == edge.isoformat()


def test_console_and_email_show_the_channel_zone_and_utc_without_one() -> None:
    notice = notice_of(alert())
    for zone, want, not_want in ((MOSCOW, "2024-11-12 10:30 MSK", "07:30 UTC"), (None, "2024-11-12 07:30 UTC", "MSK")):
        buf = io.StringIO()
        ConsoleNotifier("desk", console=Console(file=buf, width=200), zone=zone).send(notice)
        mail = EmailNotifier("mail", to=["desk@example.org"], sender="wf@example.org", host="localhost", zone=zone)
        text = mail.message(notice).get_body(("plain",))
        assert text is not None
        for name, shown in (("console", buf.getvalue()), ("email", text.get_content())):
            assert want in shown and not_want not in shown, (name, shown)
    assert "fired 2024-11-12 11:00 MSK" in notice_parts(notice, zone_text(MOSCOW))[0]


def test_a_throttle_summary_and_a_digest_list_their_alerts_in_the_zone() -> None:
    det = alert().detection
    since = datetime(2024, 11, 12, 7, tzinfo=UTC)
    digest = Digest(id="dig-1", subscription_id="s", channel="desk", slot=FIRED, since=since,
                    after_position=0, through_position=1, detections=(det,), throttle="10 per 1h")  # fmt: skip
    moscow = zone_text(MOSCOW)
    assert digest.title(moscow).endswith("2024-11-12 10:00 MSK – 2024-11-12 11:00 MSK")
    assert "2024-11-12 11:00 MSK" in digest.lines(moscow)[0]
    assert "2024-11-12 08:00 UTC" in digest.lines()[0]


def _config(tmp_path: Path, zone: str) -> Path:
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        f"channels: [{{type: console, name: desk, timezone: {zone}}},\n"
        f"  {{type: email, name: mail, to: d@example.org, from: w@example.org, host: localhost, timezone: {zone}}}]\n",
        encoding="utf-8",
    )
    return cfg


def test_the_zone_is_checked_at_load_and_reaches_the_notifiers(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "Europe/Moscow"))
    for ch in cfg.channels:
        buf = io.StringIO()
        notifier = build_notifier(ch, env={})
        if isinstance(notifier, ConsoleNotifier):
            notifier.console = Console(file=buf, width=200)
            notifier.send(notice_of(alert()))
            assert "2024-11-12 10:30 MSK" in buf.getvalue()
        else:
            assert isinstance(notifier, EmailNotifier)
            assert "2024-11-12 10:30 MSK" in str(notifier.message(notice_of(alert())))
    with pytest.raises(ConfigError) as e:
        load_config(_config(tmp_path, "Europe/Moskow"))
    said = str(e.value)
    assert "'Europe/Moskow' is not a time zone (did you mean 'Europe/Moscow'?): write an IANA name" in said, said
    with pytest.raises(ConfigError) as e:
        load_config(_config(tmp_path, "moscow"))
    assert "'moscow' is not a time zone (did you mean 'Europe/Moscow'?)" in str(e.value), str(e.value)
