"""The `watchfloor alerts` commands (alerts raised so far, with their deliveries; redeliver), and what `run` and
`notify` say about deliveries: the channel checks at start, the per-cycle summary, the `--once` exit status."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from watchfloor.alerts.delivery import FOUND_NOTE
from watchfloor.alerts.throttle import HELD, SUMMARY_PREFIX, summaries_of_held
from watchfloor.schemas.detection_fields import dated_ahead
from watchfloor.schemas.events import (
    Detection,
    EventType,
    Retraction,
    detection_event_id,
    fired_first_seen,
    fired_time_text,
)

from ._common import (
    ID_COLUMN,
    ConfigOpt,
    StoryReadProgress,
    alerts_app,
    app_config,
    check_channel_name,
    counted,
    err,
    fail,
    out,
    redact_url,
    shown_channel,
)

UNDELIVERED_EXIT = 3  # `run --once` / `notify --once`: deliveries outstanding, or given up in this run
SPOOLED_EXIT = 3  # `produce --once`: documents left in the spool, waiting for a broker that did not answer
# `run --once` / `produce --once` / `backtest`: a source could not be read (missing file, unreachable feed, not a
# feed). It wins over 3 when both happen (both are said): deliveries and the spool catch up by running again, a
# source that fails mostly needs a person (a path, a URL, a feed that moved); and over a backtest's failed gate (1).
SOURCE_FAILED_EXIT = 4


# --- what run and notify say ------------------------------------------------------------------------------


def print_channel_checks(dispatcher: Any, names: Mapping[str, str] | None = None, *, record: Any = None) -> None:
    """One line per channel that can check itself (Slack: token, channel, membership). A failed check is a
    warning and nothing more: no delivery waits on it. The channel's alerts are sent as usual; one that fails
    stays outstanding in the delivery ledger and is retried on the backoff, and the other channels go on either
    way. (A channel the check cannot see, e.g. a private one without groups:read, may well take posts.)
    A channel whose config cannot work (a file channel whose path is a directory: `fatal`) is a bad config
    instead: raises `fail` (exit 1) naming it, after the other lines. `dispatcher` is anything with
    `check_channels()`, or the checks themselves; a Slack channel subscribed from Slack is shown with the name its
    subscription keeps (`names`, else the dispatcher's channel_names()). With `record` (a store), the failed checks
    are kept in its heartbeat, for `status`, the status page and /healthz to say (trial 33, M2: only this terminal
    did), replacing those of an earlier start."""
    checks = dispatcher if isinstance(dispatcher, list) else dispatcher.check_channels()
    fatal = [check for check in checks if check.fatal]
    if names is None:
        subscribed = any(c.channel.startswith("slack:") for c in checks)
        names = dispatcher.channel_names() if subscribed and hasattr(dispatcher, "channel_names") else {}
    if record is not None:
        from watchfloor.web.activity import record_channel_checks

        failed = [(shown_channel(c.channel, names), c.message) for c in checks if c.channel and not c.ok]
        cleared = {
            shown_channel(c.channel, names): c.channel
            for c in checks
            if c.channel and not c.ok and getattr(c, "cleared_by_delivery", True)
        }
        try:
            record_channel_checks(record, datetime.now(UTC), failed, cleared)
        except Exception as e:  # monitoring only: the start goes on, as a failed check does
            from watchfloor.stream_processors.stores.errors import store_problem

            # The reason, naming the store (trial 50, LOW-2: a bare "StoreError" said nothing of a read-only file).
            err.print(
                "[yellow]could not record the channel checks for status and /healthz[/yellow]: "
                f"{escape(store_problem(e))}",
                highlight=False,
            )
    routing = getattr(dispatcher, "routing", None)
    if routing is not None and not routing.routing().subscriptions:  # a config with channels and none yet (F2)
        err.print(
            "[yellow]no subscriptions[/yellow]: alerts are recorded (watchfloor alerts list) and sent to no channel; "
            "add one with `watchfloor subscriptions add CHANNEL` or `/watchfloor subscribe` in Slack (it routes the "
            "alerts raised from then on; `watchfloor alerts redeliver ID --route` sends an earlier one)",
            highlight=False,
        )
    _print_orphans(dispatcher)
    for check in checks:
        shown = escape(shown_channel(check.channel, names))
        if not check.channel:  # a note on the channels not checked (SUBSCRIBED_CHECKED)
            err.print(escape(check.message), highlight=False)
            continue
        if check.ok:
            err.print(f"[green]channel[/green] {shown}: {escape(check.message)}", highlight=False)
            continue
        if check.fatal:
            continue  # (the error below)
        advice = ""
        if "conversations.list" in check.message:  # Slack lists a private channel only with groups:read
            advice = (
                " If the channel exists: invite the bot there (/invite @watchfloor), and for a private channel give "
                "the app the groups:read scope, so that the check can find it."
            )
        err.print(
            f"[yellow]channel {shown}: check failed[/yellow] (its alerts are tried anyway): "
            f"{escape(check.message)}. A delivery that fails stays outstanding in the delivery ledger and is retried "
            f"(watchfloor alerts list --undelivered); the other channels go on.{advice}",
            highlight=False,
        )
    if fatal:
        raise fail("; ".join(check.message for check in fatal))


def _print_orphans(dispatcher: Any) -> None:
    """One line per channel with deliveries outstanding that the config no longer names (trial 19, M5: they were
    retried, `no notifier configured`, for retry.max_age, the store `behind` and `--once` exiting 3 all along,
    and the start said nothing): how many, and the two ways out."""
    store = getattr(dispatcher, "store", None)
    deliverer = getattr(dispatcher, "deliverer", None)
    if store is None or deliverer is None:
        return
    try:
        stats = store.delivery_stats(("outstanding",))
    except Exception:  # a store away at start: the cycles say so (and retry); a hint must not stop the start
        return
    for (ch, _), (n, _) in sorted(stats.items()):
        if n and not deliverer.has_channel(ch):
            err.print(
                f"[yellow]{_deliveries(n)} outstanding for channel {escape(repr(ch))}, which this config does "
                "not name[/yellow]: left for a process on this store whose config names it; if none does (removed), "
                f"`watchfloor alerts cancel --channel {escape(ch)}` (or re-add it); until then they count as "
                "outstanding (not caught up; `--once` exits 3) and expire after retry.max_age",
                highlight=False,
            )


CHANNELS_SHOWN = 3  # channels named per figure of the cycle line; the rest are counted ("+2 more")


def delivery_summary(report: Any, dispatcher: Any) -> str:
    """'deliveries: 9 sent (file 7, desk 2), 2 outstanding (desk 2; next attempt in 4s), 0 expired' for one cycle;
    'deliveries to desk: 2 sent (1 of them found already posted, not posted again), …' when an interrupted attempt
    had got through.

    Each figure is split by channel when more than one channel is in the line (trial 19, L3: during a Slack
    outage "7 sent, 7 outstanding" were the file channel's sent and Slack's outstanding, and read as "Slack
    delivered 7"); with one channel, the line is as before and names it: 'deliveries to desk: 2 sent, ...'."""
    t = report.tally
    sent: Mapping[str, int] = getattr(t, "sent_by_channel", {})
    expired: Mapping[str, int] = getattr(t, "expired_by_channel", {})
    waiting: Mapping[str, int] = getattr(report, "outstanding_by_channel", {})
    channels = {ch for part in (sent, expired, waiting) for ch, n in part.items() if n}
    split = len(channels) > 1
    # A Slack channel subscribed from Slack is shown with its name (read only when one is in the line)
    names = dispatcher.channel_names() if any(ch.startswith("slack:") for ch in channels) else {}
    head = f"deliveries to {escape(shown_channel(next(iter(channels)), names))}" if len(channels) == 1 else "deliveries"

    def figure(n: int, what: str, per_channel: Mapping[str, int], notes: list[str] | None = None) -> str:
        parts = [_by_channel(per_channel, names)] if split and n and per_channel else []
        parts += notes or []
        return f"{n} {what}" + (f" ({'; '.join(parts)})" if parts else "")

    notes = []
    # Rows another process holds a live lease on are in flight, not outstanding (the exit status does not count
    # them): said apart, so the line does not read "1 outstanding" above exit status 0 (outside trial 23, M3-4).
    elsewhere = getattr(report, "elsewhere", 0)
    left = report.outstanding - elsewhere
    if left > 0 and getattr(report, "held_back", False):
        notes.append("held until the backlog is read, then sent in event time")
    elif left > 0:
        due = dispatcher.next_due(digests=False)  # the next attempt of what is outstanding, not the next digest
        if due is not None:
            notes.append(f"next attempt in {due:.0f}s")
    in_flight = f"{elsewhere} being sent by another process, " if elsewhere else ""
    # Of those sent, the ones an interrupted attempt had posted already, found by looking: not posted again (trial
    # 33, L5: "2 sent" after a takeover, one of them a find, read as two posts).
    found = getattr(t, "found", 0)
    found_note = [f"{found} of them found already posted, not posted again"] if found else []
    text = (
        f"{head}: {figure(t.sent, 'sent', sent, found_note)}, {in_flight}"
        # (the per-channel split counts the rows in flight too: left out when there are any)
        f"{figure(left, 'outstanding', {} if elsewhere else waiting, notes)}, {figure(t.expired, 'expired', expired)}"
    )
    # A throttle summary is a ledger row of kind digest, but not a digest (outside trial 64, LOW-4): said apart
    summaries = getattr(t, "summaries", 0)
    sent_apart = [counted(t.digests, "digest")] if t.digests else []
    sent_apart += [counted(summaries, "throttle summary", "throttle summaries")] if summaries else []
    if sent_apart:
        text += f" · {' and '.join(sent_apart)} sent"
    if t.suppressed:
        text += f", {t.suppressed} suppressed"
    if getattr(t, "replaced", 0):
        text += f", {t.replaced} replaced before sending by a later revision"
    if getattr(t, "withdrawn", 0):
        text += f", {t.withdrawn} withdrawn before sending (neither it nor its withdrawal sent)"
    if getattr(t, "acks_shown", 0):  # (not in `sent`: no new message; outside trial 26, F8: "0 sent" said nothing)
        text += f", {t.acks_shown} message{'s' if t.acks_shown != 1 else ''} rewritten to show an acknowledgement"
    return text


def _by_channel(counts: Mapping[str, int], names: Mapping[str, str] | None = None) -> str:
    """'file 7, desk 2, email 1, +2 more': the channels with the most first (then by name), the first few named,
    so that a deployment of many channels keeps a short line."""
    ranked = sorted(((n, ch) for ch, n in counts.items() if n), key=lambda x: (-x[0], x[1]))
    shown = [f"{escape(shown_channel(ch, names or {}))} {n}" for n, ch in ranked[:CHANNELS_SHOWN]]  # rich markup
    if len(ranked) > CHANNELS_SHOWN:
        shown.append(f"+{len(ranked) - CHANNELS_SHOWN} more")
    return ", ".join(shown)


def next_wait(dispatcher: Any, interval: float) -> float:
    """How long a live loop sleeps: its interval, or less when a delivery falls due sooner."""
    try:
        due = dispatcher.next_due()
    except Exception:  # the store is down: the next cycle reports it
        return interval
    return interval if due is None else max(min(interval, due), 0.05)


def failed_sources_note(summary: Any) -> str:
    """' (2 failed)' for a summary line, when sources of the poll failed."""
    failed = len(summary.errors)
    return f" ({failed} failed)" if failed else ""


class PolledSources:
    """The sources every pass of a `--once` polled, and those that failed in any of them: a backlog read a slice
    per pass polls only the source behind after the first, and the exit status went by the last pass alone (trial
    33, M1: a feed that failed in the first of three catch-up passes exited 0). Given to `exit_if_sources_failed`
    in place of one pass's summary."""

    def __init__(self) -> None:
        self._sources: dict[str, Any] = {}
        self._failed: dict[str, Any] = {}

    def add(self, summary: Any) -> None:
        for src in summary.sources:
            self._sources[src.origin] = src
            if src.error is not None:
                self._failed[src.origin] = src  # kept: a failure in this run is said even if a later pass read it

    @property
    def sources(self) -> list[Any]:
        return list(self._sources.values())

    @property
    def errors(self) -> list[Any]:
        return list(self._failed.values())


def exit_if_sources_failed(summary: Any) -> None:
    """`--once` fails (exit 4) when a source of its poll (or of any of its passes: `PolledSources`) could not be
    read."""
    if summary is None or not summary.errors:
        return
    names = ", ".join(redact_url(s.origin) for s in summary.errors)
    err.print(
        f"[yellow]{len(summary.errors)} of {len(summary.sources)} sources failed:[/yellow] {escape(names)}",
        highlight=False,
    )
    raise typer.Exit(SOURCE_FAILED_EXIT)


# How long a `--once` waits for the attempts of a process killed mid-send, or for its own posts that timed out, to
# land before it looks for them in their channel and sends what is not there: Slack's look and post (2 × its timeout,
# 20 s by default) fit; an email relay's longer exchanges do not, and are left outstanding for the next run, as before.
TAKE_OVER_WAIT_MAX = 60.0


def after_take_over(dispatcher: Any, report: Any, stop: Any) -> Any:
    """`--once` (`run`, `notify`) after a process was killed mid-send, or after a post of its own timed out: the
    deliveries it held, taken over, or the ones that timed out, wait until an attempt on its way has landed
    (`Dispatcher.landing_wait`), and the run ended with them outstanding (exit 3; trial 36, H1's cost; trial 54,
    HIGH-1). Waited for here (at most TAKE_OVER_WAIT_MAX), then delivered: looked for in the channel first, and posted
    only when not there. The report the exit status goes by: the later pass's, when there is one."""
    left = dispatcher.landing_wait() if report is not None and report.outstanding else 0.0
    if left <= 0:
        return report
    what = dispatcher.landing_for()
    if left > TAKE_OVER_WAIT_MAX:
        err.print(
            f"not waiting {left:.0f}s for {what} to land (a `--once` waits up to {TAKE_OVER_WAIT_MAX:.0f}s): they stay "
            "outstanding, and the next run looks for each in its channel before it sends it",
            highlight=False,
        )
        return report
    err.print(
        f"waiting {left:.0f}s for {what}: it may still land; then each is looked for in its channel and sent only if "
        "it is not there",
        highlight=False,
    )
    if stop.wait(left + 0.05):
        return report
    again = dispatcher.cycle()
    err.print(delivery_summary(again, dispatcher), highlight=False)
    return again


def exit_if_undelivered(report: Any, *, then_exit: bool = True) -> int:
    """`--once` fails (exit 3) while deliveries are outstanding or when one was given up in this run. With
    `then_exit=False`, says so and returns the exit code (0 when all was delivered) for the caller to decide."""
    if report.ok:
        return 0
    what = []
    left = report.outstanding - getattr(report, "elsewhere", 0)  # not those another process is sending
    if left and getattr(report, "held_back", False):  # (no fault: a backlog's alerts, held while it is read)
        what.append(f"{_deliveries(left)} outstanding (held while the backlog was read: the next run sends them)")
    elif left:
        what.append(f"{_deliveries(left)} outstanding (run again once the fault is fixed)")
    if report.tally.expired:
        what.append(f"{report.tally.expired} given up (watchfloor alerts redeliver)")
    err.print(f"[yellow]not everything was delivered:[/yellow] {'; '.join(what)}", highlight=False)
    if then_exit:
        raise typer.Exit(UNDELIVERED_EXIT)
    return UNDELIVERED_EXIT


# --- alerts list ------------------------------------------------------------------------------------------


def _utc(when: datetime) -> str:
    """A time in UTC, marked so, whatever its own offset (a document's) and the machine's time zone."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _when(epoch: float) -> str:
    return _utc(datetime.fromtimestamp(epoch, UTC)) if epoch else "—"


def _in_flight(r: Any) -> str:
    """An attempt not counted in `attempts` yet: "sending" (a live process holds its lease), "interrupted" (the
    process stopped mid-send: it may have got through, so the channel is looked at before the next attempt), or ""."""
    if r.status != "outstanding" or not r.lease_owner:
        return ""
    from watchfloor.alerts.dispatcher import holder_may_live  # what `status` and the dispatcher judge a lease by

    live = r.lease_until is not None and r.lease_until > datetime.now(UTC).timestamp()
    return "sending" if live and holder_may_live(r.lease_owner) else "interrupted"


def _found_posted(r: Any) -> bool:
    """Whether the ledger row was settled `sent` by finding its post already in the channel (delivery.FOUND_NOTE)."""
    return bool(r.status == "sent" and r.detail.endswith(f"({FOUND_NOTE})"))


def _delivery_json(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"status": r.status, "kind": r.kind, "attempts": r.attempts, "detail": r.detail}
    if r.ref:
        out["ref"] = r.ref
    if _found_posted(r):
        out["found_already_posted"] = True  # an earlier attempt had got through: not posted again
    if r.status == "outstanding":
        out["next_attempt_at"] = _when(max(r.next_attempt_at, r.not_before))
        if flight := _in_flight(r):
            out["attempt_in_flight"] = flight
        if r.unsure:
            out["maybe_delivered"] = True  # looked up in the channel before it is sent again
    elif r.status == "expired" and r.unsure:
        out["maybe_delivered"] = True  # given up unconfirmed (email): see the mailbox before re-sending
    if r.parent_id:
        out["updates"] = r.parent_id
    if story := _story_of(r):
        out["story"] = story  # thread_by: a new alert in the thread of that alert's story, not an update of it
    return out


def _story_of(r: Any) -> str | None:
    """The first alert of the story (a rule's `thread_by`) whose thread this row, another group's first alert, is told
    in: its alert id, as `alerts list` names alerts; None for any other row."""
    data = r.payload or {}
    story = data.get("story_alert") or data.get("story_root")
    return story if r.kind == "alert" and isinstance(story, str) and story else None


# What happens next to an attempt that may have got through, by the channel's type (outside trial 15, L2: a Slack row
# said what email does). A type not here (console, a channel no longer configured) is told no more than "may have".
AFTER_MAYBE = {
    "slack": "looked for in the channel before sending again",
    "file": "looked for in the file before sending again",
    "email": "sent again with the same Message-ID (a mailbox cannot be looked in)",
    "webhook": "sent again with the same Idempotency-Key",
}


def channel_types(cfg: Any) -> dict[str, str]:
    """Routing name -> channel type, of the configured channels (a `slack:C…` name, subscribed from Slack, is
    Slack's without being configured)."""
    return {c.name: c.type for c in cfg.channels}


def channel_names_of(store: Any) -> dict[str, str]:
    """Routing channel -> Slack channel name, from the subscriptions made in Slack that the store's control log
    holds (alerts.control.channel_names)."""
    from watchfloor.alerts.control import ControlLog

    return ControlLog(store).channel_names()


def _delivery_cell(
    channel: str,
    r: Any,
    types: dict[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    short: Mapping[str, str] | None = None,
) -> str:
    kind = (types or {}).get(channel) or ("slack" if channel.startswith("slack:") else "")
    text = f"{shown_channel(channel, names or {})}: {r.status}"
    if r.kind != "alert":
        text += f" ({r.kind})"
    if story := _story_of(r):
        text += f" (new alert in the story of {(short or {}).get(story, story)})"
    if _found_posted(r):  # trial 33, L5: not a post of this attempt
        text += " (found already posted: an earlier attempt had got through; not posted again)"
    if r.status == "outstanding":
        flight = _in_flight(r)
        if flight == "sending":
            text += f", {counted(r.attempts, 'attempt')} and one being sent now"
        else:
            interrupted = " and one interrupted (its process stopped mid-send)" if flight else ""
            due = max(r.next_attempt_at, r.not_before)
            when = f"next {_when(due)}" if due > datetime.now(UTC).timestamp() else "due now"
            text += f", {counted(r.attempts, 'attempt')}{interrupted}, {when}"
        if r.unsure or flight == "interrupted":
            then = AFTER_MAYBE.get(kind)
            text += f"; may have got through: {then}" if then else "; may have got through"
    if r.status == "expired" and r.unsure:  # (a mailbox cannot be looked in: a person looks before re-sending)
        text += ", maybe delivered (not confirmed): look in the channel before re-sending"
    if r.status in ("outstanding", "expired") and r.detail:
        text += f" — {_clip(r.detail)}"
    if r.status == HELD and r.detail:  # held by the channel's throttle: until, or in, which summary
        text += f" — {_clip(r.detail)}"
    if r.status == "suppressed" and r.detail.startswith("silenced by "):  # which silence held it back
        text += f" ({r.detail.removeprefix('silenced by ')})"
    elif r.status == "suppressed" and r.detail:  # why else (old news: a subscription's max_age)
        text += f" — {_clip(r.detail)}"
    return text


def _undelivered(r: Any, told_in: Mapping[tuple[str, str], Any]) -> bool:
    """Outstanding or expired; a held alert while its throttle summary is not planned yet or not sent."""
    if r.status == HELD:
        summary = told_in.get((r.alert_id, r.channel))
        return summary is None or summary.status in ("outstanding", "expired")
    return r.status in ("outstanding", "expired")


def _clip(text: str, limit: int = 160) -> str:
    """`text` cut at a word before `limit` characters, with an ellipsis (a server's reply cut mid-word misleads)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


@dataclasses.dataclass
class _Withdrawals:
    """What withdrew which raising of an alert, folded over detections and retractions in log order (`add`).

    An alert id can be raised more than once: withdrawn or revised by a late report or a correction, then raised again
    by a later change of its group's history, whose reports are the earlier raising's again (ids are made of the rule,
    group and reports). That later raising is the same alert *reinstated*: it `reinstates` the raising before it, which
    reads "revised by B; reinstated since", and the alert it revises, which had revised the earlier one, reads "revised
    back into A, which it had revised" (outside trial 30, F2: "A (revised by B)" beside "B (revised by A)", a cycle)."""

    why: dict[str, str] = dataclasses.field(default_factory=dict)  # delivery key -> 'revised by …' / 'withdrawn: …'
    at: dict[str, int] = dataclasses.field(default_factory=dict)  # delivery key -> position of what withdrew it
    reinstates: dict[str, str] = dataclasses.field(default_factory=dict)  # a later raising's key -> the one before
    latest: dict[str, str] = dataclasses.field(default_factory=dict)  # alert id -> the key of its latest raising so far
    revised: dict[str, str] = dataclasses.field(default_factory=dict)  # delivery key -> the alert id it revises
    # alert id -> (position, delivery key) of each of its raisings folded, in log order: which raising an
    # acknowledgement took (the latest before it)
    raised: dict[str, list[tuple[int, str]]] = dataclasses.field(default_factory=dict)

    def add(self, position: int, kind: str, payload: Mapping[str, Any]) -> None:
        # Revisions and retractions name the alert id they withdraw: each withdraws the raising of that id that stood
        # when it came, the latest one before it in the log.
        if kind == EventType.RETRACTION.value:
            r = Retraction.model_validate(payload)
            self._gone(self.latest.get(r.alert_id, r.alert_id), f"withdrawn: {r.reason}", position)
            return
        d = Detection.model_validate(payload)
        key = detection_event_id(d)
        earlier = self.latest.get(d.id)
        again = earlier is not None and earlier != key
        if d.revises is not None and d.revises == d.id and earlier is not None:
            # A revision that kept the alert's id (the same reports, at another point): the alert stood and is
            # revised in place, not withdrawn and reinstated; it stays one raising for its acknowledgements.
            self._gone(earlier, "revised in place (the same reports, at another point in time)", position)
            self.revised[key] = d.revises
            self.latest[d.id] = key
            return
        if d.revises:
            gone = self.latest.get(d.revises, d.revises)
            back = again and self.revised.get(gone) == d.id
            why = f"revised back into {d.id}, which it had revised" if back else f"revised by {d.id}"
            self._gone(gone, why, position)
            self.revised[key] = d.revises
        if again:
            assert earlier is not None
            self.reinstates[key] = earlier
        self.latest[d.id] = key
        self.raised.setdefault(d.id, []).append((position, key))

    def _gone(self, key: str, why: str, position: int) -> None:
        self.why[key] = why
        self.at[key] = position

    def withdrawn(self) -> dict[str, str]:
        """Delivery key -> what withdrew it, and "; reinstated since" for a raising of an alert raised again since."""
        since = set(self.reinstates.values())
        return {k: f"{w}; reinstated since" if k in since else w for k, w in self.why.items()}


def _read_alerts(st: Any) -> tuple[list[tuple[str, Detection]], dict[str, str]]:
    """Every detection in the log with its delivery key, in log order, and what withdrew which of them (delivery
    key -> 'revised by …' or 'withdrawn: …', '; reinstated since' when its alert was raised again: _Withdrawals)."""
    dets: list[tuple[str, Detection]] = []
    fold = _Withdrawals()
    position = 0
    types = {EventType.DETECTION.value, EventType.RETRACTION.value}
    while got := st.read(position, types=types, limit=5000):
        for se in got:
            fold.add(se.position, se.event.type, se.event.payload)
            if se.event.type == EventType.DETECTION.value:
                d = Detection.model_validate(se.event.payload)
                dets.append((detection_event_id(d), d))
        position = got[-1].position
    return dets, fold.withdrawn()


def _key_of(given: str) -> str:
    """The delivery key a reader may have copied: itself, or out of an email's Message-ID (`<KEY@watchfloor>`, its
    unsafe bytes written =XX: email.message_id)."""
    import re

    m = re.fullmatch(r"\s*<?([^<>@\s]+)@watchfloor>?\s*", given)
    if m is None:
        return given.strip()
    left = m.group(1)
    try:
        return re.sub(rb"=([0-9A-F]{2})", lambda h: bytes([int(h.group(1), 16)]), left.encode()).decode()
    except UnicodeDecodeError:
        return left


def _selected(
    given: list[str], dets: list[tuple[str, Detection]], every: list[Any]
) -> tuple[set[str], set[str], list[str]]:
    """(detection keys, digest keys, ids not found) of the ids given to `alerts list`: an alert id (every raising of
    it), a delivery key of a detection (a revision's, a follow-up's), of a withdrawal (its alert's row is listed), of
    a digest, or an email Message-ID of any of them: whatever a reader saw in Slack (the metadata's key) or in mail
    (the footer, the Message-ID) finds its row."""
    by: dict[str, set[str]] = {}
    for key, d in dets:
        by.setdefault(d.id, set()).add(key)
        by.setdefault(key, set()).add(key)
    for r in every:
        if r.kind == "retraction" and r.parent_id:  # a withdrawal's key -> the withdrawn alert's rows
            by.setdefault(r.alert_id, set()).add(r.parent_id)
    digests = {r.alert_id for r in every if r.kind == "digest"}
    keys: set[str] = set()
    chosen_digests: set[str] = set()
    unknown: list[str] = []
    for one in dict.fromkeys(given):
        key = _key_of(one)
        if key in by:
            keys |= by[key]
        elif key in digests:
            chosen_digests.add(key)
        else:
            unknown.append(one)
    return keys, chosen_digests, unknown


DEFAULT_LIMIT = 50  # `alerts list` without --limit/--all: the newest alerts, a screenful or two
_PAGE = 500  # detections read back per page from the head


@dataclasses.dataclass
class _Listed:
    """What `alerts list` shows: the newest matching alerts (position, delivery key, detection), newest first, and
    how many match in all; the ledger rows they need, and what withdrew which of them."""

    dets: list[tuple[int, str, Detection]]
    total: int
    every: list[Any] = dataclasses.field(default_factory=list)
    withdrawn: dict[str, str] = dataclasses.field(default_factory=dict)
    named_digests: set[str] | None = None  # the digests given by id (None: no ids were given)
    fold: _Withdrawals = dataclasses.field(default_factory=_Withdrawals)  # (`withdrawn` is its .withdrawn())


def _raised(se: Any) -> tuple[int, str, Detection]:
    d = Detection.model_validate(se.event.payload)
    return se.position, detection_event_id(d), d


def _since(text: str | None) -> datetime | None:
    """--since: a duration back from now (2h, 7d) or a time with its UTC offset."""
    if text is None:
        return None
    from watchfloor.schemas.inputs import InputError, parse_timestamp
    from watchfloor.schemas.rules import parse_duration

    try:
        return datetime.now(UTC) - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_timestamp(text, "since")
    except InputError:
        raise fail(
            f"--since {text!r}: give a duration (90m, 2h, 7d) or a time with its offset (2026-12-02T10:00Z)"
        ) from None


# How far out of commit order raise times may be: under Kafka, notify stamps a detection with its correlate record's
# time, and two partitions' records (two workers' clocks) reach the store in the order they arrive.
SINCE_SKEW = timedelta(minutes=10)


def _raised_since(se: Any, since: datetime | None) -> bool:
    """Raised (recorded in the store: received_at, else fired at for events written before it was kept) at or after
    `since`."""
    return since is None or (se.event.received_at or se.event.time) >= since


def _newest(st: Any, rule: str | None, since: datetime | None, limit: int | None) -> tuple[list[Any], int]:
    """The newest `limit` detections (of `rule`, raised since `since`), read back from the head a page at a time,
    and how many match in all: counted by the store, or, with --since, while reading back to it (the log is in
    commit order, so received_at falls going back, give or take SINCE_SKEW: the first one before that much before
    `since` ends the read)."""
    found: list[Any] = []
    matched = 0
    before: int | None = None
    while page := st.read_latest(before, types={EventType.DETECTION.value}, key=rule, limit=_PAGE):
        done = False
        for se in page:
            if not _raised_since(se, since):
                assert since is not None
                at = se.event.received_at
                done = at is not None and at < since - SINCE_SKEW
                if done:
                    break
                continue
            if rule is not None and se.event.payload.get("rule") != rule:
                continue
            matched += 1
            if limit is None or len(found) < limit:
                found.append(se)
        before = page[-1].position
        if done or (since is None and limit is not None and len(found) >= limit):
            break
    total = matched if since is not None else st.count(types={EventType.DETECTION.value}, key=rule)
    return [_raised(se) for se in found], max(total, len(found))


PREFIX_MIN = 8  # the fewest first characters of an alert id taken for it, as git takes a commit's
_PREFIX_LISTED = 50  # alerts a prefix is looked up against at most: enough to say how many share it
# What an alert id looks like, said when an id given finds nothing (outside trial 81, F2: "no alert" alone left a desk
# guessing whether it had copied too little, too much, or the wrong thing).
ID_FORM = f"an alert id is 20 hex characters, e.g. 3f9a0c1e77aa5b2d9e10, or its first {PREFIX_MIN} or more"


def _by_prefix(st: Any, key: str) -> str | None:
    """The alert id that `key`, the first PREFIX_MIN or more characters of one, names (hex in either case, as a
    reader may copy it); None when no alert id starts with it. Fails, naming a few, when more than one does."""
    if len(key) < PREFIX_MIN or re.fullmatch(r"[0-9A-Fa-f]+", key) is None:
        return None
    prefix = key.lower()
    found = st.alert_ids_starting(prefix, limit=_PREFIX_LISTED)
    if len(found) > 1:
        many = f"{len(found)} or more" if len(found) >= _PREFIX_LISTED else str(len(found))
        shown = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
        raise fail(f"ambiguous: {many} alerts start with {prefix} ({shown}): give more of the id")
    return found[0] if found else None


def _lookup(st: Any, given: list[str]) -> tuple[list[Any], set[str], list[str]]:
    """`_selected` by look-ups: (the detections named, digest keys, ids not found). An alert id finds every raising
    of it (the store's index of detections by alert id), a detection's delivery key its event (the id index), a
    withdrawal's key the withdrawn alert's row, a digest's key the digest; an email Message-ID is read as its key; the
    first PREFIX_MIN or more characters of an alert id that no other alert id starts with, that alert (`_by_prefix`)."""
    from watchfloor.alerts.notice import DIGEST_KIND

    found: dict[int, Any] = {}
    digests: set[str] = set()
    unknown: list[str] = []
    for one in dict.fromkeys(given):
        key = _key_of(one)
        raisings = st.detections_of([key])
        raisings += [se for se in st.read_ids([key]) if se.event.type == EventType.DETECTION.value]
        rows = [] if raisings else st.deliveries(alert_ids={key})
        if not raisings and not rows and (whole := _by_prefix(st, key)) is not None:
            raisings = st.detections_of([whole])  # (an id's first characters: every raising of that alert)
        parents = {r.parent_id for r in rows if r.kind == "retraction" and r.parent_id}
        if parents:
            raisings = [se for se in st.read_ids(parents) if se.event.type == EventType.DETECTION.value]
        if raisings:
            found.update((se.position, se) for se in raisings)
        elif any(r.kind == DIGEST_KIND for r in rows):
            digests.add(key)
        else:
            unknown.append(one)
    return [_raised(found[p]) for p in sorted(found, reverse=True)], digests, unknown


def _earliest_raising(st: Any, dets: list[Any]) -> int | None:
    """The log position of the earliest raising of the alerts of `dets` raised by a change of their group's history
    (revision > 0: an alert raised again, reinstated, has such a raising) and of those they revise, when it is before
    every one of `dets` (the store's index of detections by alert id); None when there is none."""
    ids = {d.id for _, _, d in dets if d.revision} | {d.revises for _, _, d in dets if d.revises}
    first = min((se.position for se in st.detections_of(ids)), default=None) if ids else None
    return first if first is not None and first < min(p for p, _, _ in dets) else None


def _withdrawn_of(st: Any, dets: list[Any], whole: bool = False) -> tuple[_Withdrawals, set[str]]:
    """What withdrew which of `dets` (_Withdrawals, by delivery key, with their raisings), and the retractions' event
    ids (their ledger rows' key). Only what follows the earliest of them can, or an earlier raising of their alerts
    (and of those they revise: what withdrew one of those may be a reinstatement of theirs), so the log is read from
    there (`whole`: `dets` are every detection, none is earlier), and only events that name one of those ids are
    parsed (`_read_alerts` reads the whole log the same way)."""
    from watchfloor.schemas.events import retraction_event

    if not dets:
        return _Withdrawals(), set()
    ids = {d.id for _, _, d in dets} | {d.revises for _, _, d in dets if d.revises}
    earlier = None if whole else _earliest_raising(st, dets)
    start = min(p for p, _, _ in dets) - 1 if earlier is None else earlier - 1
    named: list[tuple[int, str, dict[str, Any]]] = []
    for kind, fields in ((EventType.DETECTION.value, ("id", "revises")), (EventType.RETRACTION.value, ("alert_id",))):
        position = start
        while page := st.read_payloads(position, types={kind}, limit=5000):
            for p, text in page:
                payload = orjson.loads(text)
                if any(payload.get(f) in ids for f in fields):
                    named.append((p, kind, payload))
            position = page[-1][0]
    fold = _Withdrawals()
    retractions: set[str] = set()
    for p, kind, payload in sorted(named, key=lambda n: n[0]):
        fold.add(p, kind, payload)
        if kind == EventType.RETRACTION.value and payload.get("alert_id") in ids:
            retractions.add(retraction_event(Retraction.model_validate(payload)).id)
    return fold, retractions


def _ledger_rows(st: Any, keys: set[str], digests: set[str] | None, after: int | None) -> list[Any]:
    """The ledger rows `alerts list` needs: the listed keys' (their withdrawals' among them), the throttle summaries
    that tell their held rows, and digests: those named (`digests`), else those of the stretch of log listed (seq past
    `after`; None: every digest)."""
    from watchfloor.alerts.notice import DIGEST_KIND
    from watchfloor.alerts.throttle import summary_thread

    if digests is None and after is None:  # every alert is listed (--all): the whole ledger, read once
        return list(st.deliveries())
    rows = {(r.alert_id, r.channel): r for r in st.deliveries(alert_ids=keys)} if keys else {}
    if digests is not None:
        extra = st.deliveries(alert_ids=digests) if digests else []
    else:
        extra = [r for r in st.deliveries(after_seq=after) if r.kind == DIGEST_KIND]
    held: dict[str, int] = {}
    for r in rows.values():
        if r.status == HELD:
            held[r.channel] = min(held.get(r.channel, r.seq), r.seq)
    for channel, seq in held.items():  # a summary's seq is the last position it tells: at or past its rows'
        extra += st.deliveries(channel=channel, thread_key=summary_thread(channel), after_seq=seq - 1)
    for r in extra:
        rows.setdefault((r.alert_id, r.channel), r)
    return sorted(rows.values(), key=lambda r: (r.seq, r.alert_id, r.channel))


def _listed(
    st: Any, ids: list[str] | None, rule: str | None, since: datetime | None, limit: int | None, undelivered: bool
) -> _Listed:
    """The alerts `alerts list` shows, read by index and from the head back: its cost is what it shows (and, with
    --undelivered, what is undelivered), not the store's size (trial 18, H1: 40 s and 38,000 lines at 9.6k alerts)."""
    from watchfloor.alerts.notice import DIGEST_KIND

    if ids:
        dets, chosen, unknown = _lookup(st, ids)
        if unknown:
            raise fail(
                f"no alert or delivery with the id {', '.join(unknown)} ({ID_FORM}; or a delivery key, or an "
                "email's <KEY@watchfloor>)"
            )
        if rule is not None:
            dets = [x for x in dets if x[2].rule == rule]
        got = _Listed(dets, len(dets), named_digests=chosen)
        digests: set[str] | None = chosen
        after: int | None = None
    elif undelivered:
        # What is undelivered is in the ledger's status index: those rows' alerts are the candidates.
        open_rows = st.deliveries(statuses=("outstanding", "expired", HELD))
        keys = {r.parent_id if r.kind == "retraction" and r.parent_id else r.alert_id for r in open_rows}
        events = [se for se in st.read_ids(keys) if se.event.type == EventType.DETECTION.value]
        events = [se for se in reversed(events) if _raised_since(se, since)]
        got = _Listed([x for x in map(_raised, events) if rule is None or x[2].rule == rule], 0)
        digests = {r.alert_id for r in open_rows if r.kind == DIGEST_KIND} if rule is None else set()
        after = None
    else:
        dets, total = _newest(st, rule, since, limit)
        got = _Listed(dets, total)
        digests = set() if rule is not None else None
        after = None if limit is None and since is None else (min(p for p, _, _ in dets) - 1 if dets else st.head())
    got.fold, retractions = _withdrawn_of(st, got.dets, whole=not ids and not undelivered and after is None)
    got.withdrawn = got.fold.withdrawn()
    got.every = _ledger_rows(st, {k for _, k, _ in got.dets} | retractions, digests, after)
    return got


@alerts_app.command("list")
def alerts_list(
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Only these: alert ids, delivery keys (a revision's, a withdrawal's, a digest's dig-…) or email "
            "Message-IDs (<KEY@watchfloor>), as a reader sees them in Slack or email."
        ),
    ] = None,
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    undelivered: Annotated[
        bool, typer.Option("--undelivered", help="Only alerts with a delivery outstanding or expired.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON lines instead of a table, in the order raised (the store's, oldest first), each with "
            "its fired_at; the table sorts by fired time.",
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            help=f"The N alerts raised last (default {DEFAULT_LIMIT}; says how many more there are), shown by fired "
            "time.",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every alert (on a big store: long, and slow to print).")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only alerts raised since then: a duration back from now (90m, 2h, 7d) or a time (2026-12-02T10:00Z)."
        ),
    ] = None,
    story: Annotated[
        str | None,
        typer.Option(
            "--story",
            metavar="ID",
            help="Only the alerts of this story (any alert of it, or the story's first alert, as `alerts ack --story` "
            "takes it): every group's of a `thread_by` story, in each channel told it.",
        ),
    ] = None,
) -> None:
    """Alerts raised so far, sorted by the "fired at" time shown, newest first (--json: in the order raised); the 50
    raised last unless --limit N or --all (after a backfill read newest first, those raised last fired first); the
    last line says how many more. From the store, with their delivery status per channel (from the delivery ledger:
    sent, outstanding with its attempts and next attempt, expired, suppressed, held by the channel's throttle and in
    which summary), and their withdrawal's, if any.
    Given ids, only those: an alert id, or any key a reader saw (a revision's or withdrawal's delivery key, Slack
    metadata's, an email's Message-ID) finds its alert."""
    from watchfloor.wiring import open_store  # the one store opener

    if show_all and limit is not None:
        raise fail("give --limit N or --all, not both")
    if limit is not None and limit < 1:
        raise fail(f"--limit {limit}: give 1 or more (--all lists every alert)")
    if story is not None and ids:
        raise fail("give alert ids or --story ID, not both")
    cap = None if show_all or ids or story else (limit or DEFAULT_LIMIT)  # (ids given: each of them)
    after_time = _since(since)
    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False, upgrade=False)  # a read: no new store, no migration
    try:
        if story is not None:
            ids = _story_ids(st, story)
        picked = _listed(st, ids, rule, after_time, cap, undelivered)
        withdrawn = picked.withdrawn
        # The ledger keys a detection's rows by its event id (detection_event_id), not by its alert id: a
        # revision or follow-up raised by a late report (revision > 0) has rows only under that key.
        # A channel paused by its Retry-After holds rows queued after it too (their own not_before is 0):
        # their next attempt is when the pause ends. So does a channel backing off after a failure (trial 46, MED-2):
        # shown as their backoff (next_attempt_at), not as the server's asking.
        now = datetime.now(UTC).timestamp()
        paused, backoffs = st.channel_pauses(now), st.channel_backoffs(now)

        def paused_shown(r: Any) -> Any:
            if r.status != "outstanding":
                return r
            if (until := paused.get(r.channel, 0.0)) > r.not_before:
                r = dataclasses.replace(r, not_before=until)
            if (until := backoffs.get(r.channel, 0.0)) > r.next_attempt_at:
                r = dataclasses.replace(r, next_attempt_at=until)
            return r

        every = picked.every
        # Slack channels subscribed from Slack are shown with their names (trial 29, F6): read only when one is here.
        names = channel_names_of(st) if any(r.channel.startswith("slack:") for r in every) else {}
        # A held alert is told in its channel's throttle summary: which one, and how that went.
        told_in = summaries_of_held(every)

        def shown(r: Any) -> Any:  # (and a held row says where it is told)
            r = paused_shown(r)
            summary = told_in.get((r.alert_id, r.channel))
            if summary is not None:
                return dataclasses.replace(r, detail=f"in throttle summary {summary.alert_id} ({summary.status})")
            return r

        dets = [(key, d) for _, key, d in picked.dets]  # newest first
        picked_at = {key: p for p, key, _ in picked.dets}
        known = {key for key, _ in dets}
        rows: dict[str, dict[str, Any]] = {}
        withdrawals: dict[str, dict[str, Any]] = {}  # the withdrawn alert's key -> channel -> the withdrawal's row
        for r in every:
            if r.alert_id in known:
                rows.setdefault(r.alert_id, {})[r.channel] = shown(r)
            elif r.kind == "retraction" and r.parent_id in known:
                withdrawals.setdefault(r.parent_id, {})[r.channel] = shown(r)
        digests = [] if rule is not None else [shown(r) for r in every if r.kind == "digest"]
        if picked.named_digests is not None:
            digests = [r for r in digests if r.alert_id in picked.named_digests]
        control = _acks(st)
        from watchfloor.alerts.story_acks import stories_of

        stories = stories_of(st, [r for per in rows.values() for r in per.values()])
        # The table's story column gives the story's first characters (outside trial 81, F1)
        narrow = not as_json and out.width < WIDE_TABLE
        short = {} if as_json else short_ids(st, set(stories.values()))
    finally:
        st.close()
    total = picked.total
    if undelivered:
        digests = [r for r in digests if r.status in ("outstanding", "expired")]
        dets = [
            (key, d)
            for key, d in dets
            if any(_undelivered(r, told_in) for r in [*rows.get(key, {}).values(), *withdrawals.get(key, {}).values()])
        ]
        total = len(dets)
        if cap is not None:
            dets = dets[:cap]
    more = total - len(dets)
    fold = picked.fold
    acks = _raising_acks(picked, control)
    # The table shows the alerts picked (the last raised) by when they fired, newest first: raised order is the order
    # detections reached the store, which after a backfill or under Kafka (partitions at their own pace) is neither
    # fired time nor the order the channels were told (outside trial 27, F4). --json keeps log order, as a stream
    # of lines read by scripts.
    if not as_json:
        dets = sorted(dets, key=lambda kd: kd[1].fired_at, reverse=True)  # (stable: ties in raised order)
    if as_json:
        if more > 0:
            err.print(_more_text(len(dets), total), highlight=False)
        dets = dets[::-1]
    if as_json:
        from watchfloor.stream_processors.replay import detection_to_json

        for key, d in dets:
            per = rows.get(key, {})
            line = {
                **detection_to_json(d),
                "delivery_key": key,  # what the ledger (and `alerts redeliver`) knows this detection by
                "deliveries": {ch: r.status for ch, r in per.items()},  # channel -> status, as before
                "delivery_details": {ch: _delivery_json(r) for ch, r in per.items()},
            }
            if key in stories:  # (a story of several groups: `alerts list --story` and `alerts ack --story` take it)
                line["story"] = stories[key]
            if key in withdrawals:  # its withdrawal's own deliveries, under the key its messages carry
                line["withdrawal"] = {
                    ch: {"delivery_key": r.alert_id, **_delivery_json(r)} for ch, r in withdrawals[key].items()
                }
            # A silenced alert says which silence held it back ("suppressed" rows carry "silenced by sil-...").
            line["silenced_by"] = {
                ch: r.detail.removeprefix("silenced by ")
                for ch, r in per.items()
                if r.status == "suppressed" and r.detail.startswith("silenced by ")
            }
            # (of this raising: an alert reinstated since is acknowledged anew; `while` what had withdrawn it when)
            line["acknowledged"] = [{**_ack_json(a), **({"while": why} if why else {})} for a, why in acks.get(key, ())]
            if key in withdrawn:
                line["standing"] = withdrawn[key]
            if key in fold.reinstates:  # the same alert raised again: the delivery key of its raising before
                line["reinstates"] = fold.reinstates[key]
            sys.stdout.write(json.dumps(line) + "\n")
        for r in digests:
            line = {
                "digest": r.alert_id,
                "deliveries": {r.channel: r.status},
                "delivery_details": {r.channel: _delivery_json(r)},
            }
            sys.stdout.write(json.dumps(line) + "\n")
        return
    types = channel_types(cfg)
    acked = any(acks.get(key) for key, _ in dets)  # the column only when there is something in it
    told = any(key in stories for key, _ in dets)  # the story column only when an alert listed is in one
    mixed = any(key in withdrawn for key, _ in dets)  # the standing column only when some alert listed does not stand
    table = _list_table(narrow, acked, told, mixed)
    # One row per alert: an alert raised again with its own id (reinstated) is the same alert, shown at its latest
    # raising listed, its earlier ones' deliveries and acknowledgements in that row (outside trial 30, F2: the id twice,
    # "A (revised by B)" and "B (revised by A)"). --json keeps a line per raising (its delivery key).
    by_id: dict[str, list[str]] = {}
    for key, d in sorted(dets, key=lambda kd: picked_at[kd[0]]):
        by_id.setdefault(d.id, []).append(key)
    folded = [(key, d) for key, d in dets if by_id[d.id][-1] == key]
    for key, d in folded:
        notes = [withdrawn[key]] if key in withdrawn else []
        if key in fold.reinstates:
            before = fold.why.get(fold.reinstates[key])
            notes.append(f"reinstated; {before} earlier" if before else "reinstated")
        title = d.title + (f" ({'; '.join(notes)})" if notes else "")
        earlier = by_id[d.id][-2::-1]  # its earlier raisings listed, newest first
        cells = []
        for k in [key, *earlier]:
            head = "" if k == key else "earlier: "
            cells += [head + _delivery_cell(ch, r, types, names, short) for ch, r in rows.get(k, {}).items()]
            # ("mail: sent (retraction)")
            cells += [head + _delivery_cell(ch, r, types, names) for ch, r in withdrawals.get(k, {}).items()]
        said = [_ack_cell(a) + (f" (after it was {_after(why)})" if why else "") for a, why in acks.get(key, ())]
        said += [
            f"{_ack_cell(a)} (of its earlier raising"
            + (f", made after it was {_after(why)}" if why else "")
            + ": not taken for it since it was reinstated)"
            for k in earlier
            for a, why in acks.get(k, ())
        ]
        story_of = next((stories[k] for k in [key, *earlier] if k in stories), None)
        # (an undated report's time marked, and a time taken at receipt for a report dated in the future)
        fired = fired_time_text(_utc(d.fired_at), fired_first_seen(d.evidence, d.fired_at), dated_ahead(d))
        standing = _standing_mark(withdrawn.get(key), key in fold.reinstates)
        # Titles, rule ids and delivery errors are text, not Rich markup (an "[Errno 28]" must show).
        if narrow:
            state = [standing] if mixed else []
            row = [
                escape(d.id),
                escape(f"{d.rule}\n{fired}\n{d.severity.upper()}: {title}"),
                escape("\n".join([*state, *(cells or ["—"]), *(f"acknowledged: {a}" for a in said)])),
            ]
        else:
            row = [escape(d.id), fired, escape(d.rule), d.severity, escape(title), escape("\n".join(cells) or "—")]
            if acked:
                row.append(escape("\n".join(said) or "—"))
            if mixed:
                row.append(standing)
        if told:
            row.insert(1, escape(short.get(story_of, story_of)) if story_of else "—")
        table.add_row(*row)
    out.print(table)
    # Where the delivery key is (outside trial 80: the table had none): what the ledger, Slack's metadata and an
    # email's Message-ID know a raising by; an alert's first raising's is its id, a revision's its own.
    own_keys = sum(1 for key, d in dets if key != d.id)
    if own_keys:
        are = "has" if own_keys == 1 else "have"
        out.print(
            f"{counted(own_keys, 'raising')} listed {are} a delivery key of {'its' if own_keys == 1 else 'their'} own "
            "(a revision's): `watchfloor alerts list --json` gives each raising's delivery_key (the others': the "
            "alert id)",
            highlight=False,
        )
    elif dets:
        out.print("delivery keys: each alert's is its id (`alerts list --json`: delivery_key)", highlight=False)
    if digests:
        listed = Table()
        listed.add_column("digest", **ID_COLUMN)  # typed next: alerts redeliver dig-…
        for col in ("slot", "delivery"):
            listed.add_column(col)
        for r in digests:
            slot = str(((r.payload or {}).get("digest") or {}).get("slot", ""))
            listed.add_row(escape(r.alert_id), escape(slot), escape(_delivery_cell(r.channel, r, types, names)))
        out.print(listed)
    counts: dict[str, int] = {}
    every = [r for per in [*rows.values(), *withdrawals.values()] for r in per.values()]
    for r in [
        *every,
        *digests,
    ]:  # a digest is a delivery too: "deliveries: none" under a digest sent read as nothing sent
        counts[r.status] = counts.get(r.status, 0) + 1
    found = sum(1 for r in [*every, *digests] if _found_posted(r))
    summary = ", ".join(
        f"{n} {s} ({found} of them found already posted, not posted again)" if s == "sent" and found else f"{n} {s}"
        for s, n in sorted(counts.items())
    )
    # (a throttle summary is a row of kind digest too: counted apart, as the run's cycle line does)
    summaries = sum(1 for r in digests if r.alert_id.startswith(SUMMARY_PREFIX))
    digested = "".join(
        f" · {text}"
        for n, text in (
            (len(digests) - summaries, counted(len(digests) - summaries, "digest")),
            (summaries, counted(summaries, "throttle summary", "throttle summaries")),
        )
        if n
    )
    alerts = f"{len(folded)} alert" if len(folded) == 1 else f"{len(folded)} alerts"
    if len(folded) < len(dets):
        alerts += f" ({len(dets)} raisings: an alert reinstated is one row)"
    # Which stand: a run's "N alerts" and a backtest's count those; the rows a revision or a withdrawal replaced are
    # listed too (trial 34, M1: "18 alerts" where the desk had 7, each revision of one alert a row).
    gone = Counter(
        "revised by a later one" if withdrawn[key].startswith("revised") else "withdrawn"
        for key, _ in folded
        if key in withdrawn
    )
    if gone:
        replaced = "; ".join(f"{n} {why}" for why, n in sorted(gone.items()))
        alerts += f", {len(folded) - sum(gone.values())} standing ({replaced})"
    if more > 0:  # (the deliveries counted are those of the alerts shown; counts are of raisings, as the store's)
        alerts = _more_text(len(dets), total)
    out.print(f"{alerts}{digested} · deliveries: {summary or 'none'}", highlight=False)


WIDE_TABLE = 120  # a terminal narrower than this gets `alerts list`'s narrow table (three or four columns)


def _list_table(narrow: bool, acked: bool, told: bool, mixed: bool) -> Table:
    """`alerts list`'s table. The alert id whole (what `alerts redeliver` takes: it stands for every raising of the
    alert; the delivery key of one raising is in --json). Wide: when it fired (UTC: detections stored before the engine
    wrote fired_at in UTC keep the offset of the report that fired them), rule, severity, title, deliveries, who
    acknowledged it. Narrow (outside trial 81, F1: at 80 columns every column was cut to "hi…" and the story lost): the
    rule, when and the severity and title together, and its deliveries and acknowledgements together. Both: the story's
    first alert's id, its first characters (what `alerts list --story` and `alerts ack --story` take), when an alert
    listed is in a story of several groups (`told`: `thread_by`); whether each stands, when some do not (`mixed`)."""
    # (narrow: the table takes the terminal's width, shared 3:2 by the alert and its deliveries; a line between rows)
    table = Table(expand=True, show_lines=True) if narrow else Table()
    table.add_column("id", **ID_COLUMN)
    if told:  # (after the id: typed next, `alerts list --story ID`, `alerts ack --story ID`)
        table.add_column("story", **ID_COLUMN)
    if narrow:
        table.add_column("alert", ratio=3, overflow="fold")
        table.add_column("standing · deliveries" if mixed else "deliveries", ratio=2, overflow="fold")
        return table
    table.add_column("fired at")
    table.add_column("rule", **ID_COLUMN)  # typed next (--rule, silences add, subscriptions add)
    for col in ("severity", "title", "deliveries"):
        table.add_column(col)
    if acked:
        table.add_column("acknowledged")
    if mixed:  # (last: the columns before keep their places)
        table.add_column("standing")
    return table


def _standing_mark(why: str | None, reinstated: bool) -> str:
    """Whether the alert stands: "yes" (raised, and not revised by another alert or withdrawn since; "yes, reinstated":
    raised again with its own id), else "revised" or "withdrawn" (the title says by what)."""
    if why is None:
        return "yes, reinstated" if reinstated else "yes"
    if why.startswith("revised in place"):
        return "yes, revised in place"
    return "withdrawn" if why.startswith("withdrawn") else "revised"


def short_ids(st: Any, ids: Collection[str]) -> dict[str, str]:
    """Alert id -> its first PREFIX_MIN characters, or as many more as make it the only alert id of the store that
    starts with them (what `alerts ack` and `alerts list` take for it); an id that is not hex stays whole."""
    got: dict[str, str] = {}
    for one in ids:
        k = PREFIX_MIN
        if re.fullmatch(r"[0-9a-f]+", one) is None:
            got[one] = one
            continue
        while k < len(one) and len(st.alert_ids_starting(one[:k], limit=2)) > 1:
            k += 1
        got[one] = one[:k]
    return got


def _more_text(shown: int, total: int) -> str:
    """'50 alerts, the last raised of 9,592 (9,542 more: --limit N or --all)': those picked are the alerts raised
    last (the store's newest), which after a newest-first backfill are not those that fired last (trial 45, LOW-2)."""
    return (
        f"{shown} alert{'' if shown == 1 else 's'}, the last raised of {total:,} "
        f"({total - shown:,} more: --limit N or --all; --since narrows)"
    )


# --- alerts ack -------------------------------------------------------------------------------------------


def _acks(st: Any) -> Any:
    """The control state, with every acknowledgement (Slack's button, `alerts ack`) and its position, read from the
    log without writing to it."""
    from watchfloor.alerts.control import ControlLog

    return ControlLog(st).refresh()


def _raising_acks(picked: _Listed, control: Any) -> dict[str, list[tuple[Any, str | None]]]:
    """Delivery key of each raising listed -> its acknowledgements: those recorded after it and before its alert's next
    raising (as ControlLog.acknowledgements counts them: a reinstated alert is acknowledged anew), each with what had
    withdrawn that raising when it was made (None: it stood; else it took an alert no message showed as standing)."""
    out: dict[str, list[tuple[Any, str | None]]] = {}
    for p, key, d in picked.dets:
        later = [q for q, _ in picked.fold.raised.get(d.id, ()) if q > p]
        first = not any(q < p for q, _ in picked.fold.raised.get(d.id, ()))
        gone = picked.fold.at.get(key)
        out[key] = [
            (a, picked.fold.why.get(key) if gone is not None and gone < q else None)
            for q, a in control.acks_at(d.id)
            if (q > p or first) and (not later or q < later[0])
        ]
    return out


def _after(why: str) -> str:
    """'revised by B…' -> itself; 'withdrawn: why' -> 'withdrawn' (the row's title says why)."""
    return "withdrawn" if why.startswith("withdrawn") else why


def _ack_json(a: Any) -> dict[str, Any]:
    # `by` the name alone, as --by gave it (trial 29, F7: "kim (via cli)" repeated `via` inside the name); `user` the
    # Slack user id when the name is a display name
    by = a.by.name or a.by.user or a.by.label()
    row: dict[str, Any] = {"by": by, "via": a.by.via, "at": a.at.astimezone(UTC).isoformat()}
    if a.by.user and a.by.user != by:
        row["user"] = a.by.user
    if a.channel or a.slack_channel:
        row["channel"] = a.channel or f"slack:{a.slack_channel}"
    if a.note:
        row["note"] = a.note
    return row


def _ack_cell(a: Any) -> str:
    where = f" in {a.channel or 'slack:' + str(a.slack_channel)}" if a.channel or a.slack_channel else ""
    return f"{a.by.label()}{where} at {a.at.astimezone(UTC):%Y-%m-%d %H:%M UTC}" + (f": {a.note}" if a.note else "")


@alerts_app.command("ack")
def alerts_ack(
    ids: Annotated[
        list[str],
        typer.Argument(help="Alert ids, or any id `alerts list` takes (a delivery key, an email's <KEY@watchfloor>)."),
    ],
    story: Annotated[
        bool,
        typer.Option(
            "--story",
            help="Each id names a story (any alert of it, or the story's first alert, as `alerts list` shows it: "
            "`(new alert in the story of ID)`): acknowledge every alert of it that stands in each channel told it, "
            "every group's of a `thread_by` story, as the Acknowledge button on a thread's first message does.",
        ),
    ] = False,
    by: Annotated[str | None, typer.Option("--by", "--author", "-a", help="Who acknowledges (default: $USER).")] = None,
    note: Annotated[str, typer.Option("--note", "-m", help="What you are doing about it (shown with the ack).")] = "",
    channel: Annotated[
        str | None,
        typer.Option(
            help="The channel you read it in (default: none; one ack per alert and channel; "
            "with --story: each channel told the story).",
        ),
    ] = None,
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
) -> None:
    """Acknowledge alerts, as the Slack Acknowledge button does (the same `alert.acknowledged` event): for desks
    that read alerts by email, webhook or console. `alerts list` and the status page show who and when. `--story`
    takes a whole story at once."""
    from watchfloor.alerts.control import ControlError, ControlLog
    from watchfloor.alerts.notice import REPLACEABLE
    from watchfloor.wiring import open_store  # the one store opener

    from .control import _actor

    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False)  # nothing to acknowledge in a store that does not exist
    try:
        if channel is not None:  # a typo would record an ack for a channel nobody reads
            check_channel_name(cfg, channel, also={ch for ch, _ in st.delivery_stats()})
        alert_ids: dict[str, set[str]] = {}  # in the order given, each once (an alert raised twice has one id) -> keys
        for one in dict.fromkeys(ids):  # each id on its own (found by the store's indexes, as `alerts list ID`)
            found, digests, unknown = _lookup(st, [one])
            if unknown:
                raise fail(
                    f"no alert with the id {one} ({ID_FORM}; or a delivery key, or an email's <KEY@watchfloor>: "
                    "see `watchfloor alerts list`)"
                )
            if digests:
                raise fail(f"{one} is a digest, not an alert: acknowledge the alerts it lists")
            for _, key, d in reversed(found):
                alert_ids.setdefault(d.id, set()).add(key)
        control = ControlLog(st)
        actor = _actor(by)
        types = channel_types(cfg)
        if story:
            try:
                _ack_stories(st, control, alert_ids, actor=actor, channel=channel, note=note, types=types)
            except ControlError as e:
                raise fail(str(e)) from None
            return
        for alert_id, keys in alert_ids.items():
            try:
                ack, new = control.acknowledge(alert_id, by=actor, channel=channel, note=note)
            except ControlError as e:
                raise fail(str(e)) from None
            said = "acknowledged" if new else "already acknowledged:"
            line = f"{said} {escape(alert_id)} by {escape(_ack_cell(ack))}"
            if new and channel is not None:
                line += _shown_before(control, alert_id, channel)
            if new:  # the dispatcher rewrites its Slack messages to show it (alerts.delivery, ACK_KIND rows)
                slack_channels = sorted(
                    {
                        r.channel
                        for r in st.deliveries(alert_ids=keys)
                        if r.kind in REPLACEABLE
                        and r.status in ("sent", "outstanding")
                        and (types.get(r.channel) or ("slack" if r.channel.startswith("slack:") else "")) == "slack"
                    }
                )
                posted = any(r.status == "sent" for r in st.deliveries(alert_ids=keys))
                gone = _not_standing(st, alert_id)
                if gone is not None:
                    # (outside trial 30, F2: taken while a revision stood in its place, then carried onto the alert
                    # when a later change raised it again, shown to the desk for the first time)
                    never = "" if posted else " and was never posted to a channel"
                    line += (
                        f"; [yellow]note[/yellow]: it does not stand now ({escape(gone)}){never}: this acknowledges it "
                        "as it was raised, and should a later change raise it again (reinstated), that is acknowledged "
                        f"anew (`watchfloor alerts list {escape(alert_id)}` says what stands in its place)"
                    )
                elif slack_channels:
                    where = escape(", ".join(slack_channels))
                    line += f"; its message in {where} shows it after the dispatcher's next cycle"
                elif not posted:
                    # (outside trial 30, F2: an alert a revision replaced before it was sent was taken silently,
                    # while the alert the desk sees stayed unacknowledged)
                    line += (
                        f"; [yellow]note[/yellow]: it was never posted to a channel (`watchfloor alerts list "
                        f"{escape(alert_id)}` says what went in its place, if anything)"
                    )
            out.print(line, highlight=False)
    finally:
        st.close()


def _ack_stories(
    st: Any,
    control: Any,
    alert_ids: Mapping[str, set[str]],
    *,
    actor: Any,
    channel: str | None,
    note: str,
    types: Mapping[str, str],
) -> None:
    """`alerts ack --story`: of each alert named, the story it is in, in each channel that was told it (`channel`:
    that one only): every alert that stands there, each acknowledged in that channel as the Acknowledge button on the
    story's first message records it (alerts.story_acks, shared with it), every group's of a `thread_by` story (outside
    trial 74, F6: a desk reading by email had no way to take a story of several groups in one step)."""
    from watchfloor.alerts.notice import REPLACEABLE, alert_of
    from watchfloor.alerts.story_acks import ChannelStory, acknowledge_each, channel_story

    stories: dict[tuple[str, str], tuple[ChannelStory, list[str]]] = {}  # (channel, first row) -> story, ids named
    for alert_id, keys in alert_ids.items():
        rows = [r for r in st.deliveries(alert_ids=keys) if r.kind in REPLACEABLE]
        told = sorted({r.channel for r in rows})
        here = [r for r in rows if channel is None or r.channel == channel]
        if not here:
            if told:
                raise fail(
                    f"alert {alert_id} has no message in {channel}: its story was told in {', '.join(told)} "
                    "(--channel names one of them, or leave it out for every one)"
                )
            raise fail(
                f"alert {alert_id} was told in no channel (held back, silenced, or routed nowhere): it has no story to "
                f"acknowledge; `watchfloor alerts ack {alert_id}` acknowledges the alert itself"
            )
        for r in here:
            found = channel_story(st.deliveries(channel=r.channel, thread_key=r.thread_key), r.alert_id)
            if found is not None:
                stories.setdefault((found.channel, found.first.alert_id), (found, []))[1].append(alert_id)
    for found, named in stories.values():
        first = alert_of(found.first.payload)
        label = str((found.first.payload or {}).get("group_label") or "")
        what = f"the story of alert {escape(first.id if first is not None else found.first.alert_id)}"
        what += f" ({escape(label)})" if label else ""
        groups = len(found.threads)
        of = f"{groups} groups' alerts, " if groups > 1 else ""
        standing = found.standing
        if not standing:
            out.print(
                f"{what} in {escape(found.channel)}: no alert of it stands there now (withdrawn): "
                "nothing to acknowledge",
                highlight=False,
            )
            continue
        out.print(
            f"{what} in {escape(found.channel)} (named by {escape(', '.join(dict.fromkeys(named)))}): "
            f"{of}{counted(len(standing), 'alert')} standing",
            highlight=False,
        )
        acks = acknowledge_each(control, [a.id for a in standing], by=actor, channel=found.channel, note=note)
        for alert, (ack, new) in zip(standing, acks, strict=True):
            said = "acknowledged" if new else "already acknowledged:"
            state = alert.detection.severity.upper() + (
                " unconfirmed" if alert.detection.confidence == "unconfirmed" else ""
            )
            before = _shown_before(control, alert.id, found.channel) if new else ""
            out.print(f"  {said} {escape(alert.id)} ({state}) by {escape(_ack_cell(ack))}{before}", highlight=False)
        slack = (types.get(found.channel) or ("slack" if found.channel.startswith("slack:") else "")) == "slack"
        if slack and any(new for _, new in acks):  # (the dispatcher rewrites them: alerts.delivery, ACK_KIND rows)
            out.print(f"  its messages in {escape(found.channel)} show it after the dispatcher's next cycle")


def _shown_before(control: Any, alert_id: str, channel: str) -> str:
    """For an acknowledgement just recorded in `channel`: those of the alert in other channels, which its messages
    there showed already (a click shows on every message of the alert: docs/slack.md "Acknowledged elsewhere"), said,
    so the answer does not read as if no one had taken it (outside trial 81, F8); "" when there are none."""
    others = [a for a in control.acknowledgements(alert_id) if a.channel is not None and a.channel != channel]
    if not others:
        return ""
    first = others[0]
    return (
        f" (its messages already showed {escape(_ack_cell(first))} in {escape(str(first.channel))}: recorded for "
        f"{escape(channel)} too)"
    )


def _story_ids(st: Any, one: str) -> list[str]:
    """`alerts list --story ID`: the alert ids of the story `one` names (any id `alerts list` takes of any alert of
    it), every group's of a `thread_by` story, in each channel told it (outside trial 79, F1: a desk found a story's
    follow-ups only by reading Slack)."""
    from watchfloor.alerts.notice import REPLACEABLE
    from watchfloor.alerts.story_acks import channel_story, story_alert_ids

    found, digests, unknown = _lookup(st, [one])
    if unknown:
        raise fail(
            f"--story {one}: no alert with that id ({ID_FORM}; or a delivery key, or an email's <KEY@watchfloor>)"
        )
    if digests:
        raise fail(f"--story {one}: a digest, not an alert")
    keys = {key for _, key, _ in found}
    ids: dict[str, None] = {}
    for r in st.deliveries(alert_ids=keys):
        if r.kind not in REPLACEABLE:
            continue
        rows = st.deliveries(channel=r.channel, thread_key=r.thread_key)
        told = channel_story(rows, r.alert_id)
        if told is not None:
            ids.update(dict.fromkeys(story_alert_ids(rows, told)))
    if not ids:
        raise fail(
            f"--story {one}: the alert was told in no channel (held back, silenced, or routed nowhere): it has no "
            f"story; `watchfloor alerts list {one}` shows it"
        )
    return list(ids)


def _not_standing(st: Any, alert_id: str) -> str | None:
    """What withdrew the alert's latest raising ('revised by …', 'withdrawn: …'); None while it stands."""
    raised, _, _ = _lookup(st, [alert_id])
    if not raised:
        return None
    fold, _ = _withdrawn_of(st, raised)
    latest = max(raised, key=lambda x: x[0])[1]
    return fold.why.get(latest)


# --- alerts redeliver -------------------------------------------------------------------------------------


def _delivery_keys(st: Any, given: list[str]) -> set[str]:
    """The ledger keys of the given ids: an alert id stands for the rows of every raising of that alert (a
    revision's are under its own key); a delivery key (a revision's, a retraction's, a digest's `dig-…`) for its
    own. An id that is neither ends the command before anything changes: a typo must not look like "nothing to
    send"."""
    keys: set[str] = set()
    unknown: list[str] = []
    for one in dict.fromkeys(given):
        # Every raising of an alert id (the store's index of detections by alert id), or a detection's own key.
        raisings = st.detections_of([one]) + [
            se for se in st.read_ids([one]) if se.event.type == EventType.DETECTION.value
        ]
        if raisings:
            keys |= {detection_event_id(Detection.model_validate(se.event.payload)) for se in raisings}
        elif st.deliveries(alert_ids={one}, limit=1):  # a key with rows but no detection: retraction, digest
            keys.add(one)
        elif (whole := _by_prefix(st, one)) is not None:  # an alert id's first characters
            raised = st.detections_of([whole])
            keys |= {detection_event_id(Detection.model_validate(se.event.payload)) for se in raised}
        else:
            unknown.append(one)
    if unknown:
        raise fail(
            f"no alert or delivery with the id {', '.join(unknown)} ({ID_FORM}; or a delivery key: see "
            "`watchfloor alerts list --json`)"
        )
    return keys


@alerts_app.command("redeliver")
def alerts_redeliver(
    alert_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Alert ids or delivery keys (`alerts list --json`: id, delivery_key; digests: dig-…)."),
    ] = None,
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only deliveries to this channel.")] = None,
    all_expired: Annotated[bool, typer.Option("--all-expired", help="Every expired delivery.")] = False,
    send: Annotated[
        bool, typer.Option("--send/--no-send", help="Deliver them now (else the next run/notify cycle does).")
    ] = False,
    route: Annotated[
        bool,
        typer.Option(
            "--route",
            help="Route named alerts that have no delivery (raised when no subscription routed them) through "
            "today's subscriptions.",
        ),
    ] = False,
    include_unconfirmed: Annotated[
        bool,
        typer.Option(
            "--include-unconfirmed",
            help="Also re-send deliveries given up unconfirmed (maybe delivered: an email whose server never "
            "answered); without it only `ALERT_ID --channel NAME` re-sends one.",
        ),
    ] = False,
) -> None:
    """Send given-up (expired) deliveries again — by alert id, by channel, or all of them — with a fresh
    maximum age. Named alerts' outstanding deliveries are also made due at once. Subscriptions route the alerts
    raised after they are added; `--route` sends named earlier ones through today's subscriptions. A delivery
    given up unconfirmed (it may be in the mailbox) is left out and named, unless named by alert id and --channel
    (after looking in the channel) or --include-unconfirmed: a bulk re-send must not mail it twice."""
    from watchfloor.wiring import open_store  # the one store opener

    if not alert_ids and channel is None and not all_expired:
        raise fail("say which: alert ids, --channel NAME, or --all-expired")
    if route and not alert_ids:
        raise fail("--route takes the alert ids to route (`watchfloor alerts list --json`: id)")
    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False)
    try:
        now = datetime.now(UTC).timestamp()
        if channel is not None:  # a typo must not read "0 deliveries will be sent again" and exit 0
            known = {name for name, _ in st.delivery_stats()} | set(st.channel_pauses(now))
            check_channel_name(cfg, channel, also=known)
        keys = _delivery_keys(st, alert_ids) if alert_ids else None
        # What --send sends with is built before the ledger is changed: a notifier that cannot be built (its secret's
        # variable unset) fails the command with the rows as they were, not re-queued behind an error (trial 36,
        # LOW-2: "1 delivery will be sent again", then "error: … not set", exit 1, and the row was outstanding).
        sender = _dispatcher(cfg, st) if send else None
        first = _route_unrouted(cfg, st, keys, channel, sender) if route and keys is not None else set()
        statuses = ("expired", "outstanding") if alert_ids else ("expired",)
        # Maybe delivered (outside trial 12, M4: --all-expired re-sent them without a word, and the "look first"
        # mark was gone): only one named by alert and channel, the command its detail gives, or when asked.
        skip = not include_unconfirmed and not (alert_ids and channel is not None)
        held = _unconfirmed(st, now, keys, channel) if skip else []
        # Rows never attempted (queued by an earlier --route, or waiting their turn) are not "sent again" (outside
        # trial 12, L4): counted apart from those sent or tried before.
        unsent = {
            (r.alert_id, r.channel)
            for r in st.deliveries(alert_ids=keys, channel=channel, statuses={"outstanding"})
            if "outstanding" in statuses and r.attempts == 0 and (r.lease_until is None or r.lease_until <= now)
        } - first
        # Rows an earlier attempt may have got through with are looked for in the channel before anything is sent,
        # and not posted again when found (trial 33, L5: "1 delivery will be sent again" of a post then found).
        looked = (
            {
                (r.alert_id, r.channel)
                for r in st.deliveries(alert_ids=keys, channel=channel, statuses=set(statuses))
                if r.unsure and not (skip and r.status == "expired") and (r.lease_until is None or r.lease_until <= now)
            }
            - first
            - unsent
        )
        n = st.redeliver(now, alert_ids=keys, channel=channel, statuses=statuses, skip_unconfirmed=skip)
        # The rows --route just made have never been sent either: said apart.
        again = max(0, n - len(first) - len(unsent))
        said = f"{_deliveries(again)} will be sent again"
        if looked and again:
            said += (
                f" ({'it' if again == 1 else f'{min(len(looked), again)} of them'} may have got through before: "
                "looked for in the channel first, and not posted again if found there)"
            )
        if route:
            said = f"{_deliveries(len(first))} queued for the first time, " + said
        if unsent:
            said += f", {_deliveries(len(unsent))} queued earlier and never sent: due now"
        err.print(said + ("" if n or held else _why_none(st, now, keys, channel)), highlight=False)
        _say_unconfirmed(held)
        if n or alert_ids is None:
            _say_pauses(st, now, keys, channel)
        if sender is not None and n:
            _send_now(sender)
    finally:
        st.close()


def _deliveries(n: int) -> str:
    return f"{n} delivery" if n == 1 else f"{n} deliveries"


def _unconfirmed(st: Any, now: float, keys: set[str] | None, channel: str | None) -> list[Any]:
    """The rows `redeliver` would make due but leaves alone as maybe delivered: given up unconfirmed, not leased."""
    return [
        r
        for r in st.deliveries(alert_ids=keys, channel=channel, statuses={"expired"})
        if r.unsure and (r.lease_until is None or r.lease_until <= now)
    ]


def _say_unconfirmed(rows: list[Any]) -> None:
    """Name each delivery left out as maybe delivered, with the command that re-sends it after a look."""
    if not rows:
        return
    err.print(
        f"[yellow]{_deliveries(len(rows))} not sent again: given up unconfirmed, maybe delivered already[/yellow] "
        "(look in the channel first; re-send one with the command shown, or all with --include-unconfirmed):",
        highlight=False,
    )
    for r in rows:
        err.print(
            f"  {escape(r.alert_id)} -> {escape(r.channel)}: "
            f"watchfloor alerts redeliver {escape(r.alert_id)} --channel {escape(r.channel)} --send",
            highlight=False,
        )


def _detection_events(st: Any, keys: set[str]) -> list[Any]:
    """The detection events (StoredEvent) whose delivery key is in `keys`, in log order."""
    found: list[Any] = []
    position = 0
    while got := st.read(position, types={EventType.DETECTION.value}, limit=5000):
        for se in got:
            if detection_event_id(Detection.model_validate(se.event.payload)) in keys:
                found.append(se)
        position = got[-1].position
    return found


def _unrouted(st: Any, keys: set[str], channel: str | None = None) -> list[tuple[Any, str]]:
    """Of the named alerts, those with no row in the ledger (with `channel`: no row for that channel), each with
    why (outside trial 10, F6: only "no delivery of these alerts in the ledger"): not taken in by the dispatcher
    yet; withdrawn; or raised when no subscription routed it, which a subscription added since does not change
    (routing is decided once, when the dispatcher takes an alert in: a subscription applies to the alerts raised
    after it is added)."""
    from watchfloor.alerts.dispatcher import PROCESSOR  # the dispatcher's intake checkpoint

    taken_to = st.checkpoint_position(PROCESSOR)
    withdrawn = _read_alerts(st)[1]
    out: list[tuple[Any, str]] = []
    for se in _detection_events(st, keys):
        d = Detection.model_validate(se.event.payload)
        key = detection_event_id(d)
        if st.deliveries(alert_ids={key}, channel=channel, limit=1):
            continue
        fired = fired_time_text(_utc(d.fired_at), fired_first_seen(d.evidence, d.fired_at), dated_ahead(d))
        if se.position > taken_to:
            why = "not taken in yet: the next `watchfloor run` or `notify` routes it through the subscriptions"
        elif key in withdrawn:
            why = f"{withdrawn[key]} (no delivery recorded; a withdrawn alert is not sent)"
        else:
            why = (
                f"fired {fired}, raised when no subscription routed it (no delivery recorded); subscriptions route "
                f"alerts raised after they are added: `watchfloor alerts redeliver {key} --route` sends it through "
                "today's subscriptions"
            )
        out.append((se, f"alert {key} ({d.rule}) {why}"))
    return out


def _route_unrouted(
    cfg: Any, st: Any, keys: set[str], channel: str | None, dispatcher: Any = None
) -> set[tuple[str, str]]:
    """`--route`: each named alert raised when no subscription routed it (with `channel`: none to that channel) goes
    through today's subscriptions (with `channel`: that channel's only), as the dispatcher's intake would take it in
    now (silences, max_age, threads of its story). Returns the rows it queued to be sent, (alert, channel): sent
    for the first time. Idempotent: its rows are under the alert's deterministic delivery key, inserted only if
    absent (a second `--route` finds them and routes nothing), and its `alert` event has a fixed id. Each alert's
    rows and events are written in one transaction (Dispatcher.route_again), so an interrupted `--route` leaves an
    alert routed whole or not at all. (The `alert` event lists the channels of the first `--route` that routed it;
    one for another channel later finds it in the log and adds its rows only.) `dispatcher`: the one --send built,
    else one is built here when there is something to route."""
    from watchfloor.alerts.dispatcher import PROCESSOR

    taken_to = st.checkpoint_position(PROCESSOR)
    withdrawn = _read_alerts(st)[1]
    todo = [
        se
        for se, _ in _unrouted(st, keys, channel)
        if se.position <= taken_to and detection_event_id(Detection.model_validate(se.event.payload)) not in withdrawn
    ]
    to = f" to {channel}" if channel is not None else ""
    if not todo:
        err.print(f"--route: no named alert is waiting for a route{to} (each has deliveries{to}, or is said below)")
        return set()
    if dispatcher is None:
        dispatcher = _dispatcher(cfg, st)
    table = dispatcher.routing.routing()
    through = "today's subscriptions" + (f" of {channel}" if channel is not None else "")
    before = _earlier_of_stories(st, dispatcher, todo, channel, taken_to, withdrawn)
    queued: set[tuple[str, str]] = set()
    events = [*todo, *(se for se, _ in before.values())]
    for se in sorted(events, key=lambda se: se.position):  # in log order: the dispatcher's stories read forwards
        key = detection_event_id(Detection.model_validate(se.event.payload))
        rows, _ = dispatcher.route_again(se, table, channel)  # the same rows a live intake makes now
        earlier = (
            f" (routed before {before[se.position][1]}, which continues its story)" if se.position in before else ""
        )
        if not rows:
            err.print(
                f"alert {key}{earlier}: no subscription routes it{to} today either; nothing to send", highlight=False
            )
            continue
        queued |= {(r.alert_id, r.channel) for r in rows if r.status == "outstanding"}
        said = ", ".join(f"{r.channel} ({r.status if r.status != 'outstanding' else r.kind})" for r in rows)
        err.print(f"alert {key}{earlier} routed through {through}: {said}", highlight=False)
    return queued


def _earlier_of_stories(
    st: Any, dispatcher: Any, todo: list[Any], channel: str | None, taken_to: int, withdrawn: Mapping[str, str]
) -> dict[int, tuple[Any, str]]:
    """The earlier alerts of the named alerts' stories that no subscription routed either (none to `channel`),
    each with the named alert it comes before. `--route` routes them first, in log order, so that a story routed
    by its later alert starts its thread with its first alert, as live intake would have (outside trial 12, M2:
    the HIGH follow-up routed alone was posted as an alert, and its first alert routed afterwards as a second
    top-level message). Withdrawn ones are left out, as intake leaves them. By position: (event, named alert)."""
    named = {detection_event_id(Detection.model_validate(se.event.payload)) for se in todo}
    want: dict[str, str] = {}
    for se in todo:
        d = Detection.model_validate(se.event.payload)
        key = detection_event_id(d)
        for member in dispatcher.stories.story(se.position, key, d).members:
            if member in named or member in want or member in withdrawn:
                continue
            if not st.deliveries(alert_ids={member}, channel=channel, limit=1):
                want[member] = key
    return {
        se.position: (se, want[detection_event_id(Detection.model_validate(se.event.payload))])
        for se in _detection_events(st, set(want))
        if se.position <= taken_to
    }


def _why_none(st: Any, now: float, keys: set[str] | None, channel: str | None) -> str:
    """Why nothing was made due (outside trial 9, F7: a bare "0 deliveries will be sent again"): the matching
    rows by status, a sent one with when; outstanding ones are retried on their own schedule."""
    rows = st.deliveries(alert_ids=keys, channel=channel)
    to = f" to {channel}" if channel is not None else ""
    if not rows and keys is not None and channel is None:
        unrouted = _unrouted(st, keys)
        if unrouted:  # say why of each (outside trial 10, F6)
            return ": no delivery of these alerts in the ledger:\n" + "\n".join(f"  {why}" for _, why in unrouted)
    if not rows:
        return f": no delivery{to} of {'these alerts' if keys is not None else 'any alert'} in the ledger"
    if keys is None:  # --all-expired / --channel: only expired rows are sent again
        rows = [r for r in rows if r.status != "sent" and r.status != "suppressed"]
        if not rows:
            return f": none{to} has expired"
    said: list[str] = []
    by_status: dict[str, list[Any]] = {}
    for r in rows:
        by_status.setdefault(r.status, []).append(r)
    for status, of in sorted(by_status.items()):
        if status == "sent":
            said.append(f"{len(of)} already sent (the last {_when(max(r.updated_at for r in of))})")
        elif status == "outstanding":
            leased = sum(1 for r in of if r.lease_until is not None and r.lease_until > now)
            due = min(max(r.next_attempt_at, r.not_before) for r in of)
            said.append(
                f"{len(of)} outstanding, tried again on their own schedule ("
                + (f"{leased} being sent by a process now; " if leased else "")
                + (f"next {_when(due)}" if due > now else "due now")
                + (")" if keys is not None else "; give their alert ids to make them due at once)")
            )
        elif status == "suppressed":
            said.append(_suppressed_why(of))
        elif status == HELD:
            said.append(
                f"{len(of)} held by the channel's throttle (told in its summary, `thr-…` in `alerts list`, when the "
                "window ends; a summary is re-sent by its key)"
            )
        else:
            said.append(f"{len(of)} {status}")
    unrouted = _unrouted(st, keys) if keys is not None and channel is None else []
    tail = "".join(f"\n  {why}" for _, why in unrouted)  # named alerts with no row at all (outside trial 10, F6)
    tail += "".join(f"\n  {why}" for why in _copies_of_unsent(st, by_status.get("suppressed", [])))
    return f": of the {_deliveries(len(rows))}{to}, " + ", ".join(said) + tail


def _suppressed_why(rows: list[Any]) -> str:
    """Suppressed rows, never sent and not sent again, with each one's own reason as the ledger recorded it (outside
    trial 45, HIGH-1: "a silence or the subscription's max_age" was said of rows replaced by a revision, or taken for
    a copy of an earlier raising, where there was neither). The same reason once, with its count when several."""
    reasons = Counter(r.detail or "no reason recorded" for r in rows)  # (in the order first met)
    shown = [why if n == 1 else f"{n}: {why}" for why, n in list(reasons.items())[:SUPPRESSED_REASONS]]
    if len(reasons) > SUPPRESSED_REASONS:
        shown.append(f"and {len(reasons) - SUPPRESSED_REASONS} other reasons: `alerts list --json` has each")
    return f"{len(rows)} suppressed, never sent ({'; '.join(shown)})"


SUPPRESSED_REASONS = 3  # the distinct reasons _suppressed_why names
_COPY_OF = re.compile(r"the same alert as (\S+), already ")


def _copies_of_unsent(st: Any, rows: list[Any]) -> list[str]:
    """Of suppressed rows, those taken for a copy of an earlier raising of their alert that was itself never sent
    (replaced by a revision before it went: a store written before outside trial 45, HIGH-1, whose intake took such
    a row to stand): said plainly, as neither row reached the channel."""
    out: list[str] = []
    for r in rows:
        found = _COPY_OF.match(r.detail or "")
        if found is None:
            continue
        copied = st.deliveries(alert_ids={found.group(1)}, channel=r.channel, limit=1)
        if copied and copied[0].status == "suppressed":
            out.append(
                f"{r.alert_id} to {r.channel} was taken for a copy of {found.group(1)}, which was never sent either "
                f"({copied[0].detail}): neither row told the alert there"
            )
    return out


def _dispatcher(cfg: Any, st: Any) -> Any:
    """The config's dispatcher on `st` (its notifiers built: a missing secret is an error here, said in one line)."""
    from ..wiring import WiringError, build_dispatcher

    try:
        return build_dispatcher(cfg, st, story_progress=StoryReadProgress())
    except WiringError as e:
        raise fail(str(e)) from None


def _send_now(dispatcher: Any) -> None:
    """`--send`: one delivery cycle on the store now, said as `notify` says it; exits 3 while some are outstanding."""
    report = dispatcher.cycle()
    err.print(delivery_summary(report, dispatcher), highlight=False)
    exit_if_undelivered(report)


def _say_pauses(st: Any, now: float, keys: set[str] | None, channel: str | None) -> None:
    """Rows made due in a channel paused by its own Retry-After still wait for the pause: say so, and how to lift
    it, rather than let `--send` look like it did nothing."""
    paused = st.channel_pauses(now)
    if channel is not None:
        paused = {c: u for c, u in paused.items() if c == channel}
    elif keys is not None and paused:
        mine = {r.channel for r in st.deliveries(alert_ids=keys)}
        paused = {c: u for c, u in paused.items() if c in mine}
    for name, until in sorted(paused.items()):
        when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
        err.print(
            f"channel {name} asked to wait (Retry-After) until {when}, in {until - now:.0f}s: its deliveries go "
            f"then (`watchfloor alerts resume {name}` sends them now, against the server's wish)",
            highlight=False,
        )


@alerts_app.command("resume")
def alerts_resume(
    channel: Annotated[str, typer.Argument(help="The channel whose Retry-After pause to lift.")],
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    send: Annotated[
        bool, typer.Option("--send/--no-send", help="Deliver them now (else the next run/notify cycle does).")
    ] = False,
) -> None:
    """Lift a channel's pause now: a channel that answered 429 with a Retry-After gets nothing until then, from
    every process on the store. Its held deliveries are due at once (the server may refuse them again)."""
    from watchfloor.wiring import open_store  # the one store opener

    cfg = app_config(config)
    st = open_store(store or cfg.store, create=False)
    try:
        now = datetime.now(UTC).timestamp()
        pauses = st.channel_pauses(now)
        stats = st.delivery_stats()
        # A channel the store still knows (paused, or with deliveries) may have left the config since: allowed.
        check_channel_name(cfg, channel, also=set(pauses) | {name for name, _ in stats})
        sender = _dispatcher(cfg, st) if send else None  # before the pause is lifted, as redeliver (trial 36, LOW-2)
        was = pauses.get(channel)
        st.resume_channel(channel, now)
        waiting = stats.get((channel, "outstanding"), (0, 0.0))[0]
        if was is None:
            err.print(f"channel {channel} was not paused ({_deliveries(waiting)} outstanding)", highlight=False)
        else:
            left = f"{was - now:.0f}s before its end"
            err.print(f"channel {channel} resumed ({left}): {_deliveries(waiting)} outstanding", highlight=False)
        if sender is not None:
            _send_now(sender)
    finally:
        st.close()


CANCELLED = "cancelled: channel {channel!r} is no longer configured (watchfloor alerts cancel)"


@alerts_app.command("cancel")
def alerts_cancel(
    channel: Annotated[
        str, typer.Option("--channel", help="The channel, no longer configured, whose outstanding deliveries to drop.")
    ],
    config: ConfigOpt = None,
    store: Annotated[str | None, typer.Option(help="Store URL (overrides config).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be cancelled; change nothing.")] = False,
) -> None:
    """Drop the outstanding deliveries of a channel the config no longer names (trial 19, M5: they were retried,
    `no notifier configured`, for retry.max_age, and kept the store `behind`). Each is settled `suppressed` (not
    sent, on purpose) with a detail and a delivery event in the log; `alerts list` shows them, and re-adding the
    channel does not send them. A row being sent by a live process (under its lease) is left alone."""
    from watchfloor.wiring import open_store  # the one store opener

    cfg = app_config(config)
    if channel in {c.name for c in cfg.channels} or channel.startswith("slack:"):
        raise fail(
            f"channel {channel} is configured (its deliveries go out, or expire after retry.max_age): `alerts cancel` "
            "drops only the deliveries of a channel removed from the config"
        )
    st = open_store(store or cfg.store, create=False)
    try:
        now = datetime.now(UTC).timestamp()
        stats = st.delivery_stats(("outstanding",))
        check_channel_name(cfg, channel, also={name for name, _ in stats}, any_slack=False)
        rows = st.deliveries(channel=channel, statuses={"outstanding"})
        if dry_run:
            err.print(
                f"would cancel {_deliveries(len(rows))} outstanding for channel {channel}, no longer configured "
                "(--dry-run: nothing changed)",
                highlight=False,
            )
            return
        cancelled = _cancel(st, channel, len(rows), now, {name for name, _ in stats} - {channel})
        left = len(rows) - cancelled
        err.print(
            f"cancelled {_deliveries(cancelled)} outstanding for channel {channel} (settled `suppressed`: "
            f"{CANCELLED.format(channel=channel)})"
            + (f"; {_deliveries(left)} being attempted by a live process left alone: run it again" if left else ""),
            highlight=False,
        )
        if left:
            raise typer.Exit(1)
    finally:
        st.close()


def _cancel(st: Any, channel: str, n: int, now: float, others: set[str]) -> int:
    """Settle `channel`'s outstanding rows `suppressed` through the ledger's own primitives: made due (its pause
    lifted, each row due now), claimed under a lease of this command's, then settled with a delivery event, so a
    dispatcher that holds one mid-send keeps it (its lease), and nothing is written twice."""
    import os
    import socket

    from watchfloor.schemas.events import Delivery, delivery_event
    from watchfloor.stream_processors.ports import Settlement

    if not n:
        return 0
    st.resume_channel(channel, now)
    st.redeliver(now, channel=channel, statuses=("outstanding",))
    owner = f"alerts-cancel@{socket.gethostname()}:{os.getpid()}"
    detail = CANCELLED.format(channel=channel)
    done = 0
    for r in st.claim_deliveries(owner, now, 300.0, limit=n, skip_channels=others, backoff_set_before=now + 1):
        if r.channel != channel:  # a channel with its first row queued since: handed back untouched
            back = Settlement(
                "outstanding",
                r.detail,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                not_before=r.not_before,
                unsure=r.unsure,
            )
            st.settle_delivery(r.alert_id, r.channel, owner, back, now)
            continue
        event = delivery_event(
            Delivery(
                alert_id=r.alert_id,
                channel=channel,
                status="suppressed",
                attempts=r.attempts,
                detail=detail,
                at=datetime.fromtimestamp(now, UTC),
            )
        )
        outcome = Settlement("suppressed", detail, attempts=r.attempts, unsure=r.unsure)
        done += bool(st.settle_delivery(r.alert_id, channel, owner, outcome, now, [event]))
    return done
