"""The notifier contract: `send(notice)` delivers one notice to one channel, or says how it failed.

Notifiers do not retry and never sleep: the dispatcher schedules retries in the delivery ledger. They classify
each failure instead: `TransientError` (worth trying again, maybe after `retry_after` seconds) or
`PermanentError` (the same request will fail the same way until someone fixes something: a token, a channel,
a payload). Both leave the delivery outstanding, since faults get fixed. Two flags say more:
`channel_wide` (every delivery to the channel would fail now: skip the channel for the rest of the cycle) and
`maybe_delivered` (the request may have got through, e.g. a timeout: look in the channel before sending again).
`Unconfirmed` is the third outcome, of a channel that cannot be looked in: handed over whole, no verdict.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable

from watchfloor.schemas.control import AlertAcknowledged

from ..notice import Digest, EarlierStory, Notice


class NotifierError(Exception):
    """A delivery failed. Its message must never contain a secret (token, webhook secret path)."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        channel_wide: bool = False,
        maybe_delivered: bool = False,
        answer: Mapping[str, Any] | None = None,
        unanswered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.channel_wide = channel_wide
        self.maybe_delivered = maybe_delivered
        # No answer came (a timeout, a connection cut mid-request, a gateway's 502/504 in front of the service): the
        # request may still be on its way, and be carried out later than the failure (the service's own 5xx is an
        # answer: its handling is over). Implies maybe_delivered.
        self.unanswered = unanswered
        # The service's error answer as it gave it, when it gave one (Slack: its JSON, `error` and, for
        # missing_scope, `needed`): for a caller that reads more than the message. Never a secret.
        self.answer: Mapping[str, Any] = answer or {}


class TransientError(NotifierError):
    """Worth retrying: rate limit, server error, network trouble. `retry_after` is the server's hint, in seconds."""


class PermanentError(NotifierError):
    """Retrying the same request cannot help until something is fixed: bad channel, credentials, payload."""


class HistoryUnreadable(PermanentError):
    """A start-up `check()`'s failure that a delivery to the channel does not show fixed: the bot may post there but
    not read its history (Slack: a scope missing, or not in the channel with chat:write.public). Every other failed
    check is superseded by a delivery sent there after it, in what `status` and /healthz say; this one stands."""


class Misconfigured(PermanentError):
    """The channel cannot work as its config names it, whatever is retried: a file channel whose `path` is a
    directory. Raised by a start-up `check()`: `run`, `notify` and `worker --dispatch` stop there (exit 1, as for a
    bad config) rather than queue deliveries no retry can make (trial 33, L3: the start said `appends to` the
    directory)."""


class NotYetLookable(PermanentError):
    """`find_delivered` cannot look until a delivery to the channel has succeeded, whose answer tells where to look
    (Slack: a channel conversations.list does not show, whose ID no post's answer or ledger reference has named yet).
    The dispatcher lets another delivery to the channel due now go first, else sends again (at-least-once)."""


class Unconfirmed(NotifierError):
    """The whole message was handed over and the channel never said whether it took it, and a channel of this kind
    cannot be looked in (email: no reply to the end of DATA within `data_timeout`). Sending it again would be a
    second copy whenever the first got through, so the dispatcher does not: the delivery is given up as unconfirmed
    (`expired`, maybe delivered), for a person to check the mailbox and re-send (`alerts redeliver`)."""


@runtime_checkable
class Notifier(Protocol):
    """Delivers notices to one configured channel."""

    name: str

    def send(self, notice: Notice) -> str:
        """Deliver `notice`; return the channel's reference of the message (e.g. Slack's "CHANNELID:ts"),
        which later notices of its thread use. Raises TransientError or PermanentError."""
        ...


@runtime_checkable
class Reconciling(Protocol):
    """A notifier that can tell whether a notice already reached its channel (Slack: message metadata carries
    the key; file: lines carry it). The dispatcher asks before re-sending an attempt that may have got through."""

    def find_delivered(self, notice: Notice | Digest) -> str | None:
        """The message reference if `notice` (or a digest) was delivered already, else None. Raises
        TransientError or PermanentError when it cannot tell."""
        ...


@runtime_checkable
class Surveying(Protocol):
    """A Reconciling notifier that can list what this deployment posted after a given message of its channel (Slack:
    conversations.history from its `ts`; file: the lines after its offset). At start the dispatcher asks it from the
    ledger's newest delivery to the channel: a store restored from a backup raises again the alerts delivered since
    the backup, and those found are recorded as delivered, not sent again."""

    def posted_since(self, ref: str, limit: int) -> dict[str, str]:
        """Delivery key -> message reference of what was posted after message `ref`, the newest `limit` of it (top-level
        messages: a Slack thread's replies are not listed). Raises TransientError or PermanentError."""
        ...


@runtime_checkable
class RefLearning(Protocol):
    """A Reconciling notifier that can look by what an earlier delivery's reference tells (Slack: "CHANNELID:ts"
    names the channel's ID, which conversations.history takes for a channel conversations.list does not show).
    The dispatcher passes the ledger's newest reference of the channel before it asks `find_delivered`: the
    ledger is the store's, and a notifier does no store I/O."""

    def learn_ref(self, ref: str) -> None:
        """Remember what `ref`, the reference of a delivery to this channel, tells about the channel."""
        ...


@runtime_checkable
class DigestSending(Protocol):
    """A notifier that can deliver a digest (one message listing a subscription's alerts since the last one)."""

    def send_digest(self, digest: Digest) -> str:
        """Deliver `digest` (its key is `digest.id`); a reference like send()'s. Raises like send()."""
        ...


@runtime_checkable
class Updating(Protocol):
    """A notifier whose messages can be changed after they were sent (Slack: chat.update). The dispatcher calls
    `update` after a threaded notice was sent, so the thread's first message tells its current state. A revision by
    a report of the alert's very time (ThreadView.quiet) it tells by `update` alone, never `send`: no reply, and
    the delivery's reference is the message rewritten (`notice.thread.target_ref`)."""

    def update(self, notice: Notice) -> None:
        """Rewrite `notice.thread.target_ref` from `notice.thread`. Raises TransientError or PermanentError."""
        ...


@runtime_checkable
class AckShowing(Protocol):
    """A notifier whose messages can be made to show an acknowledgement recorded elsewhere (`watchfloor alerts ack`,
    another channel's button), as the Acknowledge button's click shows it on its own message (Slack: chat.update).
    The dispatcher calls it for each `alert.acknowledged` event, from a ledger row of kind ACK_KIND."""

    def show_acknowledged(
        self,
        ref: str,
        thread_ref: str | None,
        ack: AlertAcknowledged,
        shows: Collection[str] | None = None,
        legacy: Collection[str] = (),
    ) -> bool:
        """Rewrite message `ref` (a reply under `thread_ref`, or a message of its own when None) to show `ack`, if it
        still offers to acknowledge `ack.alert_id` (or, given `shows`, one of those alerts: a thread's first message
        acts on the thread's newest standing alert; or one of `legacy` on a button drawn before buttons said what the
        message stands for); True if it was rewritten. Raises TransientError, PermanentError,
        MessageGone when the message is not there, or MessageFrozen when it can no longer be changed."""
        ...


@runtime_checkable
class EarlierShowing(Protocol):
    """A notifier whose story messages can be made to name another earlier story in their "Again: …" line (Slack:
    chat.update of the message as the channel has it): the dispatcher calls it after a story that fired before a
    story already in the channel was sent there (a late report's), on that later story's first message."""

    def show_earlier(self, ref: str, was: EarlierStory, now: EarlierStory) -> bool:
        """Rewrite message `ref` so that its line naming `was` names `now`; True if it was rewritten (False: it says
        no such line). Raises TransientError, PermanentError, MessageGone or MessageFrozen."""
        ...


@runtime_checkable
class Lasting(Protocol):
    """A notifier one attempt of which may take longer than the ledger's lease (email: up to `data_timeout` for
    the server's verdict on a message, after the command timeouts). Its claims are leased for longer, so that no
    other dispatcher takes a delivery over while it is still being sent (a copy of the message)."""

    def longest_attempt(self) -> float:
        """Seconds one send may take at most: its timeouts added up."""
        ...


@runtime_checkable
class InFlight(Protocol):
    """A notifier whose attempt can still be carried out after its process died (an HTTP request already on its
    way): how long after the claim it may land, which a take-over of a killed process's claim waits out before it
    looks in the channel (alerts.dispatcher: outside trial 36, H1). Its lease is not lengthened by it (Lasting)."""

    def in_flight(self) -> float:
        """Seconds from the claim within which an attempt has surely ended."""
        ...


def joined_values(values: Collection[str]) -> str:
    """An attribute's values on one line: ", " between them, or "; " when a value holds ", " itself (a GDELT place,
    "Kharkiv, Kharkivs'ka Oblast', Ukraine (UP)"), so the list can still be split by eye (outside trial 70, M1)."""
    return ("; " if any(", " in v for v in values) else ", ").join(values)


def landing_window(notifier: object) -> float:
    """Seconds from an attempt's start within which what it had on its way has surely landed: its longest attempt
    (`Lasting`: email's exchanges; `InFlight`: Slack's look and post, a webhook's POST), 0 for one that says none.
    A look in the channel made sooner can miss a post the channel carries out late, and post it again."""
    if isinstance(notifier, Lasting):
        return notifier.longest_attempt()
    if isinstance(notifier, InFlight):
        return notifier.in_flight()
    return 0.0


@runtime_checkable
class Targeted(Protocol):
    """A notifier that can name the place it posts to, whatever spelling the config used (Slack: the channel's ID,
    so `#desk` and `slack:C…` are known to be one channel)."""

    def target(self) -> str | None:
        """The destination's identity, e.g. "slack:C0123"; None when it cannot be told now (Slack unreachable)."""
        ...


class MessageGone(PermanentError):
    """The message an update was to rewrite is no longer there (deleted in the channel): retrying cannot help."""

    def __init__(self, message: str, ref: str) -> None:
        super().__init__(message)
        self.ref = ref


class MessageFrozen(PermanentError):
    """The message an update was to rewrite is there, but the channel will not let it be changed any more (Slack:
    `cant_update_message`, `edit_window_closed`): retrying cannot help. What it showed stays as it was; the notice
    that asked for the update reached the channel all the same (trial 33, L1: it was retried for `retry.max_age`)."""

    def __init__(self, message: str, ref: str) -> None:
        super().__init__(message)
        self.ref = ref


@runtime_checkable
class Checking(Protocol):
    """A notifier that can check its channel before the first alert (token, channel, write access)."""

    def check(self) -> str:
        """A one-line description of what was checked, or raises NotifierError saying what is wrong."""
        ...


def redact(text: str, *secrets: str | None, mask: str = "[redacted]") -> str:
    """`text` with every occurrence of each non-empty secret replaced by `mask`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask)
    return text


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(seconds, 0.0)
