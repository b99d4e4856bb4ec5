"""`/watchfloor …` and the buttons, without Slack: parse the text, apply it to the control log, say what happened.

Replies are Slack mrkdwn, with everything a user typed (or a rule author wrote) escaped. Bad input gets one
line: the word that is wrong and what is accepted there, when one word is (in the CLI's words for the same
mistake), then the usage of the command it looked like.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import cast

from watchfloor.schemas.config import Subscription
from watchfloor.schemas.control import (
    Actor,
    Silence,
    SubscriptionCreated,
    check_digest,
    check_max_age,
    digest_problems,
    where_text,
)
from watchfloor.schemas.events import SEVERITY_RANK, Detection, Severity
from watchfloor.schemas.plural import counted
from watchfloor.schemas.rules import format_duration, parse_duration
from watchfloor.schemas.spellings import close_hint
from watchfloor.stream_processors.vocabulary import RuleVocabulary

from ..control import (
    ControlError,
    ControlLog,
    as_subscription,
    missing_targets,
    parse_group,
    parse_where,
    uncarried_tags,
)
from ..notifiers.slack import escape
from ..notifiers.slack_blocks import when_text
from ..notifiers.wording import Wording, wording
from ..routing import Spellings, covers, matches
from .buttons import SILENCE_FOR_HOURS

USAGE = {
    "subscribe": (
        "Usage: `/watchfloor subscribe RULE|tag:TAG|* [min=SEVERITY] [max_age=DURATION] "
        "[where KEY=VALUE…] [digest daily HH:MM Area/City]` (DURATION: 12h, 3d, 1w; "
        'VALUE: an entity id, name or alias, `place="Kursk Oblast"` quoted when it has spaces)'
    ),
    "unsubscribe": "Usage: `/watchfloor unsubscribe RULE|tag:TAG|*|SUBSCRIPTION-ID`",
    "list": "Usage: `/watchfloor list`",
    "silence": "Usage: `/watchfloor silence RULE [group=VALUE] for DURATION [reason…]` (DURATION: 30m, 2h, 1d, 1w; "
    "a group of several keys: `group=KEY=VALUE` per key)",
    "silences": "Usage: `/watchfloor silences`",
    "unsilence": "Usage: `/watchfloor unsilence SILENCE-ID`",
    "rules": "Usage: `/watchfloor rules`",
    "help": "Usage: `/watchfloor help`",
}
REPLY_LIMIT = 3500  # keep replies well inside Slack's message size
MAX_SILENCE = timedelta(days=90)


@dataclass(frozen=True)
class RuleInfo:
    id: str
    title: str
    description: str = ""
    severity: str = "medium"
    tags: tuple[str, ...] = ()
    group_by: tuple[str, ...] | None = None  # the rule's group keys; None: not known, a group is not checked
    # What a subscription's `where` can find in its alerts (group keys, captures, place); None: not known.
    where_keys: tuple[str, ...] | None = None
    # Of those, the ones that take only some entities (a closed capture, `place`) -> their entity ids.
    where_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The highest severity its alerts can have (its own, or its corroboration's); None: not known.
    max_severity: str | None = None


@dataclass(frozen=True)
class SlackChannelRef:
    """A Slack channel as a request names it."""

    id: str
    name: str = ""


# What Slack sends as `channel_name` where a channel has none to show (a private channel the request does not name,
# a direct message): not a name to show.
_NOT_NAMES = frozenset({"privategroup", "directmessage"})


def shown_name(channel: SlackChannelRef) -> str | None:
    """The channel's name as people know it ("kursk-desk"), when the request gave one."""
    name = channel.name.lstrip("#")
    return name if name and name not in _NOT_NAMES and not name.startswith("mpdm-") else None


@dataclass(frozen=True)
class Membership:
    """Whether watchfloor's bot is in a channel, as Slack says (conversations.info): `member` None when that could
    not be found out (`error`: Slack's error code, or what failed); the bot's user id and name, to say whom to
    invite."""

    member: bool | None
    error: str = ""
    bot_id: str = ""
    bot_name: str = ""


MembershipCheck = Callable[[SlackChannelRef], Membership]

# Whether the person asking may do what a managing command does ("silence alerts"): None when they may, else the
# reply that refuses it (managers.Managers.refusal, with the request's Slack client).
Authorise = Callable[[str], str | None]

# Posts a message for everyone in the channel a command was typed in (or a button clicked): "" once posted, else why
# not (Slack's error). Silencing and unsilencing are said there, not only to whoever did it: the silence holds back
# everyone's alerts in the channel.
Announce = Callable[[str], str]

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def who(actor: Actor) -> str:
    """A mention for a Slack user id (safe: checked), else the escaped name."""
    if actor.via == "slack" and actor.user and _SLACK_USER.match(actor.user):
        return f"<@{actor.user}>"
    return escape(actor.name or actor.user or "someone")


def announced(announce: Announce | None, text: str) -> str:
    """Post `text` in the channel with `announce`; what to add to the ephemeral reply: "" once posted (or when there
    is no channel to post to), else a warning that the channel was not told and why (what was done still holds)."""
    if announce is None:
        return ""
    problem = announce(text)
    if not problem:
        return ""
    return (
        f"\n:warning: This could not be posted in the channel for everyone (Slack: {escape(problem[:200])}); "
        "tell them yourself."
    )


@dataclass
class ChannelMap:
    """Which routing channels post to which Slack channel.

    Configured Slack channels name theirs by id or by name; a channel that no config entry names is routed as
    `slack:<id>`, delivered with the `slack:` section's token. New subscriptions typed in a channel go to the
    first configured channel that posts there, so the same channel is never posted to twice."""

    configured: dict[str, str] = field(default_factory=dict)  # routing name -> Slack channel id or name
    # routing name -> the ID of the Slack channel it posts to (conversations.list, by its notifier), None when it
    # cannot be told now. A channel given by name in the config is then known by the ID a command carries, even when
    # Slack names it otherwise (`channel_name=privategroup` for a private channel, a channel renamed since).
    resolve: Callable[[str], str | None] | None = None
    _ids: dict[str, str] = field(default_factory=dict)

    def channel_id(self, routing_name: str) -> str | None:
        target = self.configured.get(routing_name, "")
        if target[:1] in ("C", "G") and target.isalnum() and target.isupper():
            return target
        if routing_name in self._ids:
            return self._ids[routing_name]
        if self.resolve is None:
            return None
        found = self.resolve(routing_name)
        if found:
            self._ids[routing_name] = found  # IDs never change; a failure is asked again next time
        return found

    def routing_names(self, ch: SlackChannelRef) -> list[str]:
        wanted = {ch.id, ch.name, f"#{ch.name}"} - {"", "#"}
        names = [name for name, target in self.configured.items() if target in wanted]
        names += [name for name in self.configured if name not in names and ch.id and self.channel_id(name) == ch.id]
        return [*names, f"slack:{ch.id}"]

    def primary(self, ch: SlackChannelRef) -> str:
        return self.routing_names(ch)[0]

    def display(self, routing_name: str) -> str:
        """How a reply names a routing channel: <#C…> for Slack ids, the config name otherwise."""
        if routing_name.startswith("slack:"):
            return f"<#{routing_name[len('slack:') :]}>"
        target = self.configured.get(routing_name)
        return f"`{escape(routing_name)}` ({escape(target)})" if target else f"`{escape(routing_name)}`"


@dataclass
class AppContext:
    """Everything the commands and buttons act on."""

    control: ControlLog
    rules: Mapping[str, RuleInfo]
    channels: ChannelMap = field(default_factory=ChannelMap)
    entity_names: Mapping[str, str] = field(default_factory=dict)  # entity id -> display name
    entity_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # entity id -> gazetteer aliases
    command: str = "/watchfloor"
    managers: tuple[str, ...] = ()  # `slack.managers`: who may subscribe, silence… (empty: anyone); see managers.py
    # The wording of what is posted in a channel for everyone (a silence's start and end): the configured Slack
    # channels' `language` by routing name, and the `slack:` section's for the others (`slack:<id>`)
    languages: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"
    # Held while the rules on offer are replaced (offer) or read together (now): a command reads one set of them
    _swap: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def offer(
        self, rules: Mapping[str, RuleInfo], entity_names: Mapping[str, str], aliases: Mapping[str, tuple[str, ...]]
    ) -> None:
        """Offer other rules (`serve` when its rule files change): the catalogue, entity names and aliases together,
        so a command taking `now()` reads the old ones or the new ones, never the new catalogue with the old
        names (review 25, L4)."""
        with self._swap:
            self.rules, self.entity_names, self.entity_aliases = rules, entity_names, aliases

    def now(self) -> AppContext:
        """This context as it is now, for one command or click: the rules on offer read together (offer)."""
        with self._swap:
            return replace(self)

    def vocabulary(self) -> RuleVocabulary:
        """What a `where` is checked against (alerts.control.parse_where): the catalogue's rules as they describe
        themselves, and the packs' entity names and aliases."""
        rules = self.rules.values()
        return RuleVocabulary(
            keys={r.id: frozenset(r.where_keys) if r.where_keys is not None else None for r in rules},
            names=self.entity_names,
            values={r.id: {k: frozenset(v) for k, v in r.where_values.items()} for r in rules},
            aliases=self.entity_aliases,
            tags={r.id: frozenset(r.tags) for r in rules},
        )

    def words(self, routing_names: Sequence[str]) -> Wording:
        """The wording of the channel these routing names post to: the first configured one's language."""
        return wording(next((self.languages[n] for n in routing_names if n in self.languages), self.language))

    def group_shown(self, group: Mapping[str, str]) -> str:
        """A group as an alert's Group field shows it: its entity names ("Суджа", not `place=Суджа`), the same from a
        button (the alert's group keys) as from `group=` (any key) (outside trial 62, M3)."""
        return ", ".join(escape(self.entity_name(v)) for v in group.values())

    def entity_name(self, value: str) -> str:
        return self.entity_names.get(value, value)

    def group_text(self, group: Mapping[str, str]) -> str:
        if not group:
            return "all groups"
        return ", ".join(
            escape(self.entity_name(v)) if k == "*" else f"{escape(k)}={escape(self.entity_name(v))}"
            for k, v in group.items()
        )


class UsageError(ValueError):
    """Input that does not parse: the reply is the command's one-line usage, after what is wrong (`problem`,
    mrkdwn with the user's words already escaped) when that is known."""

    def __init__(self, command: str, problem: str = "") -> None:
        usage = USAGE.get(command, USAGE["help"])
        super().__init__(f":warning: {problem}. {usage}" if problem else usage)


def _word(text: str) -> str:
    """A word the user typed, quoted in a reply."""
    return f"`{escape(text[:60])}`"


def digest_problem(spec: str) -> str:
    """Why `spec` is not a digest schedule (`daily HH:MM [Area/City]`), naming each wrong word ("" when it is
    one), in the CLI's words (schemas.control.digest_problems), quoted for Slack."""
    try:
        check_digest(spec)
        return ""
    except ValueError as e:
        error = str(e)
    problems = digest_problems(spec, quote=_word)
    named = f" {_word(spec)}" if len(spec.split()) > 1 else ""  # a lone word is named by its problem
    return f"bad digest{named}: " + ("; ".join(problems) or escape(error))


# --- the command line -----------------------------------------------------------------------------------------


def run_command(
    ctx: AppContext,
    text: str,
    channel: SlackChannelRef,
    actor: Actor,
    *,
    membership: MembershipCheck | None = None,
    announce: Announce | None = None,
    authorise: Authorise | None = None,
) -> str:
    """The ephemeral reply to `/watchfloor TEXT` typed in `channel` by `actor`.

    `membership` asks Slack whether the bot is in a channel; `subscribe` calls it once the line has parsed, before
    anything is recorded, and refuses a channel the bot cannot post to (None: not checked). `announce` posts in
    `channel` for everyone: `silence` and `unsilence` say there who did what (None: nothing is posted).
    `authorise` is asked before a command that changes what the channel gets (MANAGING) is even parsed, and its
    refusal is the reply (None: anyone may)."""
    words = split_words(text)
    if not words:
        return help_text(ctx, channel)
    verb, args = words[0].lower(), words[1:]
    handler = _COMMANDS.get(verb)
    if handler is None:
        return f"Unknown command `{escape(verb[:40])}`. {USAGE['help']} lists the commands."
    action = MANAGING.get(handler)
    if action is not None and authorise is not None:
        refused = authorise(action)
        if refused is not None:
            return refused
    try:
        if handler is _cmd_subscribe:
            return _cmd_subscribe(ctx, args, channel, actor, membership=membership)
        if handler is _cmd_silence:
            return _cmd_silence(ctx, args, channel, actor, announce=announce)
        if handler is _cmd_unsilence:
            return _cmd_unsilence(ctx, args, channel, actor, announce=announce)
        return handler(ctx, args, channel, actor)
    except UsageError as e:
        return str(e)
    except ControlError as e:
        return f":warning: {escape(str(e))}"


_WORD = re.compile(r'(?:[^\s"]+|"[^"]*")+|\S+')
_QUOTED = re.compile(r'"([^"]*)"')


def split_words(text: str) -> list[str]:
    """The words of a command as a shell reads them; when that fails (an apostrophe in a reason: `don't`), words
    at spaces, still keeping a double-quoted part whole and without its quotes (`group="North Korea"`)."""
    text = text.replace("“", '"').replace("”", '"')
    try:
        return shlex.split(text)
    except ValueError:
        return [_QUOTED.sub(r"\1", w) for w in _WORD.findall(text)]


def help_text(ctx: AppContext, channel: SlackChannelRef | None = None) -> str:
    """The commands, in English; the buttons named as they read in `channel` (its language), and a `where` example
    with a place the rules on offer know (outside trial 62, M5: "Silence 24h" and `place=Kursk` in a Russian channel
    whose buttons read «Тишина 24 ч» and whose pack knows no Kursk)."""
    c = ctx.command
    words = ctx.words(ctx.channels.routing_names(channel)) if channel is not None else ctx.words([])
    place = _example_place(ctx)
    buttons = ", ".join([words.text("ack"), words.text("silence", hours=SILENCE_FOR_HOURS), words.text("unsubscribe")])
    return "\n".join(
        [
            "*watchfloor* — alerts on geopolitical news, in this channel.",
            f"`{c} subscribe RULE|tag:TAG|* [min=SEVERITY] [max_age=DURATION] [where KEY=VALUE…] "
            "[digest daily HH:MM Area/City]` — send alerts here (`max_age=3d`: alerts about reports older than that "
            f"when raised start no thread here; `where place={place}`: only alerts placed in {place})",
            f"`{c} unsubscribe RULE|tag:TAG|*|ID` — stop them",
            f"`{c} list` — this channel's subscriptions",
            f"`{c} silence RULE [group=VALUE] for DURATION [reason…]` — drop alerts here for a while",
            f"`{c} silences` — silences in force here",
            f"`{c} unsilence ID` — end a silence of this channel now",
            f"`{c} rules` — the rules you can subscribe to",
            f"Severities: low, medium, high, critical. Alerts have buttons: {buttons}.",
        ]
    )


def _example_place(ctx: AppContext) -> str:
    """A place for help's `where` example: Kursk when the rules on offer know it (or know no places at all), else
    the shortest-named place they know (one word where there is one: it needs no quotes)."""
    ids = {i for r in ctx.rules.values() for i in r.where_values.get("place", ())}
    known = {n.casefold() for i in ids for n in (i, ctx.entity_name(i), *ctx.entity_aliases.get(i, ()))}
    if not ids or "kursk" in known:
        return "Kursk"
    names = sorted({escape(ctx.entity_name(i)) for i in ids}, key=lambda n: (" " in n, len(n), n))
    return names[0]


_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>\s*)+")  # `<@U…>` (the app's, as Slack writes it)
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # how Slack escapes a message's text


def mention_reply(ctx: AppContext, text: str) -> str:
    """The answer to a mention of the app, `text` as Slack sends it (`<@U…> subscribe troop-engagement`): one that
    starts with a command word says which slash command to type, with the words given; any other gets the help.

    A mention is not run as the command: the command's answer is ephemeral (a mention is answered in the thread,
    for everyone), and the slash command is the one way in, with one set of checks (who may manage the channel,
    its name and the bot's membership from the command's payload)."""
    rest = _LEADING_MENTIONS.sub("", text, count=1) if _LEADING_MENTIONS.match(text) else ""
    for entity, char in _SLACK_ENTITIES:
        rest = rest.replace(entity, char)
    words = split_words(rest)
    verb = words[0].lower() if words else ""
    handler = _COMMANDS.get(verb)
    if handler is None or handler is _cmd_help:
        return help_text(ctx)
    typed = " ".join(rest.split()).replace("`", "'")  # one line, inside a code span (a backtick would end it)
    if len(typed) > 300:
        typed = typed[:299] + "…"
    return (
        f"Commands are typed as the slash command, not as a mention: use `{escape(ctx.command + ' ' + typed)}` "
        f"in this channel (its answer is only for you). `{ctx.command} help` lists the commands."
    )


def _cmd_help(ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor) -> str:
    return help_text(ctx, channel)


def parse_target(ctx: AppContext, word: str, verb: str) -> tuple[list[str], list[str]]:
    """RULE | tag:TAG | * -> (rules, tags)."""
    if word == "*":
        return ["*"], []
    if word.lower().startswith("tag:"):
        tag = word[4:].strip()
        if not tag:
            raise UsageError(verb, f"{_word(word)}: a tag after `tag:`, e.g. `tag:troops`")
        return ["*"], [tag]
    rule = rule_id(ctx, word)
    if rule is None:
        raise ControlError(unknown_rule(ctx, word))
    return [rule], []


def rule_id(ctx: AppContext, word: str) -> str | None:
    """The rule `word` names: its id, or the one id it spells in another case (`TROOP-ENGAGEMENT`, as `min=HIGH` is
    taken: trial L9); None when no rule, or more than one, is spelt so (a near miss is said by unknown_rule)."""
    if word in ctx.rules:
        return word
    folded = [r for r in ctx.rules if r.casefold() == word.casefold()]
    return folded[0] if len(folded) == 1 else None


def unknown_rule(ctx: AppContext, word: str) -> str:
    """`unknown rule 'wagner-mutney' (did you mean wagner-mutiny?)`, as a config's or a `where`'s misspelling is
    said."""
    return f"unknown rule {word!r}{close_hint(word, ctx.rules)}: `{ctx.command} rules` lists them"


_MAX_AGE_WORDS = ("max_age=", "max-age=")  # as in the config file, as the CLI's --max-age
_OPTION_WORDS = ("min=", *_MAX_AGE_WORDS)


def _cmd_subscribe(
    ctx: AppContext,
    args: Sequence[str],
    channel: SlackChannelRef,
    actor: Actor,
    *,
    membership: MembershipCheck | None = None,
) -> str:
    if not args:
        raise UsageError("subscribe")
    rules, tags = parse_target(ctx, args[0], "subscribe")
    min_severity = "low"
    digest: str | None = None
    max_age: timedelta | None = None
    filters: list[str] = []
    rest = list(args[1:])
    given: dict[str, str] = {}  # option -> the word that gave it: each once (trial L6: `min=high min=low`)
    while rest:
        word = rest.pop(0)
        option = (
            "min=" if word.lower().startswith("min=") else "max_age=" if word.lower().startswith(_MAX_AGE_WORDS) else ""
        )
        if option:
            if option in given:
                raise UsageError("subscribe", f"{_word(given[option])} and {_word(word)}: give `{option}` once")
            given[option] = word
        if word.lower() == "where":
            # KEY=VALUE words (or a bare VALUE, under any key) up to the next option: `min=` and `max_age=` are
            # options, never where keys, so they may follow in any order
            taken = 0
            while rest and rest[0].lower() != "digest" and not rest[0].lower().startswith(_OPTION_WORDS):
                filters.append(rest.pop(0))
                taken += 1
            if not taken:
                raise UsageError("subscribe", "`where` needs KEY=VALUE after it, e.g. `where place=Kursk`")
        elif word.lower().startswith("min="):
            min_severity = word[4:].lower()
            if min_severity not in SEVERITY_RANK:  # the CLI: `--min must be one of low, medium, high, critical`
                raise UsageError("subscribe", f"{_word(word)}: min must be one of {', '.join(SEVERITY_RANK)}")
        elif word.lower().startswith(_MAX_AGE_WORDS):
            max_age = _max_age(word)
        elif word.lower() == "digest":
            # the digest spec is the rest of the line; a max_age written after it is still read as one (and refused
            # with the digest, below, rather than making the spec unreadable)
            ages = [w for w in rest if w.lower().startswith(_MAX_AGE_WORDS)]
            for w in ages:
                max_age = _max_age(w)
            digest = " ".join(w for w in rest if w not in ages)
            rest = []
        else:
            raise UsageError("subscribe", f"{_word(word)} is not a subscribe option (min=, max_age=, where, digest)")
    if digest is not None:
        problem = digest_problem(digest)
        if problem:
            raise UsageError("subscribe", problem)
    try:
        check_max_age(digest, max_age)  # refused as `watchfloor subscriptions add --digest … --max-age …` is
    except ValueError as e:
        raise ControlError(str(e)) from None
    where = parse_where(filters, ctx.vocabulary(), rules, tags) if filters else {}
    routing_name = ctx.channels.primary(channel)
    # a tag no rule carries: said as the CLI says it (a rule that carries it may come later), not refused
    carried = {t for r in ctx.rules.values() for t in r.tags}
    warning = "".join(
        f"\n:warning: {escape(line[0].upper() + line[1:])}: nothing is sent for it until a rule carries it."
        for line in uncarried_tags(tags, carried)
    )
    # A channel no config entry names is posted to with the app's own token: the bot must be in it, or every alert
    # fails there (not_in_channel) until it expires. A configured channel is checked when the pipeline starts, with
    # the token its entry names (which may be another app's).
    if membership is not None and routing_name.startswith("slack:"):
        found = membership(channel)
        if found.member is False:
            return _not_a_member(found)
        if found.member is None:
            warning = _membership_unknown(found) + warning
    if digest is None:
        # Alerts this channel already gets, under another routing name or through a wider subscription (`#desk` in
        # the config, subscribed here again): say so rather than add a subscription that changes nothing.
        wanted = Subscription.model_construct(
            channel=routing_name,
            rules=list(rules),
            tags=list(tags),
            min_severity=min_severity,  # type: ignore[arg-type]
            digest=None,
            max_age=max_age,
            where=dict(where),
        )
        rule_tags = {r.id: r.tags for r in ctx.rules.values()}
        for have in (h for name in ctx.channels.routing_names(channel) for h in ctx.control.subscriptions(name)):
            wider = as_subscription(have)
            same = have.channel == routing_name and covers(wanted, wider)  # the very same: said below, as before
            if not same and covers(wider, wanted, rule_tags):
                # Every route of this search is this very channel: name the subscription, and the config's name the
                # channel has there, not the channel itself as if it were another (outside trial 69, L3).
                under = "" if have.channel.startswith("slack:") else f" under the config's channel `{have.channel}`"
                return (
                    f"This channel already gets {describe_subscription(ctx, have)} through its subscription "
                    f"`{have.id}`{under}, which covers what you asked for; nothing was added.{warning}"
                )
    try:
        sub, new = ctx.control.subscribe(
            routing_name,
            rules=rules,
            tags=tags,
            min_severity=min_severity,  # type: ignore[arg-type]
            digest=digest,
            max_age=max_age,
            where=where,
            by=actor,
            channel_name=shown_name(channel) if routing_name.startswith("slack:") else None,
        )
    except ValueError as e:  # a bad digest spec
        if "digest" in str(e):
            raise UsageError("subscribe") from None
        raise
    what = describe_subscription(ctx, sub)
    if not new:
        return f"This channel already gets {what} (`{sub.id}`).{warning}"
    return (
        f":white_check_mark: This channel now gets {what}. (`{sub.id}`){warning}{_unreachable(ctx, sub)}"
        + _made_redundant(ctx, sub, channel)
    )


def _made_redundant(ctx: AppContext, sub: SubscriptionCreated, channel: SlackChannelRef) -> str:
    """A note naming this channel's narrower subscriptions the new one covers (they send nothing more now), so the
    desk can drop them (outside trial 69, L3: a wider subscribe was added beside the narrower one, unsaid)."""
    wider = as_subscription(sub)
    rule_tags = {r.id: r.tags for r in ctx.rules.values()}
    narrower = [
        have
        for name in ctx.channels.routing_names(channel)
        for have in ctx.control.subscriptions(name)
        if have.id != sub.id and covers(wider, as_subscription(have), rule_tags)
    ]
    if not narrower:
        return ""
    ids = ", ".join(f"`{h.id}`" for h in narrower)
    one = len(narrower) == 1
    return (
        f" It covers what {ids} asked for, which {'sends' if one else 'send'} nothing more now (no alert is posted "
        f"twice): `{ctx.command} unsubscribe {narrower[0].id}` removes {'it' if one else 'the first'}."
    )


def _unreachable(ctx: AppContext, sub: SubscriptionCreated) -> str:
    """A warning when no rule the subscription takes can raise an alert of its `min` severity (outside trial 30, F9:
    `min=critical` for a rule whose alerts are at most high was taken, and could never send anything); "" else."""
    want = SEVERITY_RANK.get(str(sub.min_severity), 0)
    if want == 0:
        return ""
    taken = [
        r
        for r in ctx.rules.values()
        if ("*" in sub.rules or r.id in sub.rules) and (not sub.tags or set(sub.tags) & set(r.tags))
    ]
    if not taken or any(r.max_severity is None or SEVERITY_RANK.get(r.max_severity, 99) >= want for r in taken):
        return ""
    most = max((str(r.max_severity) for r in taken), key=lambda x: SEVERITY_RANK.get(x, 0))
    names = ", ".join(f"`{escape(r.id)}`" for r in taken[:5]) + (" …" if len(taken) > 5 else "")
    return (
        f"\n:warning: No alert of {names} can be {escape(str(sub.min_severity))}: at most {escape(most)}. This "
        "subscription gets nothing until a rule can (`unsubscribe` removes it)."
    )


def _invite(found: Membership) -> tuple[str, str]:
    """How a reply names the bot (a mention Slack renders) and the /invite line to type."""
    who = f"<@{escape(found.bot_id)}>" if found.bot_id else "watchfloor's bot"
    # Without its name (auth.test failed, or no time was left to ask): the mention, which Slack shows as the name,
    # rather than a `/invite @` with the name blank (trial L8)
    if found.bot_name:
        invite = f"`/invite @{escape(found.bot_name)}`"
    elif found.bot_id:
        invite = f"type `/invite` followed by {who}"
    else:
        invite = "type `/invite` followed by the app's name, as the sidebar's Apps list shows it"
    return who, invite


def _not_a_member(found: Membership) -> str:
    who, invite = _invite(found)
    if found.error == "channel_not_found":  # a private channel, or a direct message between other people
        why = (
            f"{who} cannot see this conversation (Slack: channel_not_found): a private channel it was not invited "
            "to, or a direct message it is not part of"
        )
    else:
        why = f"{who} is not a member of this channel"
    return (
        f":no_entry: Not subscribed: {why}, so its alerts could not be posted here. "
        f"Invite {who} to this channel first: {invite}, then subscribe again."
    )


def _membership_unknown(found: Membership) -> str:
    who, invite = _invite(found)
    return (
        f"\n:warning: Could not check that {who} is a member of this channel (Slack: {escape(found.error[:200])}). "
        f"If it is not, alerts here will fail: {invite}."
    )


def _max_age(word: str) -> timedelta:
    """`max_age=3d` -> 3 days; a bad duration is refused with the CLI's words (`--max-age: bad duration …`)."""
    try:
        return parse_duration(word.split("=", 1)[1])
    except ValueError as e:
        raise ControlError(f"max_age: {e}") from None


def describe_subscription(ctx: AppContext, sub: SubscriptionCreated) -> str:
    if sub.tags:
        what = "alerts tagged " + ", ".join(f"`{escape(t)}`" for t in sub.tags)
    elif "*" in sub.rules:
        what = "all alerts"
    else:
        what = ", ".join(f"`{escape(r)}`" for r in sub.rules) + " alerts"
    if sub.min_severity != "low":
        what += f" of severity {sub.min_severity} and above"
    if sub.where:
        what += f" where `{escape(where_text(sub.where))}`"
    if sub.digest:
        what += f", as a digest ({escape(sub.digest)})"
    if sub.max_age is not None:
        what += f", except those about reports older than {format_duration(sub.max_age)} when raised"
    rules = ctx.rules
    if rules:  # a rule renamed or removed since leaves it with nothing (outside trial 69, M1)
        gone, untagged = missing_targets(sub, rules, {t for r in rules.values() for t in r.tags})
        if gone:
            what += (
                " — :warning: no rule " + ", ".join(f"`{escape(r)}`" for r in gone) + " is loaded now: it gets nothing"
            )
        elif sub.tags and len(untagged) == len(sub.tags):
            what += " — :warning: no rule loaded now carries " + ", ".join(f"`{escape(t)}`" for t in untagged)
    return what


def _cmd_unsubscribe(ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor) -> str:
    if len(args) != 1:
        raise UsageError("unsubscribe")
    target = args[0]
    if not target.startswith("sub-") and not target.lower().startswith("tag:") and target != "*":
        # a rule's id in another case, when the channel has no subscription to it as typed (a rule taken out of the
        # packs may still have subscribers, under the id it had)
        names = ctx.channels.routing_names(channel)
        typed = any(target in s.rules for name in names for s in ctx.control.subscriptions(name))
        target = target if typed else rule_id(ctx, target) or target
    return unsubscribe(ctx, ctx.channels.routing_names(channel), target, actor)


def unsubscribe(
    ctx: AppContext,
    routing_names: Sequence[str],
    target: str,
    actor: Actor,
    *,
    detection: Detection | None = None,
) -> str:
    """Remove what `target` names from the subscriptions of `routing_names`; a reply saying what happened, and
    which of the channel's other subscriptions still deliver that rule's alerts (`detection`: the alert clicked
    on; else the rule as the catalogue describes it)."""
    subs = [s for name in routing_names for s in ctx.control.subscriptions(name)]
    rule: str | None = None
    if target.startswith("sub-"):
        hit = [s for s in subs if s.id == target]
    elif target.lower().startswith("tag:"):
        hit = [s for s in subs if target[4:].strip() in s.tags]
    elif target == "*":
        hit = [s for s in subs if "*" in s.rules and not s.tags]
    else:  # a rule, known or not (a rule taken out of the packs may still have subscribers)
        rule = target
        hit = [s for s in subs if rule in s.rules and not s.tags]
    # routing's own match, so the reply names exactly the subscriptions that deliver the rule's alerts
    det = detection or _rule_detection(ctx, rule)
    names = Spellings(ctx.entity_names, ctx.entity_aliases)
    # The catalogue's stand-in for a rule's alerts has no group or attributes: a `where` is left out for it, so a
    # filtered subscription that still delivers some of the rule's alerts is named (with its `where`).
    still = [
        s
        for s in subs
        if s not in hit
        and det is not None
        and matches(as_subscription(s if detection is not None else s.model_copy(update={"where": {}})), det, names)
    ]
    still_ids = ", ".join(f"`{s.id}` ({describe_subscription(ctx, s)}{_in_config(s)})" for s in still)
    if not hit:
        if still:
            # a subscription the config file sets cannot be unsubscribed here (trial L7: the reply said to, and
            # `unsubscribe sub-…` was then refused): said where it is changed
            mine = [s for s in still if s.managed_by != "config"]
            if not mine:
                how = "Change it in watchfloor's config file (its `subscriptions:`), or"
            elif len(mine) < len(still):
                how = "Unsubscribe " + ", ".join(f"`{s.id}`" for s in mine) + " (the others: in the config file), or"
            else:
                how = "Unsubscribe that, or"
            return (
                f"This channel gets `{escape(target)}` through a wider subscription: {still_ids}. {how} "
                f"`{ctx.command} silence {escape(target)} for 1w`."
            )
        if rule is not None and ctx.rules and rule_id(ctx, rule) is None:
            # not a rule of the loaded packs (and no subscription keeps it): a misspelling, said as subscribe and
            # silence say one (trial 54, LOW-4: a mistyped unsubscribe read as if nothing were wrong)
            return f":warning: Nothing was unsubscribed: {escape(unknown_rule(ctx, target))}."
        return f"This channel has no subscription to `{escape(target)}`. {_subscriptions_here(ctx, subs)}"
    managed = [s for s in hit if s.managed_by == "config"]
    done: list[str] = []
    for s in hit:
        if s.managed_by == "config":
            continue
        ctx.control.unsubscribe(s.id, by=actor, reason=f"unsubscribe {target}")
        remaining = [r for r in s.rules if r != rule] if rule is not None else []
        if remaining:  # a subscription to several rules keeps the others
            ctx.control.subscribe(
                s.channel,
                rules=remaining,
                tags=s.tags,
                min_severity=s.min_severity,
                digest=s.digest,
                max_age=s.max_age,
                where=s.where,
                by=actor,
                channel_name=s.channel_name,
            )
        done.append(f"`{s.id}`")
    lines = []
    if done and len(hit) == 1 and hit[0].id == target:  # by its id: say what it was (trial 46, LOW-1)
        lines.append(f":white_check_mark: Unsubscribed from `{escape(target)}` ({describe_subscription(ctx, hit[0])}).")
    elif done:
        lines.append(f":white_check_mark: Unsubscribed from `{escape(target)}` ({', '.join(done)}).")
    if managed:
        ids = ", ".join(f"`{s.id}`" for s in managed)
        lines.append(
            f"{ids} {'is' if len(managed) == 1 else 'are'} set in watchfloor's config file and can only be "
            f"changed there (its `subscriptions:`, channel "
            f"{', '.join(sorted({f'`{escape(s.channel)}`' for s in managed}))}); "
            f"`{ctx.command} silence {escape(target)} for 1w` holds the alerts back meanwhile."
        )
    if still:
        lines.append(f"This channel still gets `{escape(target)}` through {still_ids}.")
    return "\n".join(lines)


def _in_config(sub: SubscriptionCreated) -> str:
    """`, set in the config file (channel desk)` for a subscription only the config file changes; "" else."""
    return f", set in the config file for channel `{escape(sub.channel)}`" if sub.managed_by == "config" else ""


SUBSCRIPTIONS_NAMED = 5  # a reply that lists a channel's subscriptions names this many, then how many more


def _subscriptions_here(ctx: AppContext, subs: Sequence[SubscriptionCreated]) -> str:
    """`Its subscriptions: `sub-…` (all alerts), …` (the first SUBSCRIPTIONS_NAMED), or that it has none."""
    if not subs:
        return f"It has no subscriptions: `{ctx.command} subscribe RULE` adds one."
    named = ", ".join(
        f"`{escape(s.id)}` ({describe_subscription(ctx, s)}{_in_config(s)})" for s in subs[:SUBSCRIPTIONS_NAMED]
    )
    more = len(subs) - SUBSCRIPTIONS_NAMED
    return f"Its subscriptions: {named}" + (f", and {more} more (`{ctx.command} list`)." if more > 0 else ".")


def _delivering(ctx: AppContext, subs: Sequence[SubscriptionCreated], rule: str) -> list[SubscriptionCreated]:
    """Those of `subs` that may deliver an alert of `rule` (`*`: any): by rule, tag or `*`, whatever their `where`
    and `min=` (an alert's severity can rise above its rule's, and a filter is matched by each alert's own
    attributes), so that none that might is missed."""
    if rule == "*":
        return list(subs)
    det = _rule_detection(ctx, rule)
    if det is None:
        return list(subs)  # (not told by the catalogue: said of no subscription that it does not deliver)
    names = Spellings(ctx.entity_names, ctx.entity_aliases)
    wide = {"where": {}, "min_severity": "low"}
    return [s for s in subs if matches(as_subscription(s.model_copy(update=wide)), det, names)]


def _rule_detection(ctx: AppContext, rule: str | None) -> Detection | None:
    """What routing matches for an alert of `rule` (its tags, its severity), from the catalogue."""
    info = ctx.rules.get(rule) if rule is not None else None
    if info is None:
        return None
    severity = cast(Severity, info.severity)  # a severity routing does not know never matches
    return Detection.model_construct(
        id="", rule=info.id, title=info.title, tags=info.tags, severity=severity, fired_at=ctx.control.now()
    )


def _cmd_list(ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor) -> str:
    if args:
        raise UsageError("list")
    names = ctx.channels.routing_names(channel)
    subs = [s for name in names for s in ctx.control.subscriptions(name)]
    if not subs:
        return f"This channel has no subscriptions. `{ctx.command} subscribe RULE` adds one; `{ctx.command} rules`."
    lines = [f"*Subscriptions of this channel* ({len(subs)}):"]
    for s in subs:
        origin = "config file" if s.managed_by == "config" else escape(s.by.label())
        lines.append(f"• `{s.id}` {describe_subscription(ctx, s)} — {origin}")
    silences = _silences_for(ctx, names)
    if silences:
        lines.append(f"{counted(len(silences), 'silence')} in force here: `{ctx.command} silences`.")
    return _fit("\n".join(lines))


def _cmd_silence(
    ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor, *, announce: Announce | None = None
) -> str:
    if len(args) < 3:
        raise UsageError("silence")
    rule = args[0] if args[0] == "*" else rule_id(ctx, args[0]) or ""
    if not rule:
        raise ControlError(unknown_rule(ctx, args[0]))
    rest = list(args[1:])
    _refuse_filter_words(rest)
    group: dict[str, str] = {}
    # One `group=` word per key of a group of several (`group=country=Niger group=imposer=France`), as the CLI takes
    # --group twice (outside trial 74, F5: only one could be named from Slack); a value may be several words
    # (`group=North Korea`).
    groups: list[list[str]] = []
    while rest and rest[0].lower().startswith("group="):
        words = [rest.pop(0)[len("group=") :]]
        while rest and rest[0].lower() != "for" and not rest[0].lower().startswith("group="):
            words.append(rest.pop(0))
        if not " ".join(words).strip():
            raise UsageError("silence")
        groups.append(words)
    if len(rest) < 2 or rest[0].lower() != "for":
        raise UsageError("silence")  # before the group is read: a line that does not parse gets its usage
    for words in groups:
        got = parse_group(" ".join(words), ctx.entity_names, _group_keys(ctx, rule), ctx.vocabulary(), rule)
        if (key := next(iter(got))) in group:
            raise ControlError(
                f"group {' '.join(words)!r}: {'a value under any key' if key == '*' else repr(key)} is named twice; "
                "give each key of the group once"
            )
        group.update(got)
    try:
        duration = parse_duration(rest[1])
    except ValueError as e:  # the CLI's words: bad duration '5y': write a number and a unit, e.g. …
        raise UsageError("silence", escape(str(e))) from None
    if duration > MAX_SILENCE:
        raise ControlError(f"a silence lasts at most {format_duration(MAX_SILENCE)}")
    reason = " ".join(rest[2:])
    s = ctx.control.silence(
        rule, duration=duration, by=actor, group=group, channel=ctx.channels.primary(channel), reason=reason
    )
    ends = f"(`{s.id}`; `{ctx.command} unsilence {s.id}` ends it)"
    why = f": “{escape(reason)}”" if reason else " (no reason given)"
    said = ctx.words(ctx.channels.routing_names(channel))  # (the channel's language: it is said there for everyone)
    public = said.text(
        "silenced_by_command",
        who=who(actor),
        what=_silence_what(ctx, s, said),
        duration=said.duration(format_duration(duration)),
        until=_when(s),
        why=said.text("silence_reason", reason=escape(reason)) if reason else said.text("silence_no_reason"),
        ends=said.text("silence_ends", id=s.id, command=ctx.command),
    )
    reply = (
        f":mute: Silenced {_silence_what(ctx, s)} in this channel for {format_duration(duration)}, "
        f"until {_when(s)}{why}. {ends}"
    )
    # A silence may be set ahead of a subscription, so it is kept; but one for a rule this channel gets nothing of
    # is said to whoever set it (trial 54, LOW-4: accepted and announced with no word of it)
    subs = [sub for name in ctx.channels.routing_names(channel) for sub in ctx.control.subscriptions(name)]
    if not _delivering(ctx, subs, rule):
        what = "any alerts" if rule == "*" else f"alerts of `{escape(rule)}`"
        reply += f"\n:information_source: This channel gets no {what} now. {_subscriptions_here(ctx, subs)}"
    return reply + announced(announce, public)


# A word that reads as a filter: `place=Moscow`, `where`. (`group=` is a silence's own, before `for`.)
_FILTER_WORD = re.compile(r"^[A-Za-z_][\w.-]*=")


def _refuse_filter_words(words: Sequence[str]) -> None:
    """A silence drops every alert it covers for good, and its only filter is one group (`group=VALUE` before
    `for`): a `where KEY=VALUE` (a subscription's filter) or a `KEY=VALUE` anywhere else would have silenced the
    whole rule and become the reason (outside trial 15, M4). Refused with the usage, nothing silenced."""
    lowered = [w.lower() for w in words]
    ends = lowered.index("for") + 2 if "for" in lowered else len(words)  # the words up to the duration's
    for i, word in enumerate(words):
        if lowered[i].startswith("group=") and all(w.startswith("group=") or "=" not in w for w in lowered[:i]):
            if "for" not in lowered[:i]:
                continue  # the silence's own group (a `group=` word per key), before `for`
        filtering = _FILTER_WORD.match(word) is not None
        # `where` before the duration, or as the reason's first word: a subscription's filter typed here.
        where = lowered[i] == "where" and i <= ends
        if not (filtering or where):
            continue
        if where or lowered[i].startswith("where="):
            problem = (
                "a silence has no `where` filter (a subscription does): it holds back all of the rule's alerts in "
                "this channel, or one group's with `group=VALUE` before `for`; nothing was silenced"
            )
        elif lowered[i].startswith("group="):
            problem = f"{_word(word)}: a silence's group goes right after the rule, before `for`; nothing was silenced"
        else:
            problem = (
                f"{_word(word)} is no part of a silence (its only filter is `group=VALUE`, before `for`; a reason is "
                "plain words); nothing was silenced"
            )
        raise UsageError("silence", problem)


def _group_keys(ctx: AppContext, rule: str) -> set[str] | None:
    """The group keys of `rule` (every rule's for `*`), for parse_group to refuse a group that can never match,
    as `watchfloor silences add --group` does; None when the catalogue does not know them."""
    infos = [r for r in ctx.rules.values() if rule in ("*", r.id)]
    if not infos or any(r.group_by is None for r in infos):
        return None
    return {k for r in infos for k in r.group_by or ()}


def _silence_what(ctx: AppContext, s: Silence, said: Wording | None = None) -> str:
    """The rule and group a silence holds back; in `said`, for everyone in a channel (the group as alerts show it)."""
    if said is None:
        rule = "every rule" if s.rule == "*" else f"`{escape(s.rule)}`"
        return rule if not s.group else f"{rule} ({ctx.group_text(s.group)})"
    rule = said.text("every_rule") if s.rule == "*" else f"`{escape(s.rule)}`"
    return rule if not s.group else f"{rule} ({ctx.group_shown(s.group)})"


def _when(s: Silence) -> str:
    return when_text(s.ends_at)  # in each reader's timezone: an answer's text is mrkdwn


def _silences_for(ctx: AppContext, names: Sequence[str]) -> list[Silence]:
    return [s for s in ctx.control.silences() if s.channel is None or s.channel in names]


def _cmd_silences(ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor) -> str:
    if args:
        raise UsageError("silences")
    silences = _silences_for(ctx, ctx.channels.routing_names(channel))
    if not silences:
        return "No silences in force in this channel."
    now = ctx.control.now()
    lines = [f"*Silences in force here* ({len(silences)}):"]
    for s in silences:
        scope = "*all channels*" if s.channel is None else "this channel"
        starts = "" if s.starts_at <= now else f" from {when_text(s.starts_at)}"
        reason = f" — “{escape(s.reason)}”" if s.reason else ""
        # Listed here because it holds this channel's alerts back, but not this channel's to end (_cmd_unsilence).
        ends = "" if s.channel is not None else f" — set for all channels: {_cli_remove(s.id)} ends it, not Slack"
        lines.append(
            f"• `{s.id}` {_silence_what(ctx, s)} in {scope}{starts} until {_when(s)}, "
            f"by {escape(s.by.label())}{reason}{ends}"
        )
    return _fit("\n".join(lines))


def _cli_remove(sil_id: str) -> str:
    return f"`watchfloor silences remove {escape(sil_id)}` on watchfloor's command line"


def _cmd_unsilence(
    ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor, *, announce: Announce | None = None
) -> str:
    """End a silence of this channel. Anyone in any channel can type this, so a silence set for every channel
    (channel None: an operator's, from the CLI) or for another channel is refused: ending it would let alerts through
    in channels the person may not even be in."""
    if len(args) != 1:
        raise UsageError("unsilence")
    sil_id = args[0]
    held = ctx.control.silence_by_id(sil_id)
    if held is not None and held.channel is None:
        return (
            f":no_entry: `{escape(sil_id)}` is set for all channels, not only this one, so it cannot be ended from "
            f"Slack: {_cli_remove(sil_id)} ends it (ask whoever runs watchfloor)."
        )
    if held is not None and held.channel not in ctx.channels.routing_names(channel):
        # which channel, what and why are not said: it may be a private channel this person is not in
        return (
            f":no_entry: `{escape(sil_id)}` is a silence of another channel: it can be ended only from that channel, "
            f"or with {_cli_remove(sil_id)}."
        )
    s = ctx.control.unsilence(sil_id, by=actor, reason="unsilenced from Slack")
    said = ctx.words(ctx.channels.routing_names(channel))
    public = said.text("unsilenced", who=who(actor), id=s.id, what=_silence_what(ctx, s, said))
    reply = f":loud_sound: Ended silence `{s.id}` ({_silence_what(ctx, s)}): its alerts are sent again."
    return reply + announced(announce, public)


def _cmd_rules(ctx: AppContext, args: Sequence[str], channel: SlackChannelRef, actor: Actor) -> str:
    if args:
        raise UsageError("rules")
    if not ctx.rules:
        return "No rules are loaded."
    lines = [f"*Rules* ({len(ctx.rules)}) — `{ctx.command} subscribe RULE` to get one here:"]
    for r in sorted(ctx.rules.values(), key=lambda r: r.id):
        line = f"• `{escape(r.id)}` *{escape(r.title)}* ({escape(r.severity)})"
        if r.description:
            line += f" — {escape(' '.join(r.description.split())[:300])}"
        lines.append(line)
    return _fit("\n".join(lines))


def _fit(text: str) -> str:
    if len(text) <= REPLY_LIMIT:
        return text
    cut = text[:REPLY_LIMIT].rsplit("\n", 1)[0]
    more = text[len(cut) :].count("\n")
    return f"{cut}\n…and {counted(more, 'more line')}."


_COMMANDS = {
    "help": _cmd_help,
    "subscribe": _cmd_subscribe,
    "sub": _cmd_subscribe,
    "unsubscribe": _cmd_unsubscribe,
    "unsub": _cmd_unsubscribe,
    "list": _cmd_list,
    "silence": _cmd_silence,
    "silences": _cmd_silences,
    "unsilence": _cmd_unsilence,
    "rules": _cmd_rules,
}

# The commands that change what a channel is sent, and how a refusal names each; the rest only read.
MANAGING: dict[object, str] = {
    _cmd_subscribe: "subscribe this channel",
    _cmd_unsubscribe: "unsubscribe this channel",
    _cmd_silence: "silence alerts",
    _cmd_unsilence: "end a silence",
}
