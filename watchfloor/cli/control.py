"""The `watchfloor subscriptions` and `watchfloor silences` commands (Alertmanager's `amtool silence` is the
model): the same operations as `/watchfloor` in Slack, recorded in the store's log the same way."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from watchfloor.alerts.control import channel_names, uncarried_tags
from watchfloor.schemas.control import Actor, where_text
from watchfloor.schemas.rules import format_duration, parse_duration

from ._common import (
    ID_COLUMN,
    ConfigOpt,
    Typer,
    app,
    app_config,
    check_channel_name,
    err,
    fail,
    out,
    shown_channel,
)

subscriptions_app = Typer(help="Which channels get which alerts (also /watchfloor in Slack).", no_args_is_help=True)
silences_app = Typer(
    help="Drop alerts for a while: recorded as suppressed, never sent (also /watchfloor silence in Slack).",
    no_args_is_help=True,
)
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(silences_app, name="silences")

StoreOpt = Annotated[str | None, typer.Option(help="Store URL (overrides config).")]
AuthorOpt = Annotated[str | None, typer.Option("--author", "-a", help="Who is making the change (default: $USER).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")]


def _actor(author: str | None) -> Actor:
    try:
        user = author or getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(via="cli", user=user, name=user)


@contextmanager
def _control(
    config: Any, store: str | None, *, read: bool = False, cfg: Any = None, only_reads: bool = False
) -> Iterator[tuple[Any, Any]]:
    """The config (`cfg` when already read) and the control log. A list command (`read`), and one that ends what
    must be in the store already, never creates a store: a path where there is none (a typo, the wrong directory, a
    config read before anything ran) is said so, exit 1, as `alerts list` does; the commands that add something make
    the store as `run` would, once what they were given is checked (a refused command leaves no empty store behind
    that `alerts list` and `status` would then read as a healthy one: outside trial 15, M5). A command that `only_reads`
    (a list) does not migrate a store of an older schema either (review 22, F3)."""
    from watchfloor.wiring import open_store  # the one store opener

    from ..wiring import open_control

    cfg = cfg if cfg is not None else app_config(config)
    try:
        st = open_store(store or cfg.store, create=not read, upgrade=not only_reads)
    except ValueError as e:
        raise fail(str(e)) from None
    try:
        yield cfg, open_control(st, cfg)
    finally:
        st.close()


def _compiled(cfg: Any) -> Any:
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        _, rules = load_rules(cfg.rules)
    except RuleLoadError as e:
        raise fail(str(e)) from None
    return rules


def _check_rules(rules: Any, wanted: list[str]) -> None:
    known = {d.id for d in rules.detections}
    unknown = [r for r in wanted if r != "*" and r not in known]
    if unknown:
        from watchfloor.schemas.spellings import close_hint

        hint = close_hint(unknown[0], known) if len(unknown) == 1 else ""
        from watchfloor.schemas.plural import noun

        which = noun(len(unknown), "rule")
        raise fail(f"unknown {which} {', '.join(unknown)}{hint}; known: {', '.join(sorted(known))}")


def _silence_group(rules: Any, rule: str, groups: list[str]) -> dict[str, str]:
    """--group values -> the silence's matchers, read as `/watchfloor silence … group=…` reads them (entity names
    to ids: `Russia` -> RUS); one that names no key or entity of the rule is refused, as it would never match."""
    from watchfloor.alerts.control import ControlError, parse_group
    from watchfloor.stream_processors.vocabulary import rule_vocabulary

    keys = {k for d in rules.detections if rule in ("*", d.id) for k in d.group_by}
    vocabulary = rule_vocabulary(rules)
    matchers: dict[str, str] = {}
    for g in groups:
        try:
            matchers.update(parse_group(g, rules.entity_names, keys, vocabulary, rule))
        except ControlError as e:
            raise fail(str(e)) from None
    return matchers


def _where(rules: Any, subscribed: list[str], tags: list[str], words: list[str]) -> dict[str, tuple[str, ...]]:
    """--where values -> the subscription's `where`, read as `/watchfloor subscribe … where …` reads them; one that
    no alert of the rules (those with a tag, given --tag) could match is refused (alerts.control.parse_where)."""
    from watchfloor.alerts.control import ControlError, parse_where
    from watchfloor.stream_processors.vocabulary import rule_vocabulary

    try:
        return parse_where(words, rule_vocabulary(rules), subscribed, tags)
    except ControlError as e:
        raise fail(str(e)) from None


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- subscriptions --------------------------------------------------------------------------------------------


@subscriptions_app.command("list")
def subscriptions_list(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    channel: Annotated[str | None, typer.Option(help="Only this routing channel.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Active subscriptions: from the config file (kept in step at every start) and from Slack or the CLI."""
    with _control(config, store, read=True, only_reads=True) as (cfg, control):
        subs = control.subscriptions(channel)
    orphans = _orphans(cfg, subs)
    if as_json:
        for s in subs:
            sys.stdout.write(json.dumps(s.model_dump(mode="json")) + "\n")
        _say_orphans(orphans)
        return
    table = Table()
    table.add_column("id", **ID_COLUMN)  # typed next: subscriptions remove ID
    for col in ("channel", "rules"):
        table.add_column(col, overflow="fold")  # wrapped when long, never cut: both are typed elsewhere
    for col in ("tags", "min severity", "where", "digest", "max age", "managed by", "since"):
        table.add_column(col)
    names = channel_names(subs)
    for s in subs:
        who = "config file" if s.managed_by == "config" else s.by.label()
        table.add_row(
            escape(s.id),
            escape(shown_channel(s.channel, names)),
            escape(", ".join(s.rules)),
            escape(", ".join(s.tags)) or "—",
            s.min_severity,
            escape(where_text(s.where) or "—"),
            escape(s.digest or "—"),
            format_duration(s.max_age) if s.max_age is not None else "—",
            escape(who),
            _utc(s.at),
        )
    out.print(table)
    out.print(f"{len(subs)} subscriptions", highlight=False)
    _say_orphans(orphans)


def _orphans(cfg: Any, subs: list[Any]) -> list[tuple[Any, str]]:
    """The subscriptions the loaded rules leave with nothing (alerts.control.orphaned_subscriptions); none said when
    the rules do not load (`rules check` says why)."""
    from watchfloor.alerts.control import orphaned_subscriptions
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        _, rules = load_rules(cfg.rules)
    except (RuleLoadError, OSError, ValueError):
        return []
    ids = {d.id for d in rules.detections}
    tags = {t for d in rules.detections for t in d.definition.tags}
    return orphaned_subscriptions(subs, ids, tags)


def _say_orphans(orphans: list[tuple[Any, str]]) -> None:
    for sub, why in orphans:  # (outside trial 69, M1: a renamed rule left a Slack subscription dark, unsaid)
        err.print(
            f"[yellow]warning[/yellow]: {escape(sub.id)} {escape(why)}; restore the rule, or `watchfloor "
            f"subscriptions remove {escape(sub.id)}`",
            highlight=False,
        )


@subscriptions_app.command("add")
def subscriptions_add(
    channel: Annotated[str, typer.Argument(help="A channel name from the config, or slack:CHANNEL_ID.")],
    rule: Annotated[list[str] | None, typer.Option("--rule", "-r", help="Rule id (repeatable; default: all).")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only alerts with this tag (repeatable).")
    ] = None,
    min_severity: Annotated[str, typer.Option("--min", help="low, medium, high or critical.")] = "low",
    digest: Annotated[str | None, typer.Option(help="'daily HH:MM [Area/City]': one message a day instead.")] = None,
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age", help="Alerts about reports older than this when raised (3d, 12h) start no thread here."
        ),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            "-w",
            help="Only alerts carrying KEY=VALUE in their group or attributes (place=Kursk; an entity id, name or "
            "alias; a bare VALUE: under any key); repeatable: every key must hold, a key given twice takes either "
            "value.",
        ),
    ] = None,
    author: AuthorOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Subscribe a channel; it applies from the pipeline's next cycle, no restart needed."""
    from pydantic import ValidationError

    from watchfloor.schemas.control import check_digest
    from watchfloor.schemas.events import SEVERITY_RANK

    rules = rule or ["*"]
    if min_severity not in SEVERITY_RANK:
        raise fail(f"--min must be one of {', '.join(SEVERITY_RANK)}")
    try:
        age = parse_duration(max_age) if max_age is not None else None
    except ValueError as e:
        raise fail(f"--max-age: {e}") from None
    cfg = app_config(config)
    check_channel_name(cfg, channel)  # all checked before the store is opened: a refusal changes nothing
    channel = _configured_slack_name(cfg, channel)
    compiled = _compiled(cfg)
    _check_rules(compiled, rules)
    filters = _where(compiled, rules, tag or [], where or [])
    try:
        check_digest(digest)
    except ValueError as e:
        raise fail(f"--digest: {e}") from None
    carried = {t for d in compiled.detections for t in d.definition.tags}
    for line in uncarried_tags(tag or (), carried):  # a rule that carries it may come later: said, not refused
        err.print(f"[yellow]warning:[/yellow] {escape(line)}", highlight=False)
    with _control(config, store, cfg=cfg) as (cfg, control):
        tagged = {d.id: list(d.definition.tags) for d in compiled.detections}
        wider = (
            None
            if digest is not None
            else _covering(control, channel, rules, tag or [], min_severity, age, filters, tagged)
        )
        if wider is not None:
            # as `/watchfloor subscribe` answers (outside trial 85, F10: the CLI added one that changed nothing)
            out.print(
                f"already covered: {wider.id} sends {escape(channel)} every alert this asks for; nothing was added "
                f"(`watchfloor subscriptions remove {wider.id}` first to narrow it)",
                highlight=False,
            )
            return
        try:
            sub, new = control.subscribe(
                channel,
                rules=rules,
                tags=tag or [],
                min_severity=min_severity,
                digest=digest,
                max_age=age,
                where=filters,
                by=_actor(author),
            )
        except ValidationError as e:
            raise fail(e.errors()[0]["msg"].removeprefix("Value error, ")) from None
    out.print(f"{'subscribed' if new else 'already subscribed'}: {sub.id}", highlight=False)


def _covering(
    control: Any,
    channel: str,
    rules: list[str],
    tags: list[str],
    min_severity: str,
    max_age: Any,
    where: Mapping[str, Any],
    rule_tags: Mapping[str, list[str]],
) -> Any:
    """The channel's subscription in the store that already sends every alert the one asked for would (a wider one,
    not the very same: that is "already subscribed"), else None (alerts.routing.covers)."""
    from watchfloor.alerts.control import as_subscription
    from watchfloor.alerts.routing import covers
    from watchfloor.schemas.config import Subscription

    wanted = Subscription.model_construct(
        channel=channel, rules=rules, tags=tags, min_severity=min_severity,  # type: ignore[arg-type]
        digest=None, max_age=max_age, where={k: tuple(v) for k, v in where.items()},
    )  # fmt: skip
    for have in control.subscriptions(channel):
        held = as_subscription(have)
        if not covers(wanted, held) and covers(held, wanted, rule_tags):
            return have
    return None


def _configured_slack_name(cfg: Any, channel: str) -> str:
    """`slack:ID` of a Slack channel the config names (by that ID, or by a name Slack resolves to it): the config's
    name, said, so one Slack channel has its subscriptions under one routing name (outside trial 9, F1). The
    dispatcher posts once per Slack channel either way; this keeps `subscriptions list` telling it as it is."""
    from watchfloor.schemas.config import SlackChannel
    from watchfloor.wiring import channel_resolver

    if not channel.startswith("slack:"):
        return channel
    wanted = channel[len("slack:") :]
    slack = [ch for ch in cfg.channels if isinstance(ch, SlackChannel)]
    same = next((ch for ch in slack if ch.channel == wanted), None)
    if same is None and slack:
        resolve = channel_resolver(cfg)
        same = next((ch for ch in slack if resolve(ch.name) == wanted), None)
    if same is None:
        return channel
    err.print(
        f"note: {escape(channel)} is the config's channel {escape(repr(same.name))} ({escape(same.channel)}): "
        f"subscribed as {escape(repr(same.name))}, so the channel gets each alert once",
        highlight=False,
    )
    return str(same.name)


@subscriptions_app.command("remove")
def subscriptions_remove(
    ids: Annotated[list[str], typer.Argument(help="Subscription ids (from `subscriptions list`).")],
    author: AuthorOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Remove subscriptions (ones from the config file change only with the file)."""
    _end_each(
        ids,
        config,
        store,
        lambda control, sid: control.unsubscribe(sid, by=_actor(author), reason="watchfloor subscriptions remove"),
        "removed",
    )


def _end_each(ids: list[str], config: Any, store: Any, end: Any, done: str) -> None:
    """`end(control, id)` for each id, saying `done ID` or the error; exit 1 when any failed (the others are
    still ended)."""
    from watchfloor.alerts.control import ControlError

    failed = False
    with _control(config, store, read=True) as (_, control):  # nothing to end in a store that is not there
        for one in ids:
            try:
                end(control, one)
                out.print(f"{done} {one}", highlight=False)
            except ControlError as e:
                failed = True
                out.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
    if failed:
        raise typer.Exit(1)


# --- silences ---------------------------------------------------------------------------------------------------


@silences_app.command("list")
def silences_list(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    expired: Annotated[bool, typer.Option("--expired", help="Also silences that have ended.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Silences in force or scheduled (amtool silence query); with --expired, also ended ones and how each
    ended (its `silence.expired`: ended early by someone, or lapsed at its end)."""
    with _control(config, store, read=True, only_reads=True) as (_, control):
        control.expire_lapsed()
        now = control.now()
        sils = control.silences(include_ended=expired)
        expiries = {s.id: control.expiry(s.id) for s in sils}
    if as_json:
        for s in sils:
            state = "expired" if s.ends_at <= now else ("active" if s.active(now) else "pending")
            exp = expiries[s.id]
            row = {**s.model_dump(mode="json"), "state": state, "expired": exp and exp.model_dump(mode="json")}
            sys.stdout.write(json.dumps(row) + "\n")
        return
    table = Table()
    table.add_column("id", **ID_COLUMN)  # typed next: silences remove ID
    table.add_column("rule", overflow="fold")
    for col in ("group", "channel", "starts", "ends", "by", "reason"):
        table.add_column(col)
    for s in sils:
        group = ", ".join(f"{k}={v}" if k != "*" else v for k, v in s.group.items()) or "all"
        table.add_row(
            escape(s.id),
            escape(s.rule),
            escape(group),
            escape(s.channel or "all"),
            _utc(s.starts_at),
            _utc(s.ends_at) + _ended(expiries[s.id], s.ends_at <= now),
            escape(s.by.label()),
            escape(s.reason),
        )
    out.print(table)
    out.print(f"{len(sils)} silences", highlight=False)


def _ended(exp: Any, ended: bool) -> str:
    """How a silence ended, for the `ends` column: early (by whom), or lapsed at its end."""
    from watchfloor.alerts.control import LAPSED

    if exp is None:
        return " (ended)" if ended else ""
    if exp.by.via == "system" and exp.reason == LAPSED:
        return " (lapsed)"
    return f" (ended early by {escape(exp.by.label())})"


@silences_app.command("add")
def silences_add(
    rule: Annotated[str, typer.Argument(help="Rule id, or * for every rule.")],
    duration: Annotated[str, typer.Option("--duration", "-d", help="How long: 30m, 2h, 1d, 1w.")] = "1h",
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group", "-g", help="KEY=VALUE, or a VALUE under any key: an entity id or name (RUS, Russia); repeatable."
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            help="Only this routing channel: a config channel's name, or a slack:CHANNEL_ID that a subscription "
            "names (default: every channel)."
        ),
    ] = None,
    comment: Annotated[str, typer.Option("--comment", "-m", help="Why (shown in Slack and on the status page).")] = "",
    start: Annotated[str | None, typer.Option(help="ISO-8601 start time with offset (default: now).")] = None,
    author: AuthorOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Silence a rule (optionally one group, one channel) for a while; prints the silence id."""
    from watchfloor.alerts.control import ControlError, check_silence
    from watchfloor.schemas.rules import parse_duration

    try:
        length = parse_duration(duration)
        starts = datetime.fromisoformat(start) if start else None
    except ValueError as e:
        raise fail(str(e)) from None
    if starts is not None and starts.tzinfo is None:
        raise fail("--start needs a UTC offset, e.g. 2024-11-05T08:00:00+00:00")
    cfg = app_config(config)
    compiled = _compiled(cfg)
    _check_rules(compiled, [rule])
    matchers = _silence_group(compiled, rule, group or [])  # before the store is opened: a refusal changes nothing
    if channel is not None:  # a typo would silence nothing and look like success (outside trial 14, M2)
        # A silence matches the routing channel name: the config's, or a `slack:ID` subscribed from Slack or the
        # CLI (one no subscription names routes nothing, so silencing it would hold nothing back).
        check_channel_name(cfg, channel, also=_subscribed_channels(cfg, store), any_slack=False)
    try:
        check_silence(length, comment)
    except ControlError as e:
        raise fail(str(e)) from None
    with _control(config, store, cfg=cfg) as (cfg, control):
        try:
            s = control.silence(
                rule,
                duration=length,
                by=_actor(author),
                group=matchers,
                channel=channel,
                reason=comment,
                starts_at=starts,
            )
        except ControlError as e:
            raise fail(str(e)) from None
    out.print(s.id, highlight=False)


def _subscribed_channels(cfg: Any, store: str | None) -> set[str]:
    """The channels the store's subscriptions name, read without making a store (none: no store yet)."""
    from watchfloor.stream_processors.stores.errors import StoreError
    from watchfloor.wiring import open_control, open_store

    try:
        st = open_store(store or cfg.store, create=False)
    except (StoreError, ValueError):
        return set()  # (a store that cannot be opened for another reason says so when opened to write)
    try:
        return {sub.channel for sub in open_control(st, cfg).subscriptions()}
    finally:
        st.close()


@silences_app.command("remove")
def silences_remove(
    ids: Annotated[list[str], typer.Argument(help="Silence ids (from `silences list`).")],
    author: AuthorOpt = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """End silences now (amtool silence expire)."""
    _end_each(
        ids,
        config,
        store,
        lambda control, sid: control.unsilence(sid, by=_actor(author), reason="watchfloor silences remove"),
        "expired",
    )


silences_app.command("expire", help="Same as remove (amtool's name).")(silences_remove)
