"""Alert dispatcher: detection events in, alert and delivery events out.

Stages, per detection (like Alertmanager): route -> suppress (silences) -> dedup (delivery ledger) -> notify with
retries -> record. The routing table (subscriptions and silences) comes from a `RoutingProvider` once per cycle:
alerts.control projects it from the log, so a subscription or silence made while the pipeline runs applies on the
next cycle. A silenced alert is still an alert event, and its delivery is recorded as `suppressed` with the
silence id in its detail: never lost, visible in `alerts list`.

Delivery is at-least-once per (alert, channel) with a durable ledger in front: a channel whose ledger status
is "sent" is never sent again, whether by a second run, a fresh dispatcher or a replay from an older
checkpoint. The one window for a repeat is a crash after a notifier succeeded but before the ledger was
marked "sent": a restart finds "pending". It then asks the notifier whether the alert already arrived
(notifiers.base.Reconciling; Slack looks for the alert id in the channel's recent message metadata) and
only sends if not. A notifier that cannot tell (no such method, or the lookup fails) gets the alert
again: a possible duplicate is better than a lost alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from watchfloor.schemas.config import RetryPolicy, Subscription
from watchfloor.schemas.events import (
    Alert,
    DeadLetter,
    Delivery,
    Detection,
    Event,
    EventType,
    alert_event,
    dead_letter_event,
    delivery_event,
)
from watchfloor.stream_processors.ports import Checkpoint, Store, StoredEvent

from .notifiers.base import Notifier, NotifierError, PermanentError, Reconciling, TransientError
from .routing import RoutingProvider, RoutingTable, StaticRouting, route, silenced_by

log = logging.getLogger(__name__)

PROCESSOR = "alerts"
DONE_STATUSES = frozenset({"sent", "suppressed"})  # ledger states that mean: do not send again


class AlertDispatcher:
    """Reads detections after its checkpoint, delivers each to its routed channels, records the outcomes."""

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        subscriptions: Sequence[Subscription],
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        routing: RoutingProvider | None = None,
    ) -> None:
        self.store = store
        # Not copied: a mapping may build notifiers on demand (Slack channels subscribed from Slack itself).
        self.notifiers: Mapping[str, Notifier] = notifiers
        self.subscriptions = tuple(subscriptions)
        # `routing` replaces `subscriptions` when given (alerts.control.ControlProjection).
        self.routing = routing if routing is not None else StaticRouting(self.subscriptions)
        self._table = RoutingTable(self.subscriptions)
        self.retry = retry if retry is not None else RetryPolicy()
        self._sleep = sleep
        self._now = now

    # -- the loop --

    def run_once(self, limit: int = 500) -> int:
        """Process up to `limit` detection events past the checkpoint; returns how many were processed.

        Each detection is committed (checkpoint + its alert and delivery events) on its own, so a crash
        loses at most the one in flight, and the ledger keeps that one from being sent twice.
        """
        checkpoint = self.store.load_checkpoint(PROCESSOR)
        batch = self.store.read(checkpoint.position, types={EventType.DETECTION.value}, limit=limit)
        if batch:
            self._table = self.routing.routing()
        for stored in batch:
            outputs = self._process(stored)
            self.store.commit(PROCESSOR, Checkpoint(stored.position, None), outputs)
        return len(batch)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        Exponential from retry.backoff, capped at retry.max_backoff; never less than the server's retry_after.
        """
        base = self.retry.backoff.total_seconds()
        cap = self.retry.max_backoff.total_seconds()
        delay = min(base * 2.0 ** (attempt - 1), cap)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return max(delay, 0.0)

    # -- stages --

    def _process(self, stored: StoredEvent) -> list[Event]:
        try:
            det = Detection.model_validate(stored.event.payload)
        except ValidationError as e:
            log.warning("alerts: unreadable detection event %s at position %d", stored.event.id, stored.position)
            dead = DeadLetter(
                origin=f"event:{stored.event.id}",
                line=stored.position,
                reason=f"invalid detection payload: {e.error_count()} error(s): {e.errors()[0]['msg']}",
                raw=orjson.dumps(stored.event.payload).decode()[:2000],
                stage="notify",
            )
            return [dead_letter_event(dead, self._now())]
        channels = route(det, self._table.subscriptions)
        if not channels:
            log.debug("alerts: detection %s (%s) matches no subscription", det.id, det.rule)
            return []
        alert = Alert(id=det.id, detection=det, channels=channels)
        outputs = [alert_event(alert)]
        now = self._now()
        for channel in channels:
            silence = silenced_by(det, channel, self._table.silences, now)
            if silence is not None:
                outputs.append(delivery_event(self._suppress(alert, channel, silence.id)))
            else:
                outputs.append(delivery_event(self._deliver(alert, channel)))
        return outputs

    def _suppress(self, alert: Alert, channel: str, silence_id: str) -> Delivery:
        status = self.store.delivery_status(alert.id, channel)
        if status == "sent":  # sent before the silence began (a replayed batch): that stays the outcome
            return self._deliver(alert, channel)
        detail = f"silenced by {silence_id}"
        self.store.mark_delivery(alert.id, channel, "suppressed", detail)
        log.info("alerts: %s -> %s suppressed (%s)", alert.id, channel, detail)
        return Delivery(
            alert_id=alert.id, channel=channel, status="suppressed", attempts=0, detail=detail, at=self._now()
        )

    def _deliver(self, alert: Alert, channel: str) -> Delivery:
        status = self.store.delivery_status(alert.id, channel)
        if status in DONE_STATUSES:
            # Already done, maybe by a run that crashed before committing: re-emit the same outcome
            # (its event id is deterministic, so the log keeps a single copy).
            log.info("alerts: %s -> %s already %s; not sending again", alert.id, channel, status)
            return Delivery(
                alert_id=alert.id,
                channel=channel,
                status="sent" if status == "sent" else "suppressed",
                attempts=0,
                detail=f"already {status}",
                at=self._now(),
            )
        notifier = self.notifiers.get(channel)
        if notifier is None:
            detail = f"no notifier configured for channel {channel!r}"
            log.error("alerts: %s -> %s failed: %s", alert.id, channel, detail)
            self.store.mark_delivery(alert.id, channel, "failed", detail)
            return Delivery(
                alert_id=alert.id, channel=channel, status="failed", attempts=0, detail=detail, at=self._now()
            )
        if status == "pending":  # an earlier attempt was interrupted: did it get through?
            found = self._find_delivered(notifier, alert)
            if found is not None:
                detail = f"found in channel after an interrupted delivery: {found}"
                self.store.mark_delivery(alert.id, channel, "sent", detail)
                log.info(
                    "alerts: %s -> %s was delivered before a restart (%s); not sending again", alert.id, channel, found
                )
                return Delivery(
                    alert_id=alert.id, channel=channel, status="sent", attempts=0, detail=detail, at=self._now()
                )
        self.store.mark_delivery(alert.id, channel, "pending")
        ok, attempts, detail = self._send_with_retry(notifier, alert)
        final = "sent" if ok else "failed"
        self.store.mark_delivery(alert.id, channel, final, detail)
        if ok:
            log.info("alerts: %s -> %s sent (%d attempt(s))", alert.id, channel, attempts)
        else:
            log.warning("alerts: %s -> %s failed after %d attempt(s): %s", alert.id, channel, attempts, detail)
        return Delivery(
            alert_id=alert.id, channel=channel, status=final, attempts=attempts, detail=detail, at=self._now()
        )

    def _find_delivered(self, notifier: Notifier, alert: Alert) -> str | None:
        if not isinstance(notifier, Reconciling):
            return None
        try:
            return notifier.find_delivered(alert)
        except NotifierError as e:
            log.warning(
                "alerts: cannot tell whether %s reached %s before a restart (%s); sending it again",
                alert.id,
                notifier.name,
                e,
            )
            return None
        except Exception:  # a notifier bug must not stop the batch either
            log.exception("alerts: notifier %s raised while checking %s; sending it again", notifier.name, alert.id)
            return None

    def _send_with_retry(self, notifier: Notifier, alert: Alert) -> tuple[bool, int, str]:
        """(delivered, attempts made, detail): the notifier's detail on success, the last error otherwise."""
        attempts = self.retry.attempts
        last = ""
        for attempt in range(1, attempts + 1):
            try:
                return True, attempt, notifier.send(alert)
            except PermanentError as e:
                return False, attempt, f"permanent: {e}"
            except TransientError as e:
                last = f"transient: {e}"
                if attempt < attempts:
                    delay = self.backoff(attempt, e.retry_after)
                    log.info(
                        "alerts: %s -> %s attempt %d/%d failed (%s); retrying in %.1fs",
                        alert.id,
                        notifier.name,
                        attempt,
                        attempts,
                        e,
                        delay,
                    )
                    self._sleep(delay)
            except Exception as e:  # a notifier bug: don't retry it, don't let it stop the batch
                log.exception("alerts: notifier %s raised unexpectedly for %s", notifier.name, alert.id)
                return False, attempt, f"error: {type(e).__name__}"
        return False, attempts, f"gave up after {attempts} attempt(s): {last}"
