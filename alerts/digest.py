"""Digests: a subscription with `digest: daily 08:00 Europe/London` gets one message per scheduled time listing
the matching detections raised since its previous digest, instead of one message per alert.

Each digest has a deterministic id (subscription id + the scheduled slot), recorded in the delivery ledger
before and after sending and as a `digest.sent` event, so a second run, a restart or a second process sends
a slot's digest once (a crash between the channel's answer and the ledger is the one window in which it may be
sent again). "Since the previous digest" is by log position: a digest covers the detections appended after the
previous one's last position (or after the subscription was made) up to the log's head when it is sent, so
none is listed twice or skipped. The clock is injected; the schedule is tested with it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from watchfloor.schemas.control import DigestSchedule, DigestSent, SubscriptionCreated, digest_sent_event
from watchfloor.schemas.events import SEVERITY_RANK, Detection, EventType, stable_id
from watchfloor.stream_processors.ports import Store

from .control import ControlLog, as_subscription
from .notifiers.base import NotifierError, redact
from .notifiers.slack import SEVERITY_EMOJI, fit
from .routing import matches, silenced_by

log = logging.getLogger(__name__)

MAX_LISTED = 40  # lines in one digest message; the rest are counted


@dataclass(frozen=True)
class Digest:
    """One digest message: what a sender needs."""

    id: str
    subscription_id: str
    channel: str
    slot: datetime  # aware, in the schedule's zone
    since: datetime | None  # the previous slot, when there was one
    detections: tuple[Detection, ...]
    silenced: int = 0  # matching detections held back by a silence in force

    def title(self) -> str:
        when = self.slot.strftime("%a %d %b %Y %H:%M %Z")
        return f"watchfloor digest · {len(self.detections)} alert(s) · {when}"

    def lines(self) -> list[str]:
        """One plain line per alert, newest last (not escaped)."""
        out = []
        for d in self.detections:
            unconfirmed = ", unconfirmed" if d.confidence == "unconfirmed" else ""
            group = ", ".join(d.group.values())
            out.append(
                f"[{d.severity.upper()}{unconfirmed}] {d.title or d.rule} ({d.rule})"
                + (f" · {group}" if group else "")
                + f" · {d.fired_at.astimezone(UTC):%Y-%m-%d %H:%M UTC}"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subscription": self.subscription_id,
            "channel": self.channel,
            "slot": self.slot.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "alerts": [{"id": d.id, "rule": d.rule, "title": d.title, "severity": d.severity} for d in self.detections],
            "silenced": self.silenced,
        }


class DigestSender(Protocol):
    def send_digest(self, digest: Digest) -> str:
        """Deliver `digest`; a detail for the ledger. Raises NotifierError."""
        ...


class DigestRunner:
    """Sends each digest subscription's digest once its slot has come (call `run_once` every cycle)."""

    def __init__(
        self,
        store: Store,
        control: ControlLog,
        sender_for: Callable[[str], DigestSender | None],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        entity_names: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.control = control
        self.sender_for = sender_for
        self.now = now
        self.entity_names = entity_names or {}

    def run_once(self) -> int:
        """Digests sent by this call."""
        sent = 0
        now = self.now()
        for sub in self.control.subscriptions():
            if sub.digest is not None and self._due(sub, now):
                sent += self._send(sub, now)
        return sent

    def _due(self, sub: SubscriptionCreated, now: datetime) -> bool:
        slot = DigestSchedule.parse(sub.digest or "").last_slot(now)
        if slot < sub.at:
            return False  # the first slot after subscribing has not come yet
        last = self.control.refresh().digests.get(sub.id)
        return last is None or last.slot < slot

    def _send(self, sub: SubscriptionCreated, now: datetime) -> int:
        sched = DigestSchedule.parse(sub.digest or "")
        slot = sched.last_slot(now)
        state = self.control.refresh()
        last = state.digests.get(sub.id)
        after = last.through_position if last else state.created_at_position.get(sub.id, 0)
        digest_id = "dig-" + stable_id("digest", sub.id, slot.isoformat(), length=16)
        status = self.store.delivery_status(digest_id, sub.channel)
        through = self.store.head()
        detections, silenced = self._detections(sub, after, through, now)
        since = last.slot.astimezone(ZoneInfo(sched.zone)) if last else None
        digest = Digest(digest_id, sub.id, sub.channel, slot, since, tuple(detections), silenced)
        if status == "sent":  # sent by a run that did not get to record it in the log
            detail = "already sent"
        else:
            sender = self.sender_for(sub.channel)
            if sender is None:
                log.warning("digest: no channel %r for subscription %s", sub.channel, sub.id)
                return 0
            self.store.mark_delivery(digest_id, sub.channel, "pending")
            try:
                detail = sender.send_digest(digest)
            except NotifierError as e:
                self.store.mark_delivery(digest_id, sub.channel, "failed", e.message)
                log.warning("digest %s -> %s failed (tried again next cycle): %s", digest_id, sub.channel, e.message)
                return 0
            self.store.mark_delivery(digest_id, sub.channel, "sent", detail)
        record = DigestSent(
            id=digest_id,
            subscription_id=sub.id,
            channel=sub.channel,
            slot=slot,
            after_position=after,
            through_position=through,
            alert_ids=tuple(d.id for d in detections),
            detail=detail,
            at=now,
        )
        self.store.append([digest_sent_event(record)])
        self.control.refresh()
        log.info("digest %s -> %s: %d alert(s)", digest_id, sub.channel, len(detections))
        return 1

    def _detections(
        self, sub: SubscriptionCreated, after: int, through: int, now: datetime
    ) -> tuple[list[Detection], int]:
        routing = as_subscription(sub).model_copy(update={"digest": None})
        silences = self.control.routing().silences
        out: list[Detection] = []
        silenced = 0
        position = after
        while position < through:
            got = self.store.read(position, types={EventType.DETECTION.value}, limit=1000)
            got = [se for se in got if se.position <= through]
            if not got:
                break
            for se in got:
                try:
                    det = Detection.model_validate(se.event.payload)
                except ValidationError:
                    continue  # the dispatcher dead-letters these
                if not matches(routing, det):
                    continue
                if silenced_by(det, sub.channel, silences, now) is not None:
                    silenced += 1
                    continue
                named = {k: self.entity_names.get(v, v) for k, v in det.group.items()}
                out.append(det.model_copy(update={"group": named}))
            position = got[-1].position
        out.sort(key=lambda d: (SEVERITY_RANK.get(d.severity, 0) * -1, d.fired_at))
        return out, silenced


# --- senders ----------------------------------------------------------------------------------------------------


def digest_blocks(digest: Digest) -> list[dict[str, Any]]:
    """Block Kit for a digest: a header, one line per alert (escaped), a footer."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit(digest.title(), 150)}}
    ]
    if not digest.detections:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "No new alerts.", "verbatim": True}})
    lines = []
    for d, line in zip(digest.detections[:MAX_LISTED], digest.lines()[:MAX_LISTED], strict=True):
        lines.append(f"{SEVERITY_EMOJI.get(d.severity, '')} {line}")
    for start in range(0, len(lines), 10):  # sections of 10 lines keep each under Slack's 3,000 characters
        text = fit("\n".join(lines[start : start + 10]), 3000)  # escapes the lines (article-derived text)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}})
    more = len(digest.detections) - MAX_LISTED
    footer = f"{more} more not listed · " if more > 0 else ""
    if digest.silenced:
        footer += f"{digest.silenced} silenced · "
    footer += f"digest {digest.id}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer, "verbatim": True}]})
    return blocks


class SlackDigestSender:
    def __init__(self, channel: str, token: str, base_url: str | None = None) -> None:
        self.channel = channel
        self._token = token
        args: dict[str, Any] = {"token": token, "retry_handlers": []}
        if base_url:
            args["base_url"] = base_url
        self._client = WebClient(**args)

    def send_digest(self, digest: Digest) -> str:
        try:
            resp = self._client.chat_postMessage(
                channel=self.channel,
                text=fit(digest.title(), 3000),
                blocks=digest_blocks(digest),
                metadata={"event_type": "watchfloor_digest", "event_payload": {"digest_id": digest.id}},
                unfurl_links=False,
                unfurl_media=False,
                link_names=False,
                parse="none",
            )
        except (SlackApiError, SlackClientError, OSError) as e:
            raise NotifierError(redact(f"slack digest {self.channel}: {type(e).__name__}: {e}", self._token)) from None
        return str(resp.get("ts", ""))


class FileDigestSender:
    """Appends `{"digest": {...}}` as a JSON line (fsync'd), like the file channel does alerts."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send_digest(self, digest: Digest) -> str:
        line = json.dumps({"digest": digest.to_json()}, ensure_ascii=False) + "\n"
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise NotifierError(f"file digest {self.path}: {e.strerror or e}") from None
        return "appended"


class ConsoleDigestSender:
    def __init__(self, write: Callable[[str], Any] = print) -> None:
        self._write = write

    def send_digest(self, digest: Digest) -> str:
        self._write("\n".join([digest.title(), *(f"  {line}" for line in digest.lines())]))
        return "printed"


class WebhookDigestSender:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url
        self.timeout = timeout

    def send_digest(self, digest: Digest) -> str:
        body = json.dumps({"digest": digest.to_json()}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": digest.id}
        req = urllib.request.Request(self._url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as e:
            raise NotifierError(f"webhook digest: {type(e).__name__}") from None
