"""The Slack app on slack-bolt, HTTP mode: `/watchfloor` commands, the alert buttons, and app mentions.

Bolt checks every request (v0 HMAC-SHA256 signature with the signing secret, timestamp within 5 minutes; else
401 and no listener runs) and dispatches it to the listeners below. Listeners run before the HTTP answer
(`process_before_response`): a command's reply is the ephemeral answer to the request itself, and a click is
in the log by the time Slack hears back. Each does little (one append, at most one Slack call), well inside
Slack's 3 seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from watchfloor.schemas.control import Actor

from ..notifiers.slack import escape
from . import clicks
from .buttons import ACK_ACTION, SILENCE_ACTION, SILENCE_FOR_HOURS, UNSUBSCRIBE_ACTION, parse_button_value
from .commands import AppContext, Membership, SlackChannelRef, mention_reply, run_command, who
from .http import WatchfloorApp
from .managers import Managers

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = 2  # seconds for conversations.info: it and the reply must fit in Slack's 3
NAME_BUDGET = 1  # seconds: the bot's name is asked (auth.test, this long at most) only after a quicker lookup
REPLY_TIMEOUT = 2  # seconds to post a click's reply to its response_url, before the click is answered
# slack-sdk's webhook client logs each failed post as an ERROR of its own; _say says it once, as a warning
_QUIET = logging.getLogger(f"{__name__}.response_url")
_QUIET.setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True)
class LookupTiming:
    """How long a command's membership lookup waits on Slack, and the clock that decides whether the bot's name is
    still asked. Served: the limits above in real time, so that both calls and the reply fit in Slack's 3 s. Tests
    give socket timeouts a loaded machine cannot reach and a stopwatch of their local Slack's injected delays (its
    `answer_delays`), so that what a reply says cannot change with the machine's load."""

    lookup_timeout: int = LOOKUP_TIMEOUT  # seconds for conversations.info (slack-sdk takes whole seconds)
    name_timeout: int = NAME_BUDGET  # seconds for auth.test, the bot's name
    name_budget: float = NAME_BUDGET  # auth.test is asked only when the lookup took less than this, by `stopwatch`
    stopwatch: Callable[[], float] = time.monotonic


REAL_TIME = LookupTiming()


def slack_actor(user: dict[str, Any] | None, user_id: str | None = None, user_name: str | None = None) -> Actor:
    user = user or {}
    return Actor(
        via="slack",
        user=str(user.get("id") or user_id or "") or None,
        name=str(user.get("username") or user.get("name") or user_name or "") or None,
    )


def build_app(
    ctx: AppContext,
    *,
    token: str,
    signing_secret: str,
    base_url: str | None = None,
    logger: logging.Logger | None = None,
    lookup_timing: LookupTiming = REAL_TIME,
) -> App:
    """A Bolt app for one workspace. The bot token is checked (auth.test) on the first request, not at start,
    so the server comes up while Slack is unreachable. `lookup_timing`: the membership lookup's limits and clock
    (real time; tests pass their own)."""
    # The token goes to Bolt, which builds its client from it. Handed a ready `client=` instead, Bolt still reads
    # $SLACK_BOT_TOKEN (the variable the README's channels use) and, finding it set, logs "As you gave `client` as
    # well, `token` will be unused." at every `serve`: a warning about nothing, that reads like a misconfiguration.
    app = WatchfloorApp(
        token=token,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        process_before_response=True,
        logger=logger or log,
    )
    if base_url:
        app.client.base_url = base_url  # Bolt gives each request's client its own client's base_url

    names: list[str] = []  # the bot's user name, once known
    managers = Managers(ctx.managers)  # one per app: its user groups' members are cached across requests

    @app.command(ctx.command)
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        channel = SlackChannelRef(str(command.get("channel_id") or ""), str(command.get("channel_name") or ""))
        actor = slack_actor(None, command.get("user_id"), command.get("user_name"))

        def membership(ch: SlackChannelRef) -> Membership:
            bot_id = str(context.bot_user_id or "")
            return membership_for_reply(client, ch.id, bot_id=bot_id, names=names, timing=lookup_timing)

        def announce(text: str) -> str:
            return post_in_channel(client, channel.id, text)

        def authorise(action: str) -> str | None:
            return managers.refusal(str(command.get("user_id") or ""), client, action)

        try:
            reply = run_command(
                ctx.now(),  # (one set of rules on offer for the whole command: AppContext.offer)
                str(command.get("text") or ""),
                channel,
                actor,
                membership=membership,
                announce=announce if channel.id else None,
                authorise=authorise,
            )
        except Exception:
            log.exception("slack app: command %r failed", command.get("text"))
            reply = ":x: Something went wrong on watchfloor's side; the error is in its log."
        ack(text=reply, response_type="ephemeral")

    @app.action(ACK_ACTION)
    def on_ack(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        value = _value(action, respond)
        if value is None:
            return
        now = ctx.now()  # (one set of rules on offer for the whole click)
        refused = clicks.refusal(now, value)
        if refused:
            _say(respond, f"Acknowledge click on alert {value.alert_id} refused", refused)
            return
        actor = slack_actor(body.get("user"))
        container = body.get("container") or {}
        slack_channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "") or None
        message = body.get("message")
        ts = str(container.get("message_ts") or (message or {}).get("ts") or "") or None
        click = clicks.acknowledge(now, value, actor, slack_channel, ts, message if isinstance(message, dict) else None)
        record, new = click.record, click.new
        said = clicks.ack_said(click)  # what it did beyond the button's own alert, if anything
        # chat.update replaces the whole message: without the message as Slack sent it (its blocks) there is
        # nothing to keep, and the alert would become one "Acknowledged" line. Say it here instead.
        if not (isinstance(message, dict) and message.get("blocks")):
            text = clicks.ack_line(record) if new else f"Already acknowledged by {who(record.by)}."
            _say(respond, f"Acknowledge click on alert {value.alert_id} recorded", f"{text}\n{said}".strip())
            return
        # A newer alert came in the thread after the message was drawn, or one it stood for was withdrawn: the message
        # as the click sent it is out of date (the dispatcher has drawn the thread's state since, and shows the
        # acknowledgement there on its next cycle): it is not written back (review 26, H2).
        if slack_channel and ts and click.newer is None and not click.stale:
            try:
                client.chat_update(
                    channel=slack_channel,
                    ts=ts,
                    text=str(message.get("text") or "watchfloor alert"),
                    # (the line in the channel's language, as the rest of the message)
                    blocks=clicks.acknowledged_blocks(message.get("blocks") or [], record, now.words([value.channel])),
                )
            except (SlackApiError, SlackClientError) as e:
                log.warning("slack app: acknowledged %s but could not update the message: %s", value.alert_id, e)
        if said:
            _say(respond, f"Acknowledge click on alert {value.alert_id} recorded", said)
        elif not new:
            text = f"Already acknowledged by {who(record.by)}."
            _say(respond, f"Acknowledge click on alert {value.alert_id} (already acknowledged) handled", text)

    @app.action(SILENCE_ACTION)
    def on_silence(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        value = _value(action, respond)
        if value is not None:
            refused = managers.refusal(_user_id(body), client, "silence alerts")
            if refused is not None:
                _say(respond, f"Silence click on alert {value.alert_id} refused (not a manager)", refused)
                return
            slack_channel = str(
                (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
            )

            def announce(text: str) -> str:
                return post_in_channel(client, slack_channel, text)

            reply = clicks.silence(
                ctx.now(), value, slack_actor(body.get("user")), announce=announce if slack_channel else None
            )
            _say(respond, f"Silence {SILENCE_FOR_HOURS}h click on alert {value.alert_id} ({value.rule}) handled", reply)

    @app.action(UNSUBSCRIBE_ACTION)
    def on_unsubscribe(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        value = _value(action, respond)
        if value is not None:
            refused = managers.refusal(_user_id(body), client, "unsubscribe this channel")
            if refused is not None:
                _say(respond, f"Unsubscribe click on alert {value.alert_id} refused (not a manager)", refused)
                return
            reply = clicks.unsubscribe_click(ctx.now(), value, slack_actor(body.get("user")))
            _say(respond, f"Unsubscribe click on alert {value.alert_id} ({value.rule}) handled", reply)

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        channel = event.get("channel")
        event_id = str(body.get("event_id") or "")
        # Slack sends an event again (X-Slack-Retry-Num) when the first delivery was not answered within 3 s,
        # though it may have been: to this process, another one behind the same URL, or one since restarted.
        # The first to claim the event id in the store answers it; the claim is made before the answer, so a
        # retry that arrives while the first is still answering is not answered twice (nor is a mention whose
        # answer failed answered again: the help text is not worth a second message).
        if event_id and not ctx.control.claim_slack_event(
            event_id,
            str(event.get("type") or "app_mention"),
            channel=str(channel) if channel else None,
            user=str(event.get("user")) if event.get("user") else None,
        ):
            log.info("slack app: event %s again (a retry): already answered", event_id)
            return
        if channel:
            # The help text is a courtesy: a failed post (the bot removed since, a rate limit, Slack down) is one
            # warning line, not a listener traceback; nothing else depends on it.
            try:
                client.chat_postMessage(
                    channel=channel,
                    thread_ts=event.get("thread_ts") or event.get("ts"),
                    text=mention_reply(ctx.now(), str(event.get("text") or "")),
                )
            except SlackApiError as e:
                data = e.response.data if isinstance(e.response.data, dict) else {}
                error = str(data.get("error") or f"HTTP {e.response.status_code}")
                log.warning("slack app: could not answer a mention in %s: chat.postMessage: %s", channel, error)
            except (SlackClientError, OSError) as e:
                log.warning("slack app: could not answer a mention in %s: %s: %s", channel, type(e).__name__, e)

    return app


def post_in_channel(client: WebClient, channel_id: str, text: str) -> str:
    """Post `text` (mrkdwn, escaped by the caller) in `channel_id` for everyone, as the app answers a mention: ""
    once posted, else Slack's error code or what failed (logged as one warning). Within LOOKUP_TIMEOUT, since the
    command or click it tells of is answered only after this, inside Slack's 3 seconds."""
    # Bolt makes this client for the one request, so its timeout can be shortened here without touching others'.
    client.timeout = min(client.timeout or LOOKUP_TIMEOUT, LOOKUP_TIMEOUT)
    try:
        # parse=none and link_names off: only the mentions the text spells out (<@U…>) are mentions
        client.chat_postMessage(
            channel=channel_id, text=text, parse="none", link_names=False, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as e:
        data = e.response.data if isinstance(e.response.data, dict) else {}
        problem = str(data.get("error") or f"HTTP {e.response.status_code}")
    except (SlackClientError, OSError) as e:
        problem = f"{type(e).__name__}: {e}"
    else:
        return ""
    log.warning("slack app: could not post in %s: chat.postMessage: %s", channel_id, problem)
    return problem


def bot_name(client: WebClient, names: list[str]) -> str:
    """The bot's user name (auth.test's `user`), for `/invite @name`, kept in `names` once known; "" when Slack
    does not say."""
    if not names:
        try:
            name = client.auth_test().get("user")
        except (SlackApiError, SlackClientError, OSError) as e:
            log.warning("slack app: auth.test for the bot's name: %s", e)
            return ""
        if isinstance(name, str) and name:
            names.append(name)
    return names[0] if names else ""


def membership_for_reply(
    client: WebClient,
    channel_id: str,
    *,
    bot_id: str,
    names: list[str],
    timing: LookupTiming = REAL_TIME,
) -> Membership:
    """channel_membership, and for a reply that says whom to /invite the bot's name: asked only when Slack
    answered (an error code, not unreachable), and only while the lookup left time for it (`timing.name_budget`,
    by `timing.stopwatch`: real time, which tests replace with the time their local Slack spent answering), so that
    both calls stay inside Slack's 3 s; else the reply names the bot by its mention alone."""
    started = timing.stopwatch()
    found = channel_membership(client, channel_id, bot_id=bot_id, timeout=timing.lookup_timeout)
    if found.member is False or (found.member is None and found.error.isidentifier()):
        if names or timing.stopwatch() - started < timing.name_budget:
            client.timeout = min(client.timeout or timing.name_timeout, timing.name_timeout)
            found = replace(found, bot_name=bot_name(client, names))
    return found


def channel_membership(
    client: WebClient, channel_id: str, *, bot_id: str = "", timeout: int = LOOKUP_TIMEOUT
) -> Membership:
    """Whether the bot is in `channel_id`, by conversations.info (`channel.is_member`; a direct message with the
    bot is `is_im`, without is_member). `channel_not_found` is a conversation the bot cannot see (a private channel
    it is not in, a direct message between others): not a member. Any other failure (missing scope, rate limit,
    network): member None, with what failed. Within `timeout` seconds (LOOKUP_TIMEOUT when served)."""
    # Bolt makes this client for the one request, so its timeout can be shortened here without touching others'.
    client.timeout = min(client.timeout or timeout, timeout)
    try:
        info = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as e:
        data = e.response.data if isinstance(e.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {e.response.status_code}")
        if error == "channel_not_found":
            log.info("slack app: a subscription refused: the bot cannot see %s (channel_not_found)", channel_id)
            return Membership(False, error, bot_id)
        log.warning("slack app: could not check that the bot is in %s: conversations.info: %s", channel_id, error)
        return Membership(None, error, bot_id)
    except (SlackClientError, OSError) as e:  # unreachable, timed out
        what = f"{type(e).__name__}: {e}"
        log.warning("slack app: could not check that the bot is in %s: conversations.info: %s", channel_id, what)
        return Membership(None, what, bot_id)
    if not isinstance(info, dict):
        return Membership(None, "conversations.info answered without the channel", bot_id)
    if info.get("is_im") or info.get("is_member") is True:
        return Membership(True, "", bot_id)
    if info.get("is_member") is False:
        log.info("slack app: a subscription refused: the bot is not in %s", channel_id)
        return Membership(False, "not_in_channel", bot_id)
    return Membership(None, "conversations.info does not say (no is_member)", bot_id)


def _user_id(body: dict[str, Any]) -> str:
    """Who clicked, as the signed payload says ("" when it does not: refused wherever managers are set)."""
    return str((body.get("user") or {}).get("id") or "")


def _value(action: dict[str, Any], respond: Respond) -> Any:
    try:
        return parse_button_value(str(action.get("value") or ""))
    except ValueError:
        log.warning("slack app: a click with a value that is not ours: %r", escape(str(action.get("value")))[:200])
        _say(respond, "a click with a value that is not ours refused", "This button is not one of watchfloor's.")
        return None


def _say(respond: Respond, done: str, text: str) -> None:
    """An ephemeral reply to a click, posted to its response_url as Bolt's `respond` posts it (slack-sdk's
    WebhookClient, with respond's URL, proxy and SSL context), but within REPLY_TIMEOUT and without a retry: the
    click is answered (200) only after this, and Slack waits 3 seconds. What the click asked for is done (recorded
    in the store) by then: a reply that cannot be posted (unreachable, too slow, an HTTP error) is one warning
    naming the action and the error, not an exception, so Slack shows no error for an action that happened."""
    if not respond.response_url:
        problem = "the click came without a response_url"
    else:
        client = WebhookClient(
            url=respond.response_url,
            timeout=REPLY_TIMEOUT,
            ssl=respond.ssl,
            proxy=respond.proxy,
            logger=_QUIET,
            retry_handlers=[],
        )
        try:
            answer = client.send(text=text, response_type="ephemeral", replace_original=False)
        except Exception as e:  # urllib's URLError / OSError / timeout, or whatever the webhook client raises
            problem = f"{type(e).__name__}: {e}"
        else:
            if 200 <= answer.status_code < 300:
                return
            problem = f"HTTP {answer.status_code} {answer.body}"
    line = f"{done}, but its reply could not be posted to Slack's response_url: {problem}"
    log.warning("slack app: %s", " ".join(line.split())[:500])  # one line, whatever the error's text
