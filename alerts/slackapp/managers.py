"""Who may change what channels get from Slack: the `slack.managers` allow-list (user ids and user groups).

Subscribing, unsubscribing, silencing and unsilencing change what everyone in a channel is sent, so with
`managers:` set only those users, and members of those user groups, may do them; reading (list, silences, rules,
help) and Acknowledge stay open to everyone in the channel. With no `managers:`, anyone may, as before.

A user group's members are asked of Slack (usergroups.users.list) through the request's client and kept for
GROUP_TTL, so a change in Slack applies within minutes without a call on every click. When Slack cannot say
(a missing `usergroups:read` scope, a deleted group, Slack unreachable), the action is refused: an allow-list
that lets everyone in whenever the look-up fails would be no allow-list.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from watchfloor.schemas.config import SLACK_USER_GROUP_ID, SLACK_USER_ID

from ..notifiers.slack import escape

log = logging.getLogger(__name__)

GROUP_TTL = 300.0  # seconds a user group's members are kept before Slack is asked again
LOOKUP_TIMEOUT = 2  # seconds for usergroups.users.list: it and the reply must fit in Slack's 3
MENTIONED = 20  # managers named in a refusal; a longer list ends with "and N more"

_USER = re.compile(SLACK_USER_ID)
_GROUP = re.compile(SLACK_USER_GROUP_ID)


def mention(manager_id: str) -> str:
    """How a reply names a manager: a Slack mention, built only from an id that matches Slack's pattern (the config
    checked it; checked again here because the id goes into the mention unescaped). Anything else is quoted."""
    if _USER.match(manager_id):
        return f"<@{manager_id}>"
    if _GROUP.match(manager_id):
        return f"<!subteam^{manager_id}>"
    return f"`{escape(manager_id[:40])}`"


class GroupLookupError(Exception):
    """Slack did not say who is in a user group: its error code, or what failed."""


class Managers:
    """The allow-list of one app, with the user groups' members cached across requests (one instance per app;
    requests are served on several threads)."""

    def __init__(
        self,
        ids: Sequence[str],
        *,
        ttl: float = GROUP_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ids = tuple(dict.fromkeys(ids))
        self.users = frozenset(i for i in self.ids if not _GROUP.match(i))
        self.groups = tuple(i for i in self.ids if _GROUP.match(i))
        self.ttl = ttl
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}  # group -> (asked at, members)
        self._lock = threading.Lock()

    @property
    def anyone(self) -> bool:
        """No allow-list: anyone in the channel may manage it."""
        return not self.ids

    def refusal(self, user_id: str, client: WebClient, action: str) -> str | None:
        """None when `user_id` may do `action` (words for the reply: "silence alerts"); else the reply saying who
        may. Never raises for a failed look-up: that is a refusal too."""
        if self.anyone or (user_id and user_id in self.users):
            return None
        failed: list[tuple[str, str]] = []
        if user_id:
            for group in self.groups:
                try:
                    if user_id in self.members(client, group):
                        return None
                except GroupLookupError as e:
                    failed.append((group, str(e)))
        who = self.named()
        if failed:
            # Not shown as "you are not a manager": that is not known. Said so the person (or the operator, from
            # the log) can tell a broken look-up from a missing permission.
            group, problem = failed[0]
            log.warning(
                "slack app: refused %s by %s: could not ask Slack who is in %s: %s", action, user_id, group, problem
            )
            return (
                f":no_entry: Could not check that you may {action}: Slack did not say who is in {mention(group)} "
                f"(usergroups.users.list: {escape(problem[:200])}). Nothing was recorded. Only {who} may do this; "
                + _what_to_do(problem)
            )
        log.info("slack app: refused %s by %s: not one of slack.managers", action, user_id or "an unnamed user")
        return (
            f":no_entry: Only {who} may {action} from Slack here; nothing was recorded. Ask one of them, or whoever "
            f"runs watchfloor (the `slack.managers` list of its config). Anyone may `list`, see `silences` and "
            "acknowledge alerts."
        )

    def named(self) -> str:
        """The managers as mentions, user groups said as such."""
        shown = [mention(i) + (" (members of that group)" if _GROUP.match(i) else "") for i in self.ids[:MENTIONED]]
        more = len(self.ids) - MENTIONED
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

    def members(self, client: WebClient, group: str) -> frozenset[str]:
        """The user ids in `group`, from the cache while it is fresh, else from Slack (GroupLookupError when Slack
        does not say). A failure is not cached: the next request asks again."""
        now = self.clock()
        with self._lock:
            cached = self._members.get(group)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        # The lock is not held across the call: two requests at once may both ask, which costs a call, not a wait.
        members = group_members(client, group)
        with self._lock:
            self._members[group] = (now, members)
        return members


def _what_to_do(problem: str) -> str:
    """What a refusal on a failed group look-up tells the person to do: a group Slack does not know, or a scope the
    app lacks, is the config's or the installation's to fix (trying again changes nothing: trial L8); anything
    else (a rate limit, Slack unreachable) may pass."""
    if problem in ("no_such_subteam", "subteam_not_found"):
        return (
            "that user group, named in `slack.managers` of watchfloor's config, was not found in this workspace "
            "(deleted, or a wrong id): ask whoever runs watchfloor to correct the list."
        )
    if problem == "missing_scope":
        return (
            "the app lacks the `usergroups:read` scope it needs to ask Slack who is in a user group: ask whoever "
            "runs watchfloor to add it and reinstall the app."
        )
    return "try again in a few minutes, or ask whoever runs watchfloor."


def group_members(client: WebClient, group: str) -> frozenset[str]:
    """usergroups.users.list of `group`, through `client` (Bolt's for this request, so its timeout is ours to set)."""
    client.timeout = min(client.timeout or LOOKUP_TIMEOUT, LOOKUP_TIMEOUT)
    try:
        users = client.usergroups_users_list(usergroup=group).get("users")
    except SlackApiError as e:
        data = e.response.data if isinstance(e.response.data, dict) else {}
        raise GroupLookupError(str(data.get("error") or f"HTTP {e.response.status_code}")) from None
    except (SlackClientError, OSError) as e:  # unreachable, timed out
        raise GroupLookupError(f"{type(e).__name__}: {e}") from None
    if not isinstance(users, list):
        raise GroupLookupError("answered without a list of users")
    return frozenset(str(u) for u in users)
