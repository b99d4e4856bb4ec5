"""Wiring: the one place that turns config into concrete stores, engines and notifiers."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.alerts.slackapp.channels import ChannelNotifiers
from watchfloor.producers.poller import SourcePoller
from watchfloor.schemas.config import (
    AppConfig,
    ChannelConfig,
    ConsoleChannel,
    FileChannel,
    KafkaConfig,
    SlackApp,
    SlackChannel,
    WebhookChannel,
)
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.sink import StoreSink
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.runner import EmbeddedRunner
from watchfloor.stream_processors.stores import open_store


class WiringError(ValueError):
    """Config that validates but cannot be put to work (e.g. a Slack token missing from the environment)."""


def build_notifier(ch: ChannelConfig, env: Mapping[str, str] | None = None, slack: SlackApp | None = None) -> Notifier:
    """The notifier for one configured channel; Slack channels fall back to the `slack:` section's token and URL."""
    env = os.environ if env is None else env
    if isinstance(ch, ConsoleChannel):
        return ConsoleNotifier(ch.name)
    if isinstance(ch, FileChannel):
        return FileNotifier(ch.name, ch.path)
    if isinstance(ch, SlackChannel):
        token_env = ch.token_env or (slack.token_env if slack else "SLACK_BOT_TOKEN")
        token = env.get(token_env)
        if not token:
            raise WiringError(
                f"channel {ch.name!r}: the Slack token is read from the environment variable "
                f"{token_env}, which is not set"
            )
        base_url = ch.base_url or (slack.base_url if slack else None)
        return SlackNotifier(ch.name, ch.channel, token, base_url=base_url)
    if isinstance(ch, WebhookChannel):
        return WebhookNotifier(ch.name, ch.url)
    raise WiringError(f"unknown channel type {ch!r}")


def build_notifiers(cfg: AppConfig, env: Mapping[str, str] | None = None) -> dict[str, Notifier]:
    return {ch.name: build_notifier(ch, env, cfg.slack) for ch in cfg.channels}


def build_channel_notifiers(cfg: AppConfig, env: Mapping[str, str] | None = None) -> ChannelNotifiers:
    """The configured channels' notifiers, plus Slack channels subscribed from Slack (`slack:<id>`), posted to
    with the `slack:` section's token when it is set."""
    env = os.environ if env is None else env
    slack = cfg.slack or SlackApp()
    token = env.get(slack.token_env)

    def slack_for(channel_id: str) -> Notifier:
        assert token is not None
        return SlackNotifier(f"slack:{channel_id}", channel_id, token, base_url=slack.base_url)

    return ChannelNotifiers(build_notifiers(cfg, env), slack_for if token else None)


def open_control(store: Store, cfg: AppConfig) -> ControlLog:
    """The store's subscriptions, silences and acknowledgements, with the config file's subscriptions
    reconciled into the log (created when new, removed when gone from the file)."""
    control = ControlLog(store)
    control.reconcile_config(cfg.subscriptions)
    return control


def build_dispatcher(cfg: AppConfig, store: Store, env: Mapping[str, str] | None = None) -> AlertDispatcher:
    return AlertDispatcher(
        store, build_channel_notifiers(cfg, env), cfg.subscriptions, retry=cfg.retry, routing=open_control(store, cfg)
    )


def dispatcher_factory(cfg: AppConfig, env: Mapping[str, str] | None = None) -> Callable[[Store], AlertDispatcher]:
    """For runtimes that open their own store (the Faust worker): notifiers are built now, so a missing
    Slack token fails at start, not at the first alert."""
    notifiers = build_channel_notifiers(cfg, env)

    def make(store: Store) -> AlertDispatcher:
        return AlertDispatcher(store, notifiers, cfg.subscriptions, retry=cfg.retry, routing=open_control(store, cfg))

    return make


def kafka_settings(cfg: AppConfig, **overrides: Any) -> KafkaConfig:
    """The config's `kafka:` section with the command line's options (those given: not None) on top, validated."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return KafkaConfig.model_validate({**cfg.kafka.model_dump(), **given}) if given else cfg.kafka


def build_engine(rules: list[str]) -> Engine:
    _packs, compiled = load_rules(rules)
    return Engine(compiled)


def detection_sink(cfg: AppConfig, store_url: str, *, dispatch: bool) -> StoreSink:
    """The worker's sink: detections into the store at `store_url`, and with `dispatch` the alerts delivered
    from there. Notifiers are built now, so a missing Slack token fails at start, not at the first alert."""
    factory = dispatcher_factory(cfg) if dispatch else None
    return StoreSink(lambda: open_store(store_url), factory)


class EmbeddedPipeline:
    """Sources -> log -> engine -> alerts, all in one process over one store."""

    def __init__(self, cfg: AppConfig, *, store: Store | None = None, env: Mapping[str, str] | None = None) -> None:
        self.cfg = cfg
        if cfg.store.startswith("sqlite:///"):
            from pathlib import Path

            Path(cfg.store[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.store = store or open_store(cfg.store)
        self.packs, self.rules = load_rules(cfg.rules)
        self.engine = Engine(self.rules)
        self.poller = SourcePoller(self.store, cfg.sources, cfg.max_body_chars)
        self.runner = EmbeddedRunner(self.store, self.engine)
        self.control = open_control(self.store, cfg)
        self.dispatcher = AlertDispatcher(
            self.store, build_channel_notifiers(cfg, env), cfg.subscriptions, retry=cfg.retry, routing=self.control
        )

    def close(self) -> None:
        self.store.close()
