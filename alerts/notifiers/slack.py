"""Slack notifier: chat.postMessage with Block Kit blocks, via slack_sdk.

Everything taken from articles or rules is escaped for Slack mrkdwn (&, <, >), so an article cannot ping
@channel or forge a link; the only control sequences in a message are the source links built here, from
http(s) URLs that cannot break out of their <url|label> brackets. mrkdwn text objects are sent with
verbatim=true and the message with parse=none / link_names=false, so Slack itself does not turn plain text
such as "@here" or "#general" into mentions either.

The bot token never appears in exceptions, reprs or returned details.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError

from watchfloor.schemas.events import Alert, Evidence
from watchfloor.schemas.timefmt import utc_text

from .base import PermanentError, TransientError, parse_retry_after, redact

log = logging.getLogger(__name__)

MAX_EVIDENCE = 5
MAX_SENTENCE = 600
HEADER_LIMIT = 150  # Slack: header text
TEXT_LIMIT = 3000  # Slack: section / text object
FIELD_LIMIT = 2000  # Slack: one section field
MAX_FIELDS = 10  # Slack: fields per section
FALLBACK_LIMIT = 3000

METADATA_EVENT_TYPE = "watchfloor_alert"

# ok:false error codes worth retrying. Everything else (channel_not_found, invalid_auth, not_in_channel,
# msg_too_long, invalid_blocks, ...) will fail the same way again.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

SEVERITY_EMOJI = {
    "low": ":large_blue_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":large_orange_circle:",
    "critical": ":red_circle:",
}


# --- formatting (pure) --------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape Slack's three control characters. Apply to every piece of text we did not write ourselves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """escape(text), cut (with an ellipsis) so the escaped result has at most `limit` characters.

    Cuts the raw text, never an escaped entity in half.
    """
    out = escape(text)
    if len(out) <= limit:
        return out
    parts: list[str] = []
    size = 0
    for ch in text:
        piece = escape(ch)
        if size + len(piece) > limit - 1:
            break
        parts.append(piece)
        size += len(piece)
    return "".join(parts) + "…"


def safe_url(url: str | None) -> str | None:
    """`url` ready to sit inside <url|label>, or None when it is not a plain http(s) URL.

    Rejects other schemes (javascript:, file:, mailto:, ...), and any '<', '>', '|', whitespace or control
    character that could end the link early or smuggle in a second one. '&' is escaped as Slack expects.
    """
    if not url:
        return None
    if any(c in "<>|" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """<url|label> with an escaped label when the URL is safe, else just the escaped label."""
    label = label or (url or "")
    safe = safe_url(url)
    text = fit(label, 200)
    return f"<{safe}|{text}>" if safe and text else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _severity_label(alert: Alert) -> str:
    det = alert.detection
    label = f"{SEVERITY_EMOJI.get(det.severity, '')} {escape(det.severity.upper())}".strip()
    if det.confidence == "unconfirmed":
        label += " (unconfirmed)"
    return label


def _evidence_text(ev: Evidence) -> str:
    when = utc_text(ev.published_at)
    head = f"{link(ev.url, ev.source)} · {when}"
    if ev.modality != "asserted":
        head += f" · _{escape(ev.modality)}_"
    quote = fit(_one_line(ev.sentence), MAX_SENTENCE)
    return f"{head}\n>{quote}"


def build_blocks(alert: Alert) -> list[dict[str, Any]]:
    """Block Kit blocks for `alert`: header, facts, description, up to MAX_EVIDENCE citations, footer."""
    det = alert.detection
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit(det.title or det.rule, HEADER_LIMIT)}},
    ]
    fields = [f"*Severity*\n{_severity_label(alert)}", f"*Rule*\n{fit(det.rule, FIELD_LIMIT - 10)}"]
    if det.group:
        group = ", ".join(f"{k}={v}" for k, v in det.group.items())
        fields.append(f"*Group*\n{fit(group, FIELD_LIMIT - 10)}")
    for key, values in det.attributes.items():
        if len(fields) >= MAX_FIELDS:
            break
        name = fit(key.replace("_", " ").capitalize(), 100)
        fields.append(f"*{name}*\n{fit(', '.join(values), FIELD_LIMIT - 110)}")
    blocks.append({"type": "section", "fields": [_mrkdwn(f) for f in fields]})
    if det.description:
        blocks.append({"type": "section", "text": _mrkdwn(fit(det.description, TEXT_LIMIT))})
    if det.evidence:
        blocks.append({"type": "divider"})
        shown = det.evidence[:MAX_EVIDENCE]
        blocks.append({"type": "context", "elements": [_mrkdwn(f"*Evidence* ({len(det.evidence)})")]})
        for ev in shown:
            blocks.append({"type": "section", "text": _mrkdwn(_evidence_text(ev))})
        if len(det.evidence) > len(shown):
            more = len(det.evidence) - len(shown)
            blocks.append({"type": "context", "elements": [_mrkdwn(f"+{more} more evidence not shown")]})
    fired = utc_text(det.fired_at)
    footer = f"alert {escape(alert.id)} · fired {fired}"
    blocks.append({"type": "context", "elements": [_mrkdwn(footer)]})
    return blocks


def fallback_text(alert: Alert) -> str:
    """The plain `text` shown in notifications and by clients that cannot render blocks (escaped)."""
    det = alert.detection
    unconfirmed = " (unconfirmed)" if det.confidence == "unconfirmed" else ""
    raw = f"[{det.severity.upper()}{unconfirmed}] {det.title or det.rule} ({det.rule})"
    return fit(_one_line(raw), FALLBACK_LIMIT)


def metadata(alert: Alert) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"alert_id": alert.id, "rule": alert.detection.rule},
    }


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
        timeout: int = 10,
        history_limit: int = 1000,
    ) -> None:
        if not token or not token.strip():
            raise ValueError(f"slack {name}: empty token")
        self.name = name
        self.channel = channel
        self._token = token.strip()
        kwargs: dict[str, Any] = {
            "token": self._token,
            "timeout": timeout,
            "retry_handlers": [],
            "logger": _redacting_logger(self._token),
        }
        if base_url is not None:
            kwargs["base_url"] = base_url
        self._client = WebClient(**kwargs)
        self._channel_id: str | None = None
        self.history_limit = history_limit

    def __repr__(self) -> str:
        return f"SlackNotifier(name={self.name!r}, channel={self.channel!r})"

    def send(self, alert: Alert) -> str:
        """Post `alert`; returns the message ts."""
        data = self._call(
            "chat.postMessage",
            channel=self.channel,
            text=fallback_text(alert),
            blocks=build_blocks(alert),
            metadata=metadata(alert),
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            parse="none",
        )
        if isinstance(data.get("channel"), str):
            self._channel_id = data["channel"]  # Slack answers with the channel's ID
        return str(data.get("ts", ""))

    def find_delivered(self, alert: Alert) -> str | None:
        """The ts of a message already posted for `alert` (its metadata carries the alert id), or None.

        For the dispatcher's one window: a crash after Slack accepted a message but before the ledger
        said "sent". Looks through the channel's newest `history_limit` messages (conversations.history
        with metadata; scopes channels:history, and channels:read when the channel is given by name).
        Raises TransientError / PermanentError like send()."""
        channel_id = self._channel_id or self._resolve_channel_id()
        cursor = ""
        seen = 0
        while seen < self.history_limit:
            args: dict[str, Any] = {"channel": channel_id, "limit": min(200, self.history_limit - seen)}
            args["include_all_metadata"] = True
            if cursor:
                args["cursor"] = cursor
            data = self._call("conversations.history", **args)
            messages = data.get("messages") or []
            for m in messages:
                meta = m.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == METADATA_EVENT_TYPE and payload.get("alert_id") == alert.id:
                    return str(m.get("ts", ""))
            seen += len(messages)
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor or not messages:
                return None
        return None

    def _resolve_channel_id(self) -> str:
        channel = self.channel
        if channel[:1] in ("C", "G", "D") and channel.isalnum() and channel.isupper():
            return channel  # already an ID
        name = channel.lstrip("#")
        cursor = ""
        while True:
            args: dict[str, Any] = {"types": "public_channel,private_channel", "limit": 1000}
            if cursor:
                args["cursor"] = cursor
            data = self._call("conversations.list", **args)
            for c in data.get("channels") or []:
                cid = c.get("id")
                if c.get("name") == name and isinstance(cid, str):
                    self._channel_id = cid
                    return cid
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                raise PermanentError(f"slack {self.name}: channel {channel!r} not found by conversations.list")

    def check(self) -> str:
        """auth.test: raises like send() when the token or the API is unusable; returns the bot's user id."""
        data = self._call("auth.test")
        return str(data.get("user_id", ""))

    # -- internals --

    def _call(self, method: str, **kwargs: Any) -> Mapping[str, Any]:
        where = f"slack {self.name} {method}"
        try:
            if method == "chat.postMessage":
                resp = self._client.chat_postMessage(**kwargs)
            elif method.startswith("conversations."):  # read methods take form/query arguments
                resp = self._client.api_call(method, http_verb="GET", params=kwargs)
            else:
                resp = self._client.api_call(method, json=kwargs or None)
        except SlackApiError as e:
            raise self._classify(where, e) from None
        except SlackRequestError as e:  # bad base_url or arguments: a configuration problem
            raise PermanentError(self._redact(f"{where}: invalid request: {e}")) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, http.client.HTTPException) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            raise TransientError(self._redact(f"{where}: network error: {type(reason).__name__}: {reason}")) from None
        except SlackClientError as e:
            raise PermanentError(self._redact(f"{where}: {type(e).__name__}: {e}")) from None
        data = resp.data
        return data if isinstance(data, dict) else {}

    def _classify(self, where: str, e: SlackApiError) -> TransientError | PermanentError:
        resp = e.response
        status = int(getattr(resp, "status_code", 0) or 0)
        data = getattr(resp, "data", None)
        error = str(data.get("error", "")) if isinstance(data, dict) else ""
        headers = getattr(resp, "headers", None) or {}
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        message = self._redact(f"{where}: HTTP {status}: {error or 'unknown error'}"[:500])
        if status == 429 or status == 408 or status >= 500 or error in TRANSIENT_ERRORS:
            return TransientError(message, retry_after=retry_after)
        return PermanentError(message)

    def _redact(self, text: str) -> str:
        return redact(text, self._token)


class _RedactFilter(logging.Filter):
    """Masks the token in slack_sdk's log records (it logs raw response bodies, which could echo it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
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


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    want = name.lower()
    for key, value in headers.items():
        if str(key).lower() == want:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None
