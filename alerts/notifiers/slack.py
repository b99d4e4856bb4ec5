"""Slack notifier: chat.postMessage with Block Kit blocks (alerts.notifiers.slack_blocks), threads and
chat.update, via slack_sdk.

A notice of a thread is a reply (`thread_ts`) under the thread's first message, and that message, or the one
a revision changes, is rewritten with chat.update; a revision by a report of the alert's very time is that rewrite
alone, no reply (the dispatcher calls `update` without `send`: ThreadView.quiet). Messages carry their delivery key
in metadata, so after an attempt that may have got through (a crash, a timeout) the dispatcher looks before it sends
again: conversations.history for a message of its own, conversations.replies for a reply. Both take the channel's
ID: a channel conversations.list does not show (private, without groups:read) is looked in by the ID a post's answer
named, or an earlier delivery's ledger reference "CHANNELID:ts" (learn_ref).

mrkdwn text objects are sent with verbatim=true and the message with parse=none / link_names=false, so Slack
itself does not turn plain text such as "@here" or "#general" into mentions either. The bot token never
appears in exceptions, reprs or returned details.
"""

from __future__ import annotations

import dataclasses
import http.client
import logging
import socket
import time
import urllib.error
from collections.abc import Callable, Collection, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError

from watchfloor.schemas.control import AlertAcknowledged
from watchfloor.schemas.events import Alert

from ..notice import Digest, EarlierStory, Notice, as_notice
from .base import (
    HistoryUnreadable,
    MessageFrozen,
    MessageGone,
    NotifierError,
    NotYetLookable,
    PermanentError,
    TransientError,
    parse_retry_after,
    redact,
)
from .slack_blocks import (
    DIGEST_EVENT_TYPE,
    METADATA_EVENT_TYPE,
    SEVERITY_EMOJI,
    build_blocks,
    build_first_update,
    build_update,
    digest_blocks,
    digest_metadata,
    digest_title,
    escape,
    fallback_text,
    first_metadata,
    fit,
    metadata,
    notice_text,
    offers_ack,
    safe_url,
    target_metadata,
    with_acknowledgement,
    with_earlier,
)
from .wording import wording

log = logging.getLogger(__name__)

# ok:false error codes worth retrying soon. Everything else will fail the same way until someone fixes it.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# Errors after which Slack's documentation says "it's possible some aspect of the operation succeeded".
PARTIAL_ERRORS = frozenset({"internal_error", "fatal_error"})
# chat.update's answers for a message that is there but that the bot may not change (not its own; older than the
# workspace's edit window): the same call fails the same way for ever (MessageFrozen).
FROZEN_ERRORS = frozenset({"cant_update_message", "edit_window_closed"})
NON_JSON = "Received a response in a non-JSON format"
# HTTP statuses of a gateway in front of Slack, not of Slack: 504 Gateway Timeout (the proxy gave up waiting) and
# 502 Bad Gateway (the upstream's connection cut, or a bad answer). No answer of Slack's: the post may still be carried
# out behind the proxy later, as after a timeout of our own (`unanswered`), so the retry waits for its landing window.
GATEWAY_STATUSES = frozenset({502, 504})
# Errors about the token or the channel: every delivery to the channel would fail the same way now.
CHANNEL_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
HINTS = {
    "invalid_auth": "the token is not valid (check the variable named by token_env)",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked: reinstall the app and export the new token",
    "account_inactive": "the token belongs to a deactivated app or user",
    "missing_scope": (
        "the app lacks a scope: chat:write, channels:history and channels:read are needed, and groups:read and "
        "groups:history for a private channel"
    ),
    "channel_not_found": "no such channel, or the bot cannot see it (private channels need an invite)",
    "not_in_channel": "the bot is not in the channel: /invite it there",
    "is_archived": "the channel is archived",
}

# How long a channel name conversations.list did not find is taken as not there without asking again: each look-up
# is a paginated conversations.list, and a name that is not there would be looked up at every alert routed to it
# (target(), find_delivered). A channel made since is found at the first look-up after this, or by a new process.
NOT_FOUND_RECHECK = 300.0
PERMALINKS_KEPT = 1000  # earlier stories' message links kept per notifier (one chat.getPermalink per message)
# Messages find_delivered reads back at most (pages of 200: 50 calls of conversations.history, only after an attempt
# that may have got through). Past them it cannot tell, and says so (the dispatcher then sends again, with a
# warning): outside trial 23 found a message 1,200 messages back re-posted silently at the 1,000 it read before.
HISTORY_LIMIT = 10_000

__all__ = [  # the formatting helpers live in slack_blocks; these names are what other modules import from here
    "METADATA_EVENT_TYPE",
    "SEVERITY_EMOJI",
    "SlackNotifier",
    "build_blocks",
    "escape",
    "fallback_text",
    "fit",
    "metadata",
    "safe_url",
]


def split_ref(ref: str) -> tuple[str, str]:
    """("CHANNELID", "ts") from a message reference "CHANNELID:ts"."""
    channel, _, ts = ref.rpartition(":")
    return channel, ts


# --- the notifier -------------------------------------------------------------------------------------------


class SlackNotifier:
    """Posts alerts to one Slack channel with a bot token.

    `base_url` is the Web API root (default: Slack itself), e.g. a local fake in tests. slack_sdk's own retry
    handlers are disabled: the dispatcher decides when to retry.
    """

    def __init__(
        self,
        name: str,
        channel: str,
        token: str,
        base_url: str | None = None,
        *,
        timeout: float = 10,
        history_limit: int = HISTORY_LIMIT,
        broadcast_escalations: bool = True,
        deployment: str | None = None,
        language: str = "en",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not token or not token.strip():
            raise ValueError(f"slack {name}: empty token")
        self.name = name
        self.channel = channel
        self.timeout = timeout
        self._token = token.strip()
        kwargs: dict[str, Any] = {
            "token": self._token,
            "timeout": timeout,
            "retry_handlers": [],
            "logger": _redacting_logger(self._token),
        }
        if base_url is not None:
            kwargs["base_url"] = base_url
        self._base_url = base_url  # None: Slack itself
        self._client = WebClient(**kwargs)
        self._channel_id: str | None = None  # resolved by name, configured as an ID, or answered by a post
        # The channel's ID as an earlier delivery's reference named it (the delivery stage passes the ledger's newest,
        # learn_ref): used only to look in the channel after an interrupted attempt when conversations.list does not
        # show it (a private channel without groups:read). Not for target(): the config may have moved the routing
        # name to another channel since, and a look in the old one finds nothing, where a wrong identity would
        # suppress a delivery as "the same channel".
        self._ref_id: str | None = None
        self._target_said: str | None = None  # the last reason target() logged, so it is said once
        self._clock = clock  # when a name was not found (NOT_FOUND_RECHECK); injected by tests
        self._not_found: tuple[float, str] | None = None  # (clock, the error) of the last look-up that found nothing
        self._public_only = False  # Slack refused to list private channels (missing_scope: no groups:read)
        self.history_limit = history_limit
        self.broadcast_escalations = broadcast_escalations
        self.words = wording(language)  # the messages' own wording (the channel's `language`); quotes stay as written
        # Which store (deployment) posts: written in each message's metadata, so the look after an interrupted
        # attempt finds this deployment's message, not another's that posts the same alert id to the channel
        # (staging and production; alert ids are a function of the reports). None: not written, anything matches.
        self.deployment = deployment
        self._permalinks: dict[str, str] = {}  # message ref -> its permalink ("" when Slack answered with none)
        # (clock) before which chat.getPermalink is not asked: Slack rate-limited it and said how long to wait. Its
        # limit is the method's, workspace-wide, so every message link waits, not only the one asked.
        self._permalink_after = 0.0

    def __repr__(self) -> str:
        return f"SlackNotifier(name={self.name!r}, channel={self.channel!r})"

    def in_flight(self) -> float:
        """The look in the channel an interrupted attempt starts with, then the post, each up to `timeout` (the
        permalinks and the parent's rewrite come after the post): how long a post may still be on its way after
        its process was killed (the dispatcher's take-over waits that long from the claim)."""
        return 2 * self.timeout

    def send(self, notice: Notice | Alert) -> str:
        """Post `notice` (a reply when it belongs to a thread); returns the message reference "CHANNELID:ts"."""
        notice = self._with_earlier_link(as_notice(notice))
        args: dict[str, Any] = {
            "channel": self.channel,
            "text": notice_text(notice, self.words),
            "blocks": build_blocks(notice, self.words),
            "metadata": self._stamped(metadata(notice)),
            "unfurl_links": False,
            "unfurl_media": False,
            "link_names": False,
            "parse": "none",
        }
        parent = ""
        if isinstance(notice, Notice) and notice.thread is not None:
            parent = notice.thread.thread_ref
            channel_id, ts = split_ref(parent)
            args["channel"] = channel_id or self.channel
            args["thread_ts"] = ts
            if notice.escalated_from and self.broadcast_escalations:
                args["reply_broadcast"] = True  # an escalation is also news for the channel
        elif isinstance(notice, Notice) and notice.story is not None and notice.story.ref:
            # another group's alert of a story (thread_by): a new alert, told in the story's thread
            parent = notice.story.ref
            channel_id, ts = split_ref(parent)
            args["channel"] = channel_id or self.channel
            args["thread_ts"] = ts
        try:
            data = self._call("chat.postMessage", **args)
        except PermanentError as e:
            if parent and "thread_not_found" in e.message:  # the thread's first message was deleted in the channel
                raise MessageGone(e.message, parent) from None
            raise
        answered = data.get("channel")
        if isinstance(answered, str) and answered:
            self._channel_id = answered  # Slack answers with the channel's ID
        return f"{self._channel_id or self.channel}:{data.get('ts', '')}"

    def send_digest(self, digest: Digest) -> str:
        """Post a digest as a message of its own; returns "CHANNELID:ts" like send()."""
        data = self._call(
            "chat.postMessage",
            channel=self.channel,
            text=fit(digest_title(digest, self.words), 3000),
            blocks=digest_blocks(digest, self.words),
            metadata=self._stamped(digest_metadata(digest)),
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            parse="none",
        )
        answered = data.get("channel")
        if isinstance(answered, str) and answered:
            self._channel_id = answered
        return f"{self._channel_id or self.channel}:{data.get('ts', '')}"

    def update(self, notice: Notice) -> None:
        """chat.update of the message `notice` changes: the thread's first message, with the thread's state; or a
        reply (a follow-up a late report revised or withdrew), with its own alert's, and then the first message too,
        with the thread's. Each rewrites a message whole from the ledger's state, so a retry after either failed
        (the dispatcher calls update again, never send) writes the same messages again: safe to repeat. A message
        that may not be changed any more (MessageFrozen) does not keep the other from its rewrite: raised after it."""
        thread = notice.thread
        if thread is None:
            return
        if thread.first_earlier is not None:  # its "Again: …" line keeps the link to the earlier story's message
            linked = self._with_earlier_link(dataclasses.replace(notice, earlier=thread.first_earlier)).earlier
            notice = dataclasses.replace(notice, thread=dataclasses.replace(thread, first_earlier=linked))
            thread = notice.thread
            assert thread is not None
        text, blocks = build_update(notice, self.words)
        frozen: MessageFrozen | None = None
        try:
            self._rewrite(thread.target_ref, text, blocks, self._stamped(target_metadata(notice)))
        except MessageFrozen as e:
            frozen = e
        first = build_first_update(notice, self.words)
        if first is not None:
            self._rewrite(thread.thread_ref, *first, self._stamped(first_metadata(notice)))
        if frozen is not None:
            raise frozen

    def show_acknowledged(
        self,
        ref: str,
        thread_ref: str | None,
        ack: AlertAcknowledged,
        shows: Collection[str] | None = None,
        legacy: Collection[str] = (),
    ) -> bool:
        """chat.update of message `ref` (a reply under `thread_ref`, else a message of its own) as Slack has it, its
        Acknowledge button for `ack.alert_id` replaced by who acknowledged it, as a click on the button does
        (alerts.slackapp.app on_ack): the message is read first (conversations.replies; scope channels:history) so
        that whatever the thread's updates made it say is kept. A message that offers no such button (the click
        rewrote it already, it shows another acknowledgement or a revision, or it was withdrawn) is left as it is:
        False. `shows`: the alert ids whose Acknowledge button on this message `ack` takes (default: its own alert's;
        the dispatcher names them for a thread's first message, whose button acts on the thread's newest standing
        alert; `legacy`: on its first alert only on a button drawn before buttons said what the message stands for;
        none: the message shows a newer alert). Safe to
        repeat. Raises MessageGone when it is not there any more."""
        channel_id, ts, message = self._read_message(ref, thread_ref)
        blocks = message.get("blocks") or []
        if not offers_ack(blocks, {ack.alert_id} if shows is None else shows, legacy):
            return False
        self._rewrite_as_read(ref, channel_id, ts, message, with_acknowledgement(blocks, ack, self.words))
        return True

    def show_earlier(self, ref: str, was: EarlierStory, now: EarlierStory) -> bool:
        """chat.update of message `ref` (a story's first message) as Slack has it, its "Again: …" line that names
        `was` naming `now` instead, with a link to that story's message: a story told after it that fired before it
        (a late report's) is now the last before it (outside trial 64, LOW-3). The message is read first, as for
        show_acknowledged, so that whatever its thread's updates made it say is kept; one that does not say that line
        is left as it is: False. Safe to repeat. Raises MessageGone, MessageFrozen, TransientError, PermanentError."""
        channel_id, ts, message = self._read_message(ref, None)
        blocks = with_earlier(message.get("blocks") or [], was, self._linked(now), self.words)
        if blocks is None:
            return False
        self._rewrite_as_read(ref, channel_id, ts, message, blocks)
        return True

    def _read_message(self, ref: str, thread_ref: str | None) -> tuple[str, str, Mapping[str, Any]]:
        """(channel id, ts, the message) of `ref` (a reply under `thread_ref`, else a message of its own) as Slack
        has it (conversations.replies; scope channels:history). Raises MessageGone when it is not there any more."""
        channel_id, ts = split_ref(ref)
        channel_id = channel_id or self._id()
        parent = split_ref(thread_ref)[1] if thread_ref else ts
        message: Mapping[str, Any] | None = None
        cursor = ""
        while message is None:
            args: dict[str, Any] = {"channel": channel_id, "ts": parent, "limit": 200, "include_all_metadata": True}
            if cursor:
                args["cursor"] = cursor
            try:
                data = self._call("conversations.replies", **args)
            except PermanentError as e:
                if "thread_not_found" in e.message or "message_not_found" in e.message:
                    raise MessageGone(e.message, ref) from None
                raise
            messages = data.get("messages") or []
            message = next((m for m in messages if isinstance(m, Mapping) and m.get("ts") == ts), None)
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if message is None and (not cursor or not messages):
                raise MessageGone(f"message {ts} not found in the channel (deleted?)", ref)
        return channel_id, ts, message

    def _rewrite_as_read(
        self, ref: str, channel_id: str, ts: str, message: Mapping[str, Any], blocks: list[dict[str, Any]]
    ) -> None:
        """chat.update of `message` (as _read_message read it) with `blocks`, its text and metadata kept."""
        args: dict[str, Any] = {
            "channel": channel_id,
            "ts": ts,
            "text": str(message.get("text") or "watchfloor alert"),
            "blocks": blocks,
            "link_names": False,
            "parse": "none",
        }
        if isinstance(message.get("metadata"), Mapping):  # kept: a restarted dispatcher finds its message by it
            args["metadata"] = message["metadata"]
        try:
            self._call("chat.update", **args)
        except PermanentError as e:
            if "message_not_found" in e.message:
                raise MessageGone(e.message, ref) from None
            if _frozen(e):
                raise MessageFrozen(e.message, ref) from None
            raise

    def _stamped(self, meta: dict[str, Any]) -> dict[str, Any]:
        if self.deployment is None:
            return meta
        return {**meta, "event_payload": {**meta["event_payload"], "deployment": self.deployment}}

    def _rewrite(self, ref: str, text: str, blocks: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        channel_id, ts = split_ref(ref)
        try:
            self._call(
                "chat.update",
                channel=channel_id or self.channel,
                ts=ts,
                text=text,
                blocks=blocks,
                metadata=meta,
                link_names=False,
                parse="none",
            )
        except PermanentError as e:
            if "message_not_found" in e.message:  # deleted in the channel: no retry will find it again
                raise MessageGone(e.message, ref) from None
            if _frozen(e):  # there, but not to be changed any more: no retry will change it either
                raise MessageFrozen(e.message, ref) from None
            raise

    def target(self) -> str | None:
        """ "slack:<channel ID>", the channel's identity whether the config named it `#desk` or by its ID (resolved
        once by conversations.list, then cached; also learnt from every post's answer); None when Slack cannot be
        asked now or does not know the channel."""
        try:
            found = f"slack:{self._id()}"
        except NotifierError as e:
            # Asked at every intake: an unknown name's answer is kept (NOT_FOUND_RECHECK), so say it once per
            # look-up, not once per alert; any other reason each time it changes.
            said = repr(self._not_found) if self._not_found is not None else e.message
            if said != self._target_said:
                log.warning("slack %s: cannot tell the ID of %s now: %s", self.name, self.channel, e.message)
                self._target_said = said
            return None
        self._target_said = None
        return found

    def find_delivered(self, notice: Notice | Digest) -> str | None:
        """The reference of a message already posted for `notice` (its metadata carries the key), or None.

        For an attempt that may have got through (a crash after Slack accepted it, a timeout): looks through
        the thread's replies for a reply, else the channel's newest `history_limit` messages (PermanentError when
        it is not among them and there are more)
        (conversations.replies / .history with metadata; scopes channels:history, and channels:read when the
        channel is given by name). A channel conversations.list does not show is looked in by the ID its posts'
        answers named, or an earlier delivery's reference (learn_ref); with neither, NotYetLookable: it cannot be
        looked in until a delivery there succeeds. Raises TransientError / PermanentError like send()."""
        if isinstance(notice, Notice) and notice.thread is not None:
            channel_id, ts = split_ref(notice.thread.thread_ref)
            return self._look("conversations.replies", channel_id or self._look_id(), notice.key, ts=ts)
        if isinstance(notice, Notice) and notice.story is not None and notice.story.ref:
            # (another group's alert of a story: posted in the story's thread, where history does not list it)
            channel_id, ts = split_ref(notice.story.ref)
            return self._look("conversations.replies", channel_id or self._look_id(), notice.key, ts=ts)
        return self._look("conversations.history", self._look_id(), notice.key)

    def learn_ref(self, ref: str) -> None:
        """Take the channel's ID from the reference "CHANNELID:ts" of an earlier delivery to this channel (the
        ledger's): conversations.history works by ID, so a channel conversations.list does not show (a private one
        without groups:read) can still be looked in after an interrupted attempt."""
        channel_id, _ = split_ref(ref)
        if _is_id(channel_id):
            self._ref_id = channel_id

    def _id(self) -> str:
        return self._channel_id or self._resolve_channel_id()

    def _look_id(self) -> str:
        """The ID to look in: _id(), else, when conversations.list does not show the channel, the ID an earlier
        delivery's reference named (learn_ref); when there is none either, the error says the look cannot be made
        until a delivery there succeeds (its answer names the ID)."""
        try:
            return self._id()
        except PermanentError as e:
            if "not found by conversations.list" not in e.message:
                raise
            if self._ref_id is not None:
                return self._ref_id
            raise NotYetLookable(
                f"{e.message}; and no delivery there has succeeded yet, whose answer would name its ID to look in by"
            ) from None

    def posted_since(self, ref: str, limit: int) -> dict[str, str]:
        """Delivery key -> reference of this deployment's messages posted in the channel after the message `ref`
        (the newest the ledger records as sent here), the newest `limit` of them: after a store restored from a
        backup, what was delivered since the backup (conversations.history with `oldest`, paginated; the look after
        an interrupted attempt reads the same way). Replies in threads are not among them (history lists the
        channel's own messages). Raises TransientError / PermanentError like find_delivered."""
        self.learn_ref(ref)
        _, ts = split_ref(ref)
        found, _seen, _complete = self._scan("conversations.history", self._look_id(), limit, oldest=ts)
        return found

    def _look(self, method: str, channel_id: str, key: str, **extra: Any) -> str | None:
        found, seen, complete = self._scan(method, channel_id, self.history_limit, want=key, **extra)
        if key in found:
            return found[key]
        if complete:
            return None
        # More messages than the look reads: not found among them is not "not there" (a busy channel, a process
        # back hours after its crash). Saying so makes the dispatcher send with its "may arrive twice" warning.
        where = "thread" if method == "conversations.replies" else "channel"
        raise PermanentError(
            f"slack {self.name}: not among the {where}'s newest {seen:,} messages, and it holds more "
            f"({method} read back {self.history_limit:,} at most)"
        )

    def _scan(
        self, method: str, channel_id: str, limit: int, want: str | None = None, **extra: Any
    ) -> tuple[dict[str, str], int, bool]:
        """(key -> reference of this deployment's messages among the newest `limit` read, how many were read,
        whether that was all of them); stops at the first message of key `want` when given."""
        found: dict[str, str] = {}
        cursor = ""
        seen = 0
        while seen < limit:
            args: dict[str, Any] = {"channel": channel_id, "limit": min(200, limit - seen), **extra}
            args["include_all_metadata"] = True
            if cursor:
                args["cursor"] = cursor
            data = self._call(method, **args)
            messages = data.get("messages") or []
            for m in messages:
                meta = m.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                ours = meta.get("event_type") in (METADATA_EVENT_TYPE, DIGEST_EVENT_TYPE)
                # A message of before deployments were written (none in its metadata) is still taken as ours, as
                # it was: a message of this store's earlier attempt must be found, or it is posted twice.
                theirs = self.deployment is not None and payload.get("deployment") not in (None, self.deployment)
                key = payload.get("alert_id")
                if ours and isinstance(key, str) and not theirs:
                    found.setdefault(key, f"{channel_id}:{m.get('ts', '')}")  # (newest first: the newest copy)
                    if key == want:
                        return found, seen + len(messages), True
            seen += len(messages)
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor or not messages:
                return found, seen, True
        return found, seen, False

    def _resolve_channel_id(self) -> str:
        """The channel's ID: the configured one, else found by name with conversations.list (then kept). A name not
        found is not asked again for NOT_FOUND_RECHECK seconds: the same error is raised at once."""
        channel = self.channel
        if _is_id(channel):
            return channel  # already an ID
        if self._not_found is not None:
            at, message = self._not_found
            ago = self._clock() - at
            if ago < NOT_FOUND_RECHECK:
                again = f" (as a look-up {ago:.0f}s ago found; looked up again {NOT_FOUND_RECHECK:.0f}s after it)"
                raise PermanentError(message + again, channel_wide=True)
            self._not_found = None
        name = channel.lstrip("#")
        try:
            found = self._list_find(name)
        except PermanentError as e:
            if self._public_only or "missing_scope" not in e.message:
                raise
            # Slack lists private channels only to an app with groups:read, and may refuse the whole call without
            # it: public channels are still listed, and this process asks for them alone from now on (unless that
            # is refused too: another scope is missing, channels:read, which that error names).
            self._public_only = True
            try:
                found = self._list_find(name)
            except PermanentError:
                self._public_only = False
                raise
            log.warning("%s; looking among public channels only from now on", e.message)
        if found is not None:
            self._channel_id = found
            return found
        if self._public_only:
            message = (
                f"slack {self.name}: channel {channel!r} not found by conversations.list among public channels; "
                "the app lacks the groups:read scope, without which Slack lists no private channel (add it under "
                "OAuth & Permissions, reinstall the app, and /invite the bot to a private channel)"
            )
        else:
            message = (
                f"slack {self.name}: channel {channel!r} not found by conversations.list (no such channel, or a "
                "private one the bot was not invited to, or that the app cannot list without the groups:read scope)"
            )
        self._not_found = (self._clock(), message)
        raise PermanentError(message, channel_wide=True)

    def _list_find(self, name: str) -> str | None:
        """The ID of the channel named `name` in conversations.list, every page read; None when it is not there."""
        cursor = ""
        while True:
            types = "public_channel" if self._public_only else "public_channel,private_channel"
            args: dict[str, Any] = {"types": types, "limit": 1000}
            if cursor:
                args["cursor"] = cursor
            data = self._call("conversations.list", **args)
            for c in data.get("channels") or []:
                cid = c.get("id")
                if c.get("name") == name and isinstance(cid, str):
                    return cid
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return None

    def check(self) -> str:
        """auth.test, then the channel: found, and the bot a member. Raises PermanentError (or TransientError)
        saying what is wrong; returns what was checked."""
        auth = self._call("auth.test")
        bot = str(auth.get("user") or auth.get("user_id") or "?")
        try:
            channel_id = self._resolve_channel_id()
        except PermanentError as e:
            if "not found by conversations.list" not in e.message:
                raise
            # Posts to it may still work (by name). What that costs: an attempt that may have got through (a 5xx)
            # is looked for by the channel's ID, which only a delivery there tells (its answer, the ledger's refs).
            raise PermanentError(
                f"{e.message}. If posts to it work: after an attempt that may have got through, the alert is looked "
                "for by the ID an earlier delivery there was answered with; until one has succeeded, another alert "
                "due there goes first to tell it, and with none due the alert is sent again (at-least-once: "
                "possibly twice, never lost)",
                channel_wide=True,
            ) from None
        info = self._call("conversations.info", channel=channel_id).get("channel") or {}
        name = str(info.get("name") or self.channel.lstrip("#"))
        if info.get("is_archived"):
            raise PermanentError(f"slack {self.name}: #{name} ({channel_id}) is archived", channel_wide=True)
        if info.get("is_member") is False:
            raise PermanentError(
                f"slack {self.name}: the bot ({bot}) is not in #{name} ({channel_id}): /invite it there",
                channel_wide=True,
            )
        # a DM has no name (subscribed from one); a group DM's is Slack's "mpdm-…"
        place = (
            "a direct message" if info.get("is_im") else "a group direct message" if info.get("is_mpim") else f"#{name}"
        )
        self._check_history(place, channel_id, bot, info)
        return f"bot {bot} can post to {place} ({channel_id}) in {auth.get('team', '?')}"

    def _check_history(self, place: str, channel_id: str, bot: str, info: Mapping[str, Any]) -> None:
        """Raises PermanentError when the bot may not read the channel's history: then a post whose answer was lost
        (a timeout, a 5xx after Slack took it) cannot be looked for, and is sent again (trial 33, M2: one alert
        arrived four times during a flaky spell, and the start-up check had said all was well). The scope named is
        the one Slack's answer says it needed, else the one of the conversation's kind (history_scope). Slack's
        not_in_channel fails it as conversations.info's is_member false does: the bot is not in the channel."""
        try:
            self._call("conversations.history", channel=channel_id, limit=1)
        except PermanentError as e:
            error = e.answer.get("error")
            if error == "not_in_channel":  # (conversations.info did not say so: a DM's kind has no is_member)
                raise HistoryUnreadable(
                    f"slack {self.name}: the bot ({bot}) is not in {place} ({channel_id}): conversations.history "
                    "answered not_in_channel: it cannot read its history (a post whose answer is lost cannot be looked "
                    "for, and is sent again), and its posts there fail (unless the app may post to public channels it "
                    "is not in, chat:write.public): /invite it there",
                    channel_wide=True,
                ) from None
            if error != "missing_scope":
                return  # what else history says is said again, when it matters, by the delivery that asks
            needed = str(e.answer.get("needed") or "")
            scope = history_scope(info, needed)
            # Slack's own words, not the message's generic hint (which lists the scopes of every kind of channel)
            said = (
                f"conversations.history: missing_scope, needed {needed}"
                if needed
                else "conversations.history: missing_scope"
            )
            raise HistoryUnreadable(
                f"slack {self.name}: the bot can post to {place} ({channel_id}) but not read its history "
                f"({said}). Without {scope}, a post whose answer is lost (a timeout, a 5xx) cannot be looked "
                f"for and is sent again: it may arrive twice or more. Add {scope} under OAuth & Permissions and "
                "reinstall the app",
                channel_wide=True,
            ) from None
        except TransientError:
            return  # Slack busy: the posts' own check is done; history is asked again when it is needed

    # -- internals --

    def _with_earlier_link(self, notice: Notice) -> Notice:
        """`notice` with a link to the message of the earlier story its "Again: …" line names (chat.getPermalink,
        once per message: trial 29, F7); as it is when there is none, or Slack does not give one. Only an answer is
        kept (a link, or a permanent error such as message_not_found): after a transient one (a 5xx, a connection
        error) the next message naming that story asks again; after a rate limit, the first message past the wait
        Slack asked for (Retry-After) does, and those before it go without the link."""
        earlier = notice.earlier
        if earlier is None:
            return notice
        linked = self._linked(earlier)
        return notice if linked is earlier else dataclasses.replace(notice, earlier=linked)

    def _linked(self, earlier: EarlierStory) -> EarlierStory:
        """`earlier` with the link to its story's message (as _with_earlier_link says), or as it is."""
        if earlier.link or not earlier.ref:
            return earlier
        link = self._permalinks.get(earlier.ref)
        if link is None and self._clock() < self._permalink_after:
            return earlier  # rate-limited: asking sooner would only be refused again, and delay the post it is for
        if link is None:
            channel_id, ts = split_ref(earlier.ref)
            link = ""
            if channel_id and ts:
                try:
                    got = self._call("chat.getPermalink", channel=channel_id, message_ts=ts)
                    link = str(got.get("permalink") or "")
                except TransientError as e:  # Slack busy, or the network: not kept, the next message asks again
                    log.debug("slack %s: no permalink for %s yet: %s", self.name, earlier.ref, e.message)
                    if e.retry_after:
                        self._permalink_after = self._clock() + e.retry_after
                    return earlier
                except PermanentError as e:  # message_not_found, channel_not_found, …: kept, the line names the
                    # alert without a link, as before
                    log.debug("slack %s: no permalink for %s: %s", self.name, earlier.ref, e.message)
            if len(self._permalinks) >= PERMALINKS_KEPT:
                self._permalinks.clear()
            self._permalinks[earlier.ref] = link
        return dataclasses.replace(earlier, link=link) if link else earlier

    def _call(self, method: str, **kwargs: Any) -> Mapping[str, Any]:
        where = f"slack {self.name} {method}"
        try:
            if method == "chat.postMessage":
                resp = self._client.chat_postMessage(**kwargs)
            elif method == "chat.update":
                resp = self._client.chat_update(**kwargs)
            elif method.startswith("conversations.") or method == "chat.getPermalink":  # reads: query arguments
                resp = self._client.api_call(method, http_verb="GET", params=kwargs)
            else:
                resp = self._client.api_call(method, json=kwargs or None)
        except SlackApiError as e:
            raise self._classify(where, e) from None
        except SlackRequestError as e:  # bad base_url or arguments: a configuration problem
            raise PermanentError(self._redact(f"{where}: invalid request: {e}")) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, http.client.HTTPException) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            # Refused: nothing reached Slack. Anything else (a timeout above all) may have been processed.
            unsent = isinstance(reason, ConnectionRefusedError | socket.gaierror)
            message = self._redact(f"{where}: network error: {type(reason).__name__}: {reason}")
            raise TransientError(
                message, channel_wide=True, maybe_delivered=not unsent, unanswered=not unsent
            ) from None
        except SlackClientError as e:
            raise PermanentError(self._redact(f"{where}: {type(e).__name__}: {e}")) from None
        data = resp.data
        return data if isinstance(data, dict) else {}

    def _classify(self, where: str, e: SlackApiError) -> NotifierError:
        resp = e.response
        status = int(getattr(resp, "status_code", 0) or 0)
        data = getattr(resp, "data", None)
        error = str(data.get("error", "")) if isinstance(data, dict) else ""
        headers = getattr(resp, "headers", None) or {}
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        hint = f" ({HINTS[error]})" if error in HINTS else ""
        needed = data.get("needed") if isinstance(data, dict) else None
        if error == "missing_scope" and isinstance(needed, str) and needed:
            # Slack names the scope the call needed: say that one, not the whole list.
            hint = f" (the app lacks the {needed} scope: add it under OAuth & Permissions and reinstall the app)"
        said = error or "unknown error"
        if error.startswith(NON_JSON):
            # slack-sdk's "Received a response in a non-JSON format: " then the body, often empty (a proxy's 503):
            # say what it means (outside trial 69, L7: the line ended at the colon).
            body = " ".join(error[len(NON_JSON) :].lstrip(": ").split())
            said = "an answer that is not Slack's JSON (" + (f"body: {body[:120]!r}" if body else "empty body") + ")"
        if status == 404 and self._base_url is not None:  # most likely a base_url that is not the Web API root
            url = str(getattr(resp, "api_url", "") or "")
            said = said[:120]  # a web server's 404 page must not crowd out the hint
            hint = (
                f" (URL {url}, from base_url {self._base_url!r}: base_url must be the Web API root, e.g. "
                "https://slack.com/api/, ending in /api/)"
            )
        message = self._redact(f"{where}: HTTP {status}: {said}{hint}"[:500])
        # Slack's answer, its fields that say what failed (not the whole body: a web server's page, or an echo)
        fields = ("error", "needed", "provided")
        answer = {k: self._redact(str(data[k])) for k in fields if isinstance(data, dict) and k in data}
        if status in GATEWAY_STATUSES:  # a proxy's, not Slack's: the post may still be on its way behind it
            return TransientError(
                message,
                retry_after=retry_after,
                channel_wide=True,
                maybe_delivered=True,
                answer=answer,
                unanswered=True,
            )
        if status >= 500:  # the server failed while handling it: it may have posted
            return TransientError(
                message, retry_after=retry_after, channel_wide=True, maybe_delivered=True, answer=answer
            )
        unreadable = not isinstance(data, dict) or error.startswith(NON_JSON)  # slack-sdk's words for it
        if error in PARTIAL_ERRORS or (200 <= status < 300 and unreadable):
            # Slack says of these that some of the call may have succeeded; and a 2xx whose body is not Slack's
            # JSON (a proxy's page) was answered by something after the request went through. Either way the
            # message may be in the channel: look before sending again.
            return TransientError(
                message, retry_after=retry_after, channel_wide=True, maybe_delivered=True, answer=answer
            )
        if status in (408, 429) or error in TRANSIENT_ERRORS:
            return TransientError(message, retry_after=retry_after, channel_wide=True, answer=answer)
        return PermanentError(message, retry_after=retry_after, channel_wide=error in CHANNEL_ERRORS, answer=answer)

    def _redact(self, text: str) -> str:
        return redact(text, self._token)


UNSENT_LINE = "Failed to send a request to Slack API server"  # how slack_sdk logs a request with no answer


class _RedactFilter(logging.Filter):
    """Masks the token in slack_sdk's log records (it logs raw response bodies, which could echo it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(UNSENT_LINE):
            # slack_sdk's line for a request that got no answer (refused, timed out): _call raises it as a
            # TransientError that the delivery logs in its own words with the next attempt's time, so this was
            # said twice (outside trial 67, LOW-5: 10 such lines a minute while the Slack server was down).
            return False
        if self._token in message:
            record.msg = redact(message, self._token)
            record.args = ()
        return True


def _redacting_logger(token: str) -> logging.Logger:
    """A private logger for one WebClient: same name and handlers as slack_sdk's, plus a token filter.

    It is not registered with logging's manager, so notifiers don't pile filters onto a shared logger.
    """
    parent = logging.getLogger("slack_sdk.web.base_client")
    logger = logging.Logger(parent.name)
    logger.parent = parent
    logger.addFilter(_RedactFilter(token))
    return logger


def history_scope(info: Mapping[str, Any], needed: str = "") -> str:
    """The scope conversations.history needs for the conversation conversations.info described as `info`: the one
    Slack's missing_scope answer named (`needed`; of a list of scopes, the one of the conversation's kind when it is
    among them), else the one of its kind: a DM's im:history, a group DM's mpim:history (Slack calls it private
    too), a private channel's groups:history, a public one's channels:history."""
    if info.get("is_im"):
        kind = "im:history"
    elif info.get("is_mpim"):
        kind = "mpim:history"
    elif info.get("is_private"):
        kind = "groups:history"
    else:
        kind = "channels:history"
    named = [s.strip() for s in needed.split(",") if s.strip()]
    if not named or kind in named:
        return kind
    return " or ".join(named)


def _frozen(e: PermanentError) -> bool:
    """Whether chat.update's error says the message may not be changed any more (FROZEN_ERRORS)."""
    return any(f": {code}" in e.message for code in FROZEN_ERRORS)  # (`…: HTTP 200: cant_update_message`)


def _is_id(channel: str) -> bool:
    """Whether `channel` is a Slack conversation ID (C…, G…, D…), not a name."""
    return channel[:1] in ("C", "G", "D") and channel.isalnum() and channel.isupper()


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    want = name.lower()
    for key, value in headers.items():
        if str(key).lower() == want:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None
