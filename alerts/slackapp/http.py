"""The request URL's HTTP side: each request's Slack signature is checked on its raw bytes before anything reads
the body, then Bolt gets it.

Bolt's Flask adapter parses the body (JSON, or the form's `payload`) while it builds the request, before its own
signature check runs, and its check raises on a non-ASCII signature or a timestamp that is not a number: an
unsigned or forged request could get a 500 page and a traceback instead of the 401 the README promises. Here a
missing, malformed, wrong or over-5-minutes-old signature is a 401 and one log line; a correctly signed body
that does not parse is a 400.

The headers are checked before the body is read at all: the request URL is public, and a request without Slack's
two signature headers, or with a timestamp outside the 5 minutes, is refused without copying its body into memory
(the server also caps bodies: watchfloor.web.server.MAX_BODY_BYTES).

A signed request is taken once: the same signed bytes again within the 5 minutes (a replay by whoever saw them, in
a proxy's log say) are refused. Each request taken is claimed in the store (ControlLog.claim_slack_request: one
`slack.request.taken` event under a digest of its signature, appended before the request is handed to Bolt), so a
replay is refused by every `serve` process on the store, and after a restart; a process also keeps the signatures it
took for the window, which refuses a replay it saw without asking the store. (The log keeps those events, one per
command, click or event, a few a day for a desk; the control log's state never reads them.)
Slack's own retries of an event carry X-Slack-Retry-Num and pass on to the
event-id check (alerts/slackapp/app.py), which answers each event once across processes; that header is not signed,
so it is heeded only on an Events API event (a command or a click replayed with it added is refused all the same).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from flask import Request, Response, jsonify
from slack_bolt import App
from slack_bolt.adapter.flask.handler import to_flask_response
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 5 * 60  # Slack's and Bolt's window: an older signed request is a replay


class WatchfloorApp(App):
    """Bolt's App, keeping its signing secret where the HTTP handler can check requests before Bolt reads them."""

    def __init__(self, *, signing_secret: str, **kwargs: Any) -> None:
        super().__init__(signing_secret=signing_secret, **kwargs)
        self.signing_secret = signing_secret


def header_problem(headers: Mapping[str, str], now: float) -> str | None:
    """Why a request's signature headers cannot be Slack's, from the headers alone (None: they may be): what can be
    refused before the body is read. Never raises on what a sender controls."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if timestamp is None or signature is None:
        return "no X-Slack-Signature / X-Slack-Request-Timestamp"
    # isdigit alone accepts non-ASCII digits ('٣') that int() reads; the length keeps int() small
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
        return "an X-Slack-Request-Timestamp that is not a number"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "signed over 5 minutes from now"
    if not signature.isascii():  # hmac.compare_digest refuses non-ASCII str with a TypeError
        return "a malformed X-Slack-Signature"
    return None


def signature_problem(secret: str, headers: Mapping[str, str], raw_body: bytes, now: float) -> str | None:
    """Why a request is not signed by Slack with `secret` (None: it is). Never raises on what a sender controls."""
    problem = header_problem(headers, now)
    if problem is not None:
        return problem
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lowered["x-slack-request-timestamp"], lowered["x-slack-signature"]
    # Slack's signing scheme as slack-sdk computes it; compared here, where the headers are known to be sane.
    expected = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=raw_body)
    if expected is None or not hmac.compare_digest(expected.encode(), signature.encode()):
        return "a wrong signature"
    return None


class SeenRequests:
    """The signatures of the signed requests this process took in the last 5 minutes (older ones are refused on
    their timestamp anyway, so they are let go of): a replay to this process, told without the store. Thread-safe
    (waitress serves in threads)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}  # signature -> its request's timestamp
        self._lock = threading.Lock()

    def take(self, signature: str, timestamp: int, now: float) -> bool:
        """True the first time this process sees `signature`; False for the same signed request again."""
        with self._lock:
            if signature in self._seen:
                return False
            if len(self._seen) >= 1024:  # let go of those past the window (a dict keeps insertion order)
                horizon = now - MAX_AGE_SECONDS - 60
                self._seen = {s: t for s, t in self._seen.items() if t >= horizon}
            self._seen[signature] = timestamp
            return True

    def forget(self, signature: str) -> None:
        with self._lock:
            self._seen.pop(signature, None)


def request_digest(signature: str) -> str:
    """What the store keeps of a signed request to know it again: a digest of its signature (which covers its
    timestamp and bytes), not the signature itself."""
    return hashlib.sha256(signature.encode("ascii")).hexdigest()[:40]


class SlackHttpHandler:
    """Hands POST /slack/events to the Bolt app once its signature is good (in place of Bolt's Flask adapter)."""

    def __init__(
        self,
        app: WatchfloorApp,
        *,
        now: Callable[[], float] = time.time,
        claim: Callable[[str], bool] | None = None,
    ) -> None:
        """`claim`: takes a request's digest (request_digest) in the store, True the first time any process does
        (ControlLog.claim_slack_request); None: this process's memory alone (a replay after a restart, or to another
        process, is not caught)."""
        self.app = app
        self.now = now
        self.seen = SeenRequests()
        self.claim = claim

    def handle(self, req: Request) -> Any:
        headers = dict(req.headers.items())
        now = self.now()
        # refused on its headers first: an unsigned body is never read (and over MAX_CONTENT_LENGTH, get_data's 413)
        problem = header_problem(headers, now) or signature_problem(
            self.app.signing_secret, headers, req.get_data(cache=True), now
        )
        if problem is not None:
            log.warning("slack app: refused a request from %s: %s", req.remote_addr or "?", problem)
            return _error(401, "invalid request")
        lowered = {k.lower(): v for k, v in headers.items()}
        raw = req.get_data(cache=True)
        # Slack's retries of an event may repeat its bytes; the event-id check answers each event once. The retry
        # header is not signed, so it lets through only an Events API event (Slack retries nothing else), never a
        # command or a click replayed with the header added.
        retried = "x-slack-retry-num" in lowered and _is_event_callback(raw)
        if not retried:
            signature = lowered["x-slack-signature"]
            taken = self.seen.take(signature, int(lowered["x-slack-request-timestamp"]), now)
            if taken and self.claim is not None:
                try:
                    taken = self.claim(request_digest(signature))
                except Exception as e:  # the store unreachable or locked: nothing the request asks could be kept
                    self.seen.forget(signature)  # (Slack's retry of an event, or the user's again, may be taken)
                    log.warning("slack app: could not record a request in the store: %s: %s", type(e).__name__, e)
                    return _error(503, "the store is unavailable; try again")
            if not taken:
                log.warning(
                    "slack app: refused a request from %s: a replay of one taken before", req.remote_addr or "?"
                )
                return _error(401, "invalid request")
        try:
            bolt_request = BoltRequest(
                body=raw.decode("utf-8"), query=req.query_string.decode("utf-8"), headers=dict(req.headers)
            )
        except Exception as e:  # building it only parses the body: anything raised means a body we cannot read
            log.warning("slack app: a signed request whose body does not parse: %s: %s", type(e).__name__, e)
            return _error(400, "malformed request body")
        return to_flask_response(self.app.dispatch(bolt_request))


def _is_event_callback(raw: bytes) -> bool:
    """Whether a signed body is an Events API event with its id (what the app answers once by that id)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and body.get("type") == "event_callback" and bool(body.get("event_id"))


def _error(status: int, text: str) -> Response:
    resp = jsonify({"error": text})
    resp.status_code = status
    return resp
