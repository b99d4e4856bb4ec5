"""The status page's content: /healthz's verdict and problems, the sources (failing ones first: since when, the
last error), the Kafka pipeline's consumer groups and watermark when a broker is configured, recent alerts with
their deliveries and acknowledgements, outstanding deliveries, subscriptions and silences. Plain data for a
server-rendered template (escaped by Jinja); no JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from watchfloor.alerts.notice import REPLACED
from watchfloor.alerts.slackapp.commands import describe_subscription
from watchfloor.schemas.control import AlertAcknowledged
from watchfloor.schemas.events import fired_time_text
from watchfloor.stream_processors.stores.errors import store_problem

from .activity import Activity, AlertRow, Heartbeat, heartbeat
from .broker import KafkaView
from .health import health_report
from .metrics import late_documents

if TYPE_CHECKING:
    from .server import Services

SHOWN_ALERTS = 50
SHOWN_OUTSTANDING = 200
# Ledger states of a delivery not done yet (older stores and dispatchers say pending/failed).
NOT_DONE = ("outstanding", "expired", "pending", "failed")


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    # An answer stamped a moment after the page's clock read (the probe's look ends on its own thread) is "0s ago",
    # not "-0s ago" (outside trial 77, F4)
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def _utc(text: str | datetime) -> str:
    try:
        when = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    except ValueError:
        return str(text)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plain(text: str) -> str:
    """Slack mrkdwn from describe_subscription, as page text (the template escapes it)."""
    return text.replace("`", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _sources(hb: Heartbeat, now: datetime) -> list[dict[str, Any]]:
    """Each source the heartbeat knows, failing ones first: since when, the last error, failed polls, last good."""
    failing = hb.failing(now)
    rows = []
    for origin, st in hb.sources.items():
        since = st.get("failing_since")
        last_ok = st.get("last_success")
        rows.append(
            {
                "origin": origin,
                "failing": origin in failing,
                "since": _utc(since) if since else "",
                "for": _ago(failing[origin][0]).removesuffix(" ago") if origin in failing else "",
                "error": str(st.get("last_error") or "") if origin in failing else "",
                "failures": int(st.get("failures", 0)),
                "editions_left_out": int(st.get("editions_left_out", 0)),
                "last_success": _ago((now - datetime.fromisoformat(last_ok)).total_seconds()) if last_ok else "never",
            }
        )
    return sorted(rows, key=lambda r: (not r["failing"], r["origin"]))


def _late(s: Services, hb: Heartbeat) -> list[dict[str, Any]]:
    """Per source, the documents beyond the allowed lateness `run` or the Kafka workers took: passed over (no
    detection reads them) and dead-lettered, as `status` and /metrics count them (trial 67 MED-4 left them off this
    page)."""
    counted = late_documents(s.store, hb, None if s.kafka is None else s.kafka.group)
    return [
        {
            "origin": origin or "(no origin)",
            "passed_over": int(counts.get("passed_over", 0)),
            "dead_lettered": int(counts.get("dead_lettered", 0)),
        }
        for origin, counts in sorted(counted.items())
    ]


def _last_poll(hb: Heartbeat) -> str:
    last = hb.last_poll
    if not last.get("polled"):
        return ""
    failed = len(last.get("failed") or ())
    return f"{_utc(str(last.get('at')))}: {last['polled']} polled, {failed} failed"


def member_gone(group: str, member: str) -> int | None:
    """rules_guard.member_gone (imported when asked: it loads the rules' fingerprinting)."""
    from watchfloor.stream_processors.kafka.rules_guard import member_gone as gone

    return gone(group, member)


def _kafka(
    v: KafkaView, now: datetime, holder: Any = None, gone: Callable[[str, str], int | None] = member_gone
) -> dict[str, Any]:
    """The Kafka section: whether the broker answered, the groups with their lag per topic, the watermark and the
    source holding it back (`holder`, relay.WatermarkHolder: as `status` and /metrics name it; outside trial 77,
    F4); each group's members of this host known not to run (`gone`: killed, kept by the broker until the session
    times out) marked as `status` marks them (outside trial 78, F4: the page listed a SIGKILLed worker as any other)."""
    out: dict[str, Any] = {"broker": v.bootstrap, "prefix": v.prefix, "up": v.up, "error": v.error, "groups": []}
    st = v.status
    if st is None or v.asked_at is None:
        return out
    low = st.watermark
    out.update(
        asked=_ago((now - v.asked_at).total_seconds()),
        caught_up=st.caught_up,
        missing=", ".join(st.missing),
        watermark="" if low is None else f"{_utc(datetime.fromtimestamp(low, UTC))} ({_ago(now.timestamp() - low)})",
        held_by="" if holder is None else holder.text().removeprefix("watermark "),
    )
    for g in st.groups:
        running = g.started or g.role == "workers"
        behind = v.behind.get(g.group)
        out["groups"].append(
            {
                "group": g.group,
                "role": g.role,
                "state": g.state,
                "members": g.members,
                "stopped": {m: pid for m in g.members if (pid := gone(g.group, m)) is not None},
                "running": running,
                "lag": g.lag if running else None,
                "topics": [(t.topic, t.lag) for t in g.topics] if running else [],
                "behind": "" if not behind else _ago(behind).removesuffix(" ago"),
                "rules": g.rules,
            }
        )
    return out


def _holder(s: Services) -> Any:
    """The source holding the published watermark back, from the relay's state in the store served
    (server.holder_in)."""
    from .server import holder_in  # (the server imports this module)

    return holder_in(s)


def ack_text(ack: AlertAcknowledged, names: Mapping[str, str]) -> str:
    """'kim (via cli) in desk at 2026-12-08 10:02 UTC: calling Seoul': who, in which channel (none: for the alert, in
    every channel), when, and the note. The channel is said as `alerts list` says it (outside trial 81, F4: two
    acknowledgements of one alert in two channels read as the same one made twice); a Slack channel subscribed from
    Slack with its name."""
    channel = ack.channel or (f"slack:{ack.slack_channel}" if ack.slack_channel else "")
    name = names.get(channel)
    where = f" in {channel}" + (f" (#{name})" if name else "") if channel else ""
    return f"{ack.by.label()}{where} at {_utc(ack.at)}" + (f": {ack.note}" if ack.note else "")


def _deliveries_of(s: Services, row: AlertRow, which: str) -> list[dict[str, str]]:
    """The page's deliveries of one raising. A raising's `channels` are its alert event's, which the first raising
    wrote; a later one (reinstated, or revised in place) is routed anew, by the subscriptions of then, and may have
    gone to fewer channels, or none: a channel with no delivery event is queued only if the ledger has its row."""
    out = []
    for ch in row.channels:
        got = row.deliveries.get(ch)
        if got is None and s.store.delivery_status(row.key, ch) is None:
            continue
        status, detail, _ = got or ("queued", "", "")
        if status == "suppressed" and detail.startswith(REPLACED):
            status = "replaced"  # by a revision sent in its place: not silenced, as "suppressed" alone read
        elif status == "failed" and s.store.delivery_status(row.key, ch) == "outstanding":
            # A failed attempt the ledger still retries (Slack away, its answer lost): "outstanding", as `alerts
            # list` says, not "failed" (outside trial 69, L1: the message was in Slack already)
            status, detail = "outstanding", f"retrying; the last attempt failed: {detail}" if detail else "retrying"
        out.append({"channel": f"{ch}{which}", "status": status, "detail": detail})
    return out


def _intake(health: dict[str, Any], after: float) -> dict[str, Any]:
    """The intake's backlog as /healthz read it, with why it waits when it is not a notify seconds behind."""
    waiting = int(health.get("detections_not_taken_in", 0))
    stalled = float(health.get("intake_stalled_seconds", 0.0))
    note = ""
    if waiting and not health.get("intake_started", True):
        note = "no notify has ever run on this store"
    elif stalled:
        note = f"none taken in for {_ago(stalled).removesuffix(' ago')}"
    return {"waiting": waiting, "stalled": stalled > after, "note": note}


def status_page(s: Services, a: Activity) -> dict[str, Any]:
    now = s.now()
    ctx = s.context
    health, code = health_report(s)
    hb = heartbeat(s.store)
    alerts = []
    # The ledger's rows name a detection's delivery key, which is not its alert id for a revision or follow-up a
    # late report raised (revision > 0): keyed by alert id, those rows had no rule.
    rules = {row.key: row.rule for row in a.recent}
    outstanding = [
        {
            "alert": r.alert_id,
            "rule": rules.get(r.alert_id, ""),
            "channel": r.channel,
            "status": r.status,
            "attempts": r.attempts,
            "detail": r.detail,
        }
        for r in s.store.deliveries(statuses=NOT_DONE, limit=SHOWN_OUTSTANDING)
    ]
    # One row per alert, at its latest raising: an alert raised again with its own id (reinstated after a revision
    # or a withdrawal) is the same alert, as `alerts list` shows it; its earlier raisings' deliveries go with it.
    newest_first = list(reversed(a.recent))
    earlier: dict[str, list[Any]] = {}
    for row in newest_first:
        earlier.setdefault(row.id, []).append(row)
    shown: set[str] = set()
    names = s.control.channel_names()  # (a Slack channel subscribed from Slack: its name, by its acknowledgements)
    for row in newest_first:
        if row.id in shown:
            continue
        if len(shown) >= SHOWN_ALERTS:
            break
        shown.add(row.id)
        deliveries = _deliveries_of(s, row, "")
        # (a revision that kept the alert's id revised it in place: the earlier row is the alert before it, not a
        # raising withdrawn since)
        which = "before its revision" if row.in_place else "earlier raising"
        for before in earlier[row.id][1:]:
            deliveries += _deliveries_of(s, before, f" ({which})")
        acks = [ack_text(ack, names) for ack in s.control.acknowledgements(row.id)]
        alerts.append(
            {
                "id": row.id,
                "fired_at": fired_time_text(_utc(row.fired_at), row.first_seen, row.ahead),
                "rule": row.rule,
                "title": row.title,
                "severity": row.severity,
                "unconfirmed": row.confidence == "unconfirmed",
                "group": ", ".join(ctx.entity_name(v) for v in row.group.values()),
                "deliveries": deliveries,
                "acks": acks,
                "reinstated": len(earlier[row.id]) > 1 and not row.in_place,
                "revised": len(earlier[row.id]) > 1 and row.in_place,
                "revised_by": row.revised_by,
            }
        )
    subs = [
        {
            "id": sub.id,
            "channel": sub.channel,
            "what": _plain(describe_subscription(ctx, sub)),
            "managed_by": sub.managed_by,
            "by": sub.by.label(),
            "since": _utc(sub.at),
        }
        for sub in s.control.subscriptions()
    ]
    silences = [
        {
            "id": sil.id,
            "rule": sil.rule,
            "group": _plain(ctx.group_text(sil.group)),
            "channel": sil.channel or "all channels",
            "starts": _utc(sil.starts_at),
            "ends": _utc(sil.ends_at),
            "active": sil.active(now),
            "by": sil.by.label(),
            "reason": sil.reason,
        }
        for sil in s.control.silences()
    ]
    return {
        "now": _utc(now),
        "store": s.store_label,
        # The log's real head, as /healthz reports it: the activity's position is only that of the newest event of
        # the types it reads, behind the head after e.g. a `caught_up` event.
        "log_head": s.store.head(),
        "last_cycle": _ago(hb.age(now)),
        "cycles": hb.cycles,
        "slack": "configured" if s.slack_app is not None else f"off ({s.slack_problem})",
        "alerts": alerts,
        "total_alerts": sum(a.alerts.values()),
        "outstanding": outstanding,
        # (the ledger holds no row of these yet: the outstanding rows above cannot show them, trial 45)
        "intake": _intake(health, s.delivery_outstanding_after),
        "subscriptions": subs,
        "silences": silences,
        "health": {
            "status": health["status"],
            "code": code,
            "problems": health.get("problems", []),
            "warnings": health.get("warnings", []),
        },
        "sources": _sources(hb, now),
        "late": _late(s, hb),
        "last_poll": _last_poll(hb),
        "kafka": None if s.kafka is None else _kafka(s.kafka.view(), now, _holder(s)),
    }


def store_down_page(s: Services, e: BaseException) -> dict[str, Any]:
    """The status page while the store cannot be read (`e` says why): the verdict and the reason, and the Kafka
    section (from the broker, not the store); every other section needs the store."""
    now = s.now()
    reason = store_problem(e)
    return {
        "now": _utc(now),
        "store": s.store_label,
        "store_down": reason,
        "slack": "configured" if s.slack_app is not None else f"off ({s.slack_problem})",
        "health": {"status": "down", "code": 503, "problems": [f"store unreachable: {reason}"]},
        "kafka": None if s.kafka is None else _kafka(s.kafka.view(), now, _holder(s)),
    }
