"""Wiring: the one place that turns config into concrete stores, engines, notifiers and Kafka services.

Commands build nothing themselves: they ask this module for a store (`open_store`, the one opener), a
pipeline, a producer, an archive or a worker's parts, given the config and their options.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from watchfloor.alerts.backlog import BacklogHold
from watchfloor.alerts.control import ControlLog, orphaned_subscriptions
from watchfloor.alerts.dispatcher import AlertDispatcher, StoryProgress
from watchfloor.alerts.notice import AlertCatalog
from watchfloor.alerts.notifiers.base import Notifier, Targeted
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.alerts.slackapp.channels import ChannelNotifiers
from watchfloor.config import subscription_problems
from watchfloor.producers.poller import AutoGdeltFolder, SourcePoller
from watchfloor.producers.relay import FutureDated, KafkaRelay, target_checkpoint
from watchfloor.producers.source_auth import credential_problems
from watchfloor.schemas.config import (
    AppConfig,
    ChannelConfig,
    ConsoleChannel,
    EmailChannel,
    FileChannel,
    GdeltSource,
    JsonlSource,
    KafkaConfig,
    RssSource,
    SlackApp,
    SlackChannel,
    SourceConfig,
    ThrottleSpec,
    WebhookChannel,
)
from watchfloor.schemas.events import DOCUMENT_TYPES
from watchfloor.schemas.topics import TopicNames
from watchfloor.stream_processors import stores
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.compiler import CompiledRules
from watchfloor.stream_processors.kafka.sink import StoreSink
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.vocabulary import entity_aliases, rule_vocabulary

STORE_ENV = "WATCHFLOOR_STORE"  # the one environment override of the store URL (applied when config loads)
SPOOL_ENV = "WATCHFLOOR_SPOOL_DIR"  # containers: where the publisher's spool lives
DATADIR_ENV = "WATCHFLOOR_FAUST_DATADIR"  # containers: where workers keep their local data
DATA_DIR = Path("var")  # default home of local files (store, spool, worker data), relative to the working directory

log = logging.getLogger(__name__)


class WiringError(ValueError):
    """Config that validates but cannot be put to work (e.g. a Slack token missing from the environment)."""


# ---- stores ------------------------------------------------------------------------------------------------------


def with_store_env(cfg: AppConfig, env: Mapping[str, str] | None = None) -> AppConfig:
    """The config with WATCHFLOOR_STORE, when set, as its store (containers set the store this way)."""
    url = (os.environ if env is None else env).get(STORE_ENV)
    return cfg.model_copy(update={"store": url}) if url else cfg


def sqlite_file(url: str) -> Path | None:
    """The file a sqlite:// URL names (None for other stores and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if database and parsed.query.get("uri") == "true" and database.startswith("file:"):
        # SQLite's URI form (`sqlite:///file:/srv/wf.db?mode=ro&uri=true`): the file is the path after `file:`, not a
        # folder named `file:` under the working directory (one was made there for the parents of a read-only store)
        database = database[len("file:") :]
        if database.startswith("//"):  # file://host/path: the path
            database = "/" + database[2:].partition("/")[2]
    return Path(database) if database and database != ":memory:" and "mode=memory" not in url else None


def open_store(url: str, *, create: bool = True, upgrade: bool = True) -> Store:
    """The one store opener. Writers (`create`, the default) get the parent directories of a SQLite file made
    first, so a fresh directory works; readers (`create=False`) never make a store that was not there.
    Commands that only read pass `upgrade=False`: they do not migrate a store of an older schema (a StoreError says
    how to). Precedence of the URL, decided by the callers: --store, then WATCHFLOOR_STORE, then the config's
    `store`."""
    if not create:
        return stores.open_store(url, create=False, upgrade=upgrade)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return stores.open_store(url)


def deployment_of(store_url: str) -> str:
    """A short, stable name of the store a deployment delivers from, written in its Slack messages' metadata: two
    deployments posting the same alert ids into one channel (staging and production) then never take each other's
    message for their own. A SQLite file is named by its absolute path, any other URL by itself without its password,
    so every process of one deployment agrees. Not the host: a container made again has a new host name, and a
    process there must still find the message its predecessor posted (else it is posted twice); two deployments on
    two hosts with one path are one deployment to this (as before deployments were written)."""
    path = sqlite_file(store_url)
    if path is not None:
        who = str(path.resolve())
    else:
        who = re.sub(r"//([^:/@]*):[^@/]*@", r"//\1@", store_url)
    return hashlib.sha256(who.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class NotifierContext:
    """What a notifier builder has besides its channel's config: the environment its secrets are read from (the
    variables the config names), the `slack:` section (Slack channels fall back to its token and URL), and the
    deployment written in Slack messages' metadata (`deployment_of`)."""

    env: Mapping[str, str]
    slack: SlackApp | None = None
    deployment: str | None = None


# (a channel's config, of the type the builder is registered for; the context) -> the channel's notifier
NotifierBuilder = Callable[[Any, NotifierContext], Notifier]


def _console(ch: ConsoleChannel, _ctx: NotifierContext) -> Notifier:
    return ConsoleNotifier(ch.name, zone=_zone(ch.timezone))


def _file(ch: FileChannel, _ctx: NotifierContext) -> Notifier:
    return FileNotifier(ch.name, ch.path)


def _slack(ch: SlackChannel, ctx: NotifierContext) -> Notifier:
    token_env = ch.token_env or (ctx.slack.token_env if ctx.slack else "SLACK_BOT_TOKEN")
    token = ctx.env.get(token_env)
    if not token or not token.strip():
        state = "is not set" if token is None else "is set but empty"
        raise WiringError(
            f"channel {ch.name!r}: the Slack token is read from the environment variable {token_env}, which {state}"
        )
    base_url = ch.base_url or (ctx.slack.base_url if ctx.slack else None)
    return SlackNotifier(
        ch.name,
        ch.channel,
        token,
        base_url=base_url,
        timeout=ch.timeout,
        broadcast_escalations=ch.broadcast_escalations,
        deployment=ctx.deployment,
        # the channel's own language, else the `slack:` section's
        language=ch.language or (ctx.slack.language if ctx.slack else "en"),
    )


def _webhook(ch: WebhookChannel, ctx: NotifierContext) -> Notifier:
    url = ch.url
    if ch.url_env is not None:
        url = (ctx.env.get(ch.url_env) or "").strip()
        if not url:  # the value is never said: it is the secret
            state = "is not set" if ctx.env.get(ch.url_env) is None else "is set but empty"
            raise WiringError(
                f"channel {ch.name!r}: the webhook URL is read from the environment variable {ch.url_env}, "
                f"which {state}"
            )
    assert url is not None  # (the config has one of url and url_env)
    try:
        return WebhookNotifier(ch.name, url, timeout=ch.timeout)
    except ValueError as e:  # not http(s): said with the URL's scheme and host only
        where = f" (from the environment variable {ch.url_env})" if ch.url_env else ""
        raise WiringError(f"channel {ch.name!r}{where}: {e}") from None


def _email(ch: EmailChannel, ctx: NotifierContext) -> Notifier:
    password = None
    if ch.password_env is not None:
        password = ctx.env.get(ch.password_env)
        if not password:  # an empty password is no password: say so now, not at the first alert's AUTH
            state = "is not set" if password is None else "is set but empty"
            raise WiringError(
                f"channel {ch.name!r}: the SMTP password is read from the environment variable "
                f"{ch.password_env}, which {state}"
            )
    return EmailNotifier(
        ch.name,
        to=ch.to,
        sender=ch.sender,
        host=ch.host,
        port=ch.smtp_port,
        tls=ch.tls,
        username=ch.username,
        password=password,
        timeout=ch.timeout,
        data_timeout=ch.data_timeout,
        zone=_zone(ch.timezone),
    )


# The notifier builders by the channel config's `type` (schemas.config.ChannelConfig). A new kind of notifier is
# one entry here (and its config type there); tests/unit/test_notifier_registry.py keeps the two lists one.
NOTIFIERS: dict[str, NotifierBuilder] = {
    "console": _console,
    "file": _file,
    "slack": _slack,
    "webhook": _webhook,
    "email": _email,
}


def build_notifier(
    ch: ChannelConfig,
    env: Mapping[str, str] | None = None,
    slack: SlackApp | None = None,
    *,
    deployment: str | None = None,
) -> Notifier:
    """The notifier for one configured channel, by the builder registered for its type (`NOTIFIERS`); Slack channels
    fall back to the `slack:` section's token and URL. Secrets (the Slack token, the SMTP password) are read from the
    environment variables the config names."""
    builder = NOTIFIERS.get(ch.type)
    if builder is None:  # a config type without a builder: the registry test says so first
        raise WiringError(
            f"channel {ch.name!r}: unknown channel type {ch.type!r} (the types with a notifier: "
            f"{', '.join(sorted(NOTIFIERS))})"
        )
    return builder(ch, NotifierContext(os.environ if env is None else env, slack, deployment))


def _zone(name: str | None) -> tzinfo | None:
    """The zone a channel shows times in (validated at load: AppConfig's TimeZoneName), None for UTC."""
    from zoneinfo import ZoneInfo

    return None if name is None else ZoneInfo(name)


def channel_resolver(cfg: AppConfig, env: Mapping[str, str] | None = None) -> Callable[[str], str | None]:
    """A configured Slack channel's ID, asked of Slack by its own notifier (its token and base_url): None when its
    token is not set or Slack cannot tell now."""
    configured = {ch.name: ch for ch in cfg.channels if isinstance(ch, SlackChannel)}
    made: dict[str, Targeted] = {}

    def resolve(name: str) -> str | None:
        if name not in made:
            if name not in configured:
                return None
            try:
                notifier = build_notifier(configured[name], env, cfg.slack)
            except WiringError:
                return None
            if not isinstance(notifier, Targeted):
                return None
            made[name] = notifier
        target = made[name].target()
        return target[len("slack:") :] if target and target.startswith("slack:") else None

    return resolve


def build_notifiers(cfg: AppConfig, env: Mapping[str, str] | None = None) -> dict[str, Notifier]:
    deployment = deployment_of(cfg.store)
    return {ch.name: build_notifier(ch, env, cfg.slack, deployment=deployment) for ch in cfg.channels}


def build_channel_notifiers(cfg: AppConfig, env: Mapping[str, str] | None = None) -> ChannelNotifiers:
    """The configured channels' notifiers, plus Slack channels subscribed from Slack (`slack:<id>`), posted to
    with the `slack:` section's token when it is set."""
    env = os.environ if env is None else env
    slack = cfg.slack or SlackApp()
    token = env.get(slack.token_env)

    def slack_for(channel_id: str) -> Notifier:
        assert token is not None
        name = f"slack:{channel_id}"
        deployment = deployment_of(cfg.store)
        return SlackNotifier(
            name, channel_id, token, base_url=slack.base_url, deployment=deployment, language=slack.language
        )

    state = "is not set" if token is None else "is set but empty"
    unbuilt = f"the Slack token is read from the environment variable {slack.token_env}, which {state}"
    return ChannelNotifiers(build_notifiers(cfg, env), slack_for if token else None, "" if token else unbuilt)


def open_control(store: Store, cfg: AppConfig) -> ControlLog:
    """The store's subscriptions, silences and acknowledgements, with the config file's subscriptions
    reconciled into the log (created when new, removed when gone from the file)."""
    control = ControlLog(store)
    control.reconcile_config(cfg.subscriptions)
    return control


def build_catalog(rules: CompiledRules) -> AlertCatalog:
    """How alerts of these rules are presented: entity names for groups (and aliases, which a `where` may name an
    entity by); an alert stays open for follow-ups for its rule's window or realert period, whichever is longer, and
    a confirmed one continues the story its earliest report began, within the rule's `corroborate.within`."""
    periods = {d.id: max(d.within or timedelta(0), d.realert) for d in rules.detections}
    return AlertCatalog(
        entity_names=dict(rules.entity_names),
        open_periods=periods,
        entity_aliases=entity_aliases(rules),
        lateness=rules.lateness,
        corroboration_windows={d.id: c.within for d in rules.detections if (c := d.definition.corroborate) is not None},
        rules=frozenset(d.id for d in rules.detections),
        tags=frozenset(t for d in rules.detections for t in d.definition.tags),
        thread_by={
            d.id: tuple(d.definition.thread_by)
            for d in rules.detections
            if d.definition.thread_by is not None and set(d.definition.thread_by) != set(d.group_by)
        },
    )


def warn_orphaned_subscriptions(control: ControlLog, catalog: AlertCatalog) -> None:
    """Log each subscription made from Slack or the CLI that the loaded rules leave with nothing to deliver (a rule
    renamed or removed since: alerts.control.orphaned_subscriptions), so a channel does not go dark unsaid."""
    if not catalog.rules:
        return  # the rules are not known (not loaded): nothing to check against
    for sub, why in orphaned_subscriptions(control.subscriptions(), catalog.rules, catalog.tags):
        log.warning(
            "subscriptions: %s of channel %s (made by %s) %s; restore the rule, or `watchfloor subscriptions "
            "remove %s`",
            sub.id,
            sub.channel,
            sub.by.label(),
            why,
            sub.id,
        )


def catalog_for(cfg: AppConfig) -> AlertCatalog:
    """The catalog of the config's rule packs, its subscriptions checked against them (check_subscriptions); an
    empty one (ids as they are) when they cannot be loaded, so a notifier whose rules moved still delivers."""
    try:
        compiled = load_rules(cfg.rules)[1]
    except (RuleLoadError, OSError, ValueError) as e:
        log.warning("alerts: rule packs not loaded (%s): groups are shown by id, follow-ups open for a day", e)
        return AlertCatalog()
    check_subscriptions(cfg, compiled)
    return build_catalog(compiled)


def check_subscriptions(cfg: AppConfig, rules: CompiledRules) -> None:
    """The config's subscriptions against the rules that run: a rule id no pack has is a WiringError naming
    FILE:LINE:COL (its channel would silently get nothing, and the CLI refuses the same id); a tag no rule
    carries is a warning in the log."""
    errors, warnings = subscription_problems(
        cfg,
        {d.id for d in rules.detections},
        {t for d in rules.detections for t in d.definition.tags},
        vocabulary=rule_vocabulary(rules),
    )
    for w in warnings:
        log.warning("config: %s", w)
    if errors:
        raise WiringError("\n".join(errors))


def build_dispatcher(
    cfg: AppConfig,
    store: Store,
    env: Mapping[str, str] | None = None,
    catalog: AlertCatalog | None = None,
    story_progress: StoryProgress | None = None,
) -> AlertDispatcher:
    control = open_control(store, cfg)
    catalog = catalog or catalog_for(cfg)
    warn_orphaned_subscriptions(control, catalog)
    return AlertDispatcher(
        store,
        build_channel_notifiers(cfg, env),
        cfg.subscriptions,
        retry=cfg.retry,
        routing=control,
        catalog=catalog,
        story_progress=story_progress,
        throttles=channel_throttles(cfg),
        update_waits=channel_update_waits(cfg),
    )


def channel_update_waits(cfg: AppConfig) -> dict[str, float]:
    """The config's channels that hold replies (`update_wait`): name -> seconds."""
    return {c.name: c.update_wait.total_seconds() for c in cfg.channels if c.update_wait.total_seconds() > 0}


def channel_throttles(cfg: AppConfig) -> dict[str, ThrottleSpec]:
    """The config's channels that have a throttle: name -> throttle (every dispatcher of the config gets them)."""
    return {c.name: c.throttle for c in cfg.channels if c.throttle is not None}


def dispatcher_factory(cfg: AppConfig, env: Mapping[str, str] | None = None) -> Callable[[Store], AlertDispatcher]:
    """For runtimes that open their own store (the Faust worker): notifiers are built now, so a missing
    Slack token fails at start, not at the first alert."""
    notifiers = build_channel_notifiers(cfg, env)
    catalog = catalog_for(cfg)

    def make(store: Store) -> AlertDispatcher:
        return AlertDispatcher(
            store,
            notifiers,
            cfg.subscriptions,
            retry=cfg.retry,
            routing=open_control(store, cfg),
            catalog=catalog,
            throttles=channel_throttles(cfg),
            update_waits=channel_update_waits(cfg),
        )

    return make


def kafka_settings(cfg: AppConfig, **overrides: Any) -> KafkaConfig:
    """The config's `kafka:` section with the command line's options (those given: not None) on top, validated."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return KafkaConfig.model_validate({**cfg.kafka.model_dump(), **given}) if given else cfg.kafka


def build_engine(rules: list[str], cfg: AppConfig | None = None) -> Engine:
    _packs, compiled = load_rules(rules)
    if cfg is not None:
        check_subscriptions(cfg, compiled)
    return engine_for(compiled, cfg)


def worker_engine(rules: list[str], cfg: AppConfig | None = None) -> Engine:
    """build_engine for the distributed workers (`worker`, `replay-workers`). They run every pack: detections over
    detections, over an absence's alerts and chains of them included (kafka/partition.py, LEVELS)."""
    return build_engine(rules, cfg)


def engine_for(compiled: CompiledRules, cfg: AppConfig | None = None) -> Engine:
    """The engine for compiled rules, with the config's event-time settings (skew, idleness)."""
    et = (cfg or AppConfig()).event_time
    return Engine(compiled, skew=et.skew, idle_after=et.idle_after)


def detection_sink(cfg: AppConfig, store_url: str, *, dispatch: bool) -> StoreSink:
    """The worker's sink: detections into the store at `store_url`, and with `dispatch` the alerts delivered
    from there. Notifiers are built now, so a missing Slack token fails at start, not at the first alert."""
    factory = dispatcher_factory(cfg) if dispatch else None
    return StoreSink(lambda: open_store(store_url), factory)


def sources_from_args(paths: Sequence[str], kind: str = "auto") -> list[SourceConfig]:
    """Sources named on a command line: JSON Lines files, feed files or feed URLs, GDELT export files or folders,
    or a GDELT lastupdate.txt URL followed live as a config's `url:` is (`kind`: auto, jsonl, rss, gdelt; a GDELT
    source from the command line takes the defaults of its options). Raises ValueError for a lastupdate.txt URL
    that a config would refuse too, or a file auto reads as no kind (backtest.auto_file_problem), saying why."""
    from .backtest import auto_file_problem, source_kind

    out: list[SourceConfig] = []
    for p in paths:
        k = source_kind(p, kind)
        if k == "jsonl" and (problem := auto_file_problem(p, kind)) is not None:
            raise ValueError(problem)  # before anything is written (trial 48, MED-1)
        if k == "gdelt" and "://" in p:  # http(s), or file:// for a local copy, as config's url: takes
            try:
                out.append(GdeltSource(url=p))
            except ValidationError as e:
                raise ValueError("; ".join(str(x["msg"]).removeprefix("Value error, ") for x in e.errors())) from None
        elif k == "gdelt":
            is_folder = kind == "auto" and Path(p).is_dir()
            out.append(AutoGdeltFolder(path=p) if is_folder else GdeltSource(path=p))
        else:
            out.append(RssSource(url=p) if k == "rss" else JsonlSource(path=p))
    return out


def build_poller(
    cfg: AppConfig,
    store: Store,
    sources: Sequence[SourceConfig] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    bounded: bool = False,
) -> SourcePoller:
    """The poller of `sources` (default: the config's) into `store` (`bounded`: a live run's,
    SourcePoller). A variable a source's credentials are read
    from (password_env, headers_env) that is not set is a WiringError naming the source and the variable, now,
    not a failing poll later."""
    chosen = list(cfg.sources if sources is None else sources)
    check_credentials(chosen, env)
    return SourcePoller(store, chosen, cfg.max_body_chars, env=env, bounded=bounded)


def check_credentials(sources: Sequence[SourceConfig], env: Mapping[str, str] | None = None) -> None:
    """WiringError naming each source and variable its credentials need that is not set (or empty)."""
    problems = credential_problems(sources, env)
    if problems:
        raise WiringError("\n".join(problems))


def spool_path(settings: KafkaConfig, env: Mapping[str, str] | None = None) -> Path:
    """The publisher's spool file: <kafka.spool_dir, else $WATCHFLOOR_SPOOL_DIR, else var/spool>/<prefix>.jsonl."""
    env = os.environ if env is None else env
    base = settings.spool_dir or env.get(SPOOL_ENV) or DATA_DIR / "spool"
    return Path(base) / f"{settings.prefix}.jsonl"


def worker_datadir(settings: KafkaConfig, env: Mapping[str, str] | None = None) -> Path:
    """A worker's local data (RocksDB tables): kafka.datadir, else <$WATCHFLOOR_FAUST_DATADIR, else
    var/faust>/<group>. One per worker process that uses rocksdb://, kept across its restarts."""
    env = os.environ if env is None else env
    if settings.datadir:
        return Path(settings.datadir)
    return Path(env.get(DATADIR_ENV) or DATA_DIR / "faust") / settings.group


DATADIR_LOCK = ".worker.lock"  # held (flock) by the worker process using a data directory, for its lifetime


class DatadirTaken(Exception):
    """The data directory a worker was given is another live worker's."""


def claim_worker_datadir(path: Path, *, chosen: bool) -> tuple[Path, IO[str], str | None]:
    """Lock a worker's data directory for this process (an flock on DATADIR_LOCK, released when the process ends,
    however it ends). The default one (`chosen` False) held by another worker: the next free `PATH-2`, `PATH-3`, …,
    with a line saying so (outside trial 39, L1: the walkthrough's "start one or several" workers, started from one
    folder, shared `var/faust/GROUP`, which docs/kafka.md advises against, without a word). One given (`--datadir`,
    kafka.datadir) that is held: DatadirTaken, naming its holder. Returns (the directory, the lock's file, the line)."""
    first = path
    for n in range(1, 100):
        if n > 1:
            path = first.with_name(f"{first.name}-{n}")
        path.mkdir(parents=True, exist_ok=True)
        f, holder = _flock_for_life((path / DATADIR_LOCK).open("a+", encoding="utf-8"))
        if f is None:
            if chosen:
                raise DatadirTaken(
                    f"the data directory {path} is in use by another worker ({holder}): give each worker its own "
                    "--datadir (or leave it out: each then takes a free one)"
                )
            continue
        said = None if n == 1 else f"{first} is another worker's: this one keeps its data in {path}"
        return path, f, said
    raise DatadirTaken(f"no free data directory next to {first} (tried 99): give this worker its own --datadir")


PRODUCER_LOCK = ".producer.lock"  # beside the spool (SPOOL.producer.lock), held (flock) by the `produce` that owns it


class SpoolTaken(Exception):
    """The spool a `produce` would use is another live `produce`'s."""


def claim_spool(path: Path) -> IO[str]:
    """Lock the spool `path` for this `produce` for its lifetime (an flock on SPOOL.producer.lock, released when the
    process ends however it ends, so a crashed producer leaves no stale claim): two producers of one prefix share one
    spool file and one relay target, and each then reported the other's spooled documents as its own (outside trial
    67, MED-2). Held by another live process: SpoolTaken, naming it (its pid) and the spool. Returns the lock's file,
    to keep open."""
    lock = path.with_name(path.name + PRODUCER_LOCK)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        opened = lock.open("a+", encoding="utf-8")
    except OSError as e:  # (a read-only disk, a file where the folder should be)
        raise WiringError(f"the spool's lock {lock}: {e.strerror or e}") from None
    f, holder = _flock_for_life(opened)
    if f is None:
        raise SpoolTaken(
            f"another `watchfloor produce` ({holder}) is using the spool {path.absolute()}: one producer per "
            "spool and store (they would share the spool and the relay's position); give one `produce` all the "
            "sources (several files and URLs, or the config's sources:), or stop that one first"
        )
    return f


def _flock_for_life(f: IO[str]) -> tuple[IO[str] | None, str]:
    """(`f` locked for this process, which it then names: "pid N on HOST"; "") or, when another live process holds
    it, (None, what the file names of that holder), `f` closed. An flock ends with its process however it ends, so a
    crash leaves no stale lock."""
    import fcntl

    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        f.close()
        return None, holder
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    f.flush()
    return f, ""


def worker_settings(settings: KafkaConfig, env: Mapping[str, str] | None = None) -> KafkaConfig:
    """The settings a worker runs with: its data directory decided (see worker_datadir)."""
    return settings.model_copy(update={"datadir": str(worker_datadir(settings, env))})


@dataclass(frozen=True)
class ProduceReport:
    """What one `produce` round did: what reached Kafka, and what waits in the spool for the broker."""

    summary: Any  # the poll's (producers.poller)
    sent: int  # documents the broker acknowledged in this round (from the spool included)
    drained: int  # of `sent`, documents that waited in the spool (from this round or an earlier one)
    spooled: int  # documents in the spool now, waiting for the broker
    spooled_records: int  # all the records there: the documents and the watermark records behind them
    spool_path: Path
    # (origin, line, reason) of each document sent this round that the workers count at its receive time (dated beyond
    # their skew into the future): `produce` says them, as `run` does (RelayStats.future_dated)
    future_dated: tuple[FutureDated, ...] = ()

    @property
    def outstanding(self) -> bool:
        """Records are left in the spool: they reach Kafka only when a `produce` runs with the broker back."""
        return self.spooled_records > 0


class DistributedProducer:
    """`watchfloor produce`: sources -> the local store (outbox: validated, deduplicated, dead letters) ->
    the relay -> Kafka (acks=all; a fsync'd spool while the broker is away)."""

    def __init__(
        self,
        cfg: AppConfig,
        settings: KafkaConfig,
        *,
        store_url: str | None = None,
        sources: Sequence[SourceConfig] | None = None,
        resend: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`resend`: relay the store's whole outbox to this target again (`produce --resend`). `clock`: the monotonic
        clock the publisher times its probes of a broker away and the outage's reminders by."""
        from watchfloor.stream_processors.kafka.publisher import KafkaPublisher

        self.settings = settings
        self.created_topics: list[str] = []  # the topics `wait_for_broker` created (they were missing)
        # The publisher's counts when the last pass was reported: a spool sent between two passes (`rest`) is in the
        # next pass's line.
        self._reported = (0, 0)
        check_credentials(cfg.sources if sources is None else sources)  # before the store and the broker
        self.store = open_store(store_url or cfg.store)  # (a store that cannot be used is said first, as by all)
        # One producer per spool, for this process's lifetime (claim_spool): before anything is polled or relayed.
        try:
            self.spool_lock = claim_spool(spool_path(settings))
        except BaseException:
            self.store.close()
            raise
        self.publisher = KafkaPublisher(
            settings.bootstrap,
            settings.prefix,
            partitions=settings.partitions,
            spool_path=spool_path(settings),
            timeout_s=settings.publish_timeout,
            clock=clock,
        )
        # Bounded as `run`'s: a JSON Lines source read from the position saved with its documents in the outbox, a
        # slice per poll (the relay's own checkpoint moves only once the broker acknowledged what it sent).
        self.poller = build_poller(cfg, self.store, sources, bounded=True)
        # The relay works out the watermark the workers use, with their skew and idleness (the config's).
        # Its position is this target's (its prefix): what was sent to another pipeline was not sent to this one.
        self.relay = KafkaRelay(
            self.store,
            self.publisher,
            skew=cfg.event_time.skew,
            idle_after=cfg.event_time.idle_after,
            target=target_checkpoint(settings.bootstrap, settings.prefix),
        )
        from_start = self.relay.prepare(resend=resend)
        # What to say once: the store's documents go to this target from the start (None: it goes on where it was).
        self.start_note: str | None = None
        if from_start:
            why = "as --resend asks" if resend else "this store has not sent to it before"
            self.start_note = self._from_start(from_start, why)

    def check_topics(self) -> str | None:
        """Once the broker answered: when this store sent documents to this target but its documents topic holds
        no record at all (deleted and created again since: end offsets are not lowered by retention), relay the
        outbox from the start, and say so. Spooled records are waiting for that topic: then nothing is decided."""
        from watchfloor.stream_processors.kafka.status import documents_written

        sent_to = self.store.checkpoint_position(self.relay.checkpoint)
        if sent_to == 0 or self.publisher.spooled():
            return None
        if self.store.count(types=DOCUMENT_TYPES) == self.store.count(types=DOCUMENT_TYPES, after=sent_to):
            return None  # what it relayed held no document (only marks): nothing to send again
        try:
            written = documents_written(
                self.settings.bootstrap, self.settings.prefix, timeout_s=self.settings.publish_timeout
            )
        except Exception:  # the broker did not answer the question: go on where the relay was
            log.debug("produce: could not read the documents topic's end offsets", exc_info=True)
            return None
        if written != 0:
            return None
        n = self.relay.restart()
        return self._from_start(
            n, f"{TopicNames(self.settings.prefix).documents} is empty, made again since this store sent to it"
        )

    def _from_start(self, n: int, why: str) -> str:
        """The line that says the store's `n` documents go to this target from the start, and `why`."""
        s = self.settings
        documents = f"{n:,} document{'s' if n != 1 else ''}"
        return f"relaying the store's {documents} to {s.prefix} at {s.bootstrap} from the start: {why}"

    def cycle(self) -> ProduceReport:
        """One round: poll the sources due, relay new documents, and send what the spool holds even when
        nothing is new (a broker that came back gets the spooled documents without waiting for news)."""
        publisher = self.publisher
        sent_before, drained_before = self._reported
        future: list[FutureDated] = []

        def on_source(result: Any) -> None:
            # A source is stored: relay its documents now, not once the slowest feed has arrived or timed out
            # (issue 9 §4: one drip-fed feed must not hold back every other source's alerts).
            if result.ingested is not None and result.ingested.accepted:
                future.extend(self.relay.run_once().future_dated)

        summary = self.poller.poll_due(on_source=on_source)
        future.extend(self.relay.run_once().future_dated)  # the rest: the poll's caught-up mark
        # (a broker away: sent only when a probe is due and finds it answering, else nothing is read or tried)
        if publisher.away or publisher.spooled():
            publisher.drain_spool()
        documents, records = publisher.spool_contents()
        self._reported = (publisher.documents_sent, publisher.documents_drained)
        return ProduceReport(
            summary,
            sent=publisher.documents_sent - sent_before,
            drained=publisher.documents_drained - drained_before,
            spooled=documents,
            spooled_records=records,
            spool_path=publisher.spool_path,
            future_dated=tuple(future),
        )

    def rest(self, stop: threading.Event, seconds: float) -> bool:
        """Between two passes: wait `seconds`, or until `stop` is set (True then); a broker away is probed meanwhile,
        and gets the spool once it answers (KafkaPublisher.rest)."""
        return self.publisher.rest(stop, seconds)

    def wait_for_broker(self, stop: threading.Event, *, retry_s: float = 2.0) -> bool:
        """Create the topics that are missing (and check the others), waiting for the broker while it is away
        (one log line when it goes, one when it is back). False when `stop` was set first. The names created are
        in `created_topics`."""
        from watchfloor.stream_processors.kafka.clients import unreachable_errors

        unreachable = unreachable_errors()
        while not stop.is_set():
            try:
                self.created_topics = self.publisher.ensure_topics()
                self.publisher.broker.up()
                return True
            except unreachable as e:
                self.publisher.broker.down(e, meanwhile=f"waiting for it to create the topics (every {retry_s:g}s)")
                stop.wait(retry_s)
        return False

    def close(self) -> None:
        self.poller.close()
        self.publisher.close()
        self.store.close()
        self.spool_lock.close()  # (after the publisher's last spool write)


def build_archive(settings: KafkaConfig, store: Store, *, broker_hint: str | None = None) -> Any:
    """The archive sink of `watchfloor archive`: the pipeline's topics into `store`, the correlate topic's records
    too (kept as read, for `replay-workers`) when the store can keep them (the memory and SQL stores can).
    `broker_hint`: where the broker's address comes from, said when it is unreachable."""
    from watchfloor.stream_processors.kafka.archive import KafkaArchive
    from watchfloor.stream_processors.ports import RecordArchive

    records = store if isinstance(store, RecordArchive) else None
    return KafkaArchive(
        settings.bootstrap, store, topic_prefix=settings.prefix, records=records, broker_hint=broker_hint
    )


class EmbeddedPipeline:
    """Sources -> log -> engine -> alerts, all in one process over one store."""

    def __init__(
        self,
        cfg: AppConfig,
        *,
        store: Store | None = None,
        env: Mapping[str, str] | None = None,
        story_progress: StoryProgress | None = None,
    ) -> None:
        self.cfg = cfg
        check_credentials(cfg.sources, env)  # before the store is opened
        self.packs, self.rules = load_rules(cfg.rules)
        check_subscriptions(cfg, self.rules)  # so is this: a refused config makes no store
        self.store = store or open_store(cfg.store)
        self.engine = engine_for(self.rules, cfg)
        self.poller = build_poller(cfg, self.store, env=env, bounded=True)
        self.runner = EmbeddedRunner(self.store, self.engine)
        self.control = open_control(self.store, cfg)
        catalog = build_catalog(self.rules)
        warn_orphaned_subscriptions(self.control, catalog)
        self.dispatcher = AlertDispatcher(
            self.store,
            build_channel_notifiers(cfg, env),
            cfg.subscriptions,
            retry=cfg.retry,
            routing=self.control,
            catalog=catalog,
            story_progress=story_progress,
            throttles=channel_throttles(cfg),
            update_waits=channel_update_waits(cfg),
        )
        # (`run`'s cycles: alerts of a backlog read a slice per cycle held, then delivered together in event time)
        self.backlog = BacklogHold(cfg.backlog_settle.total_seconds())

    def close(self) -> None:
        self.poller.close()
        self.store.close()
