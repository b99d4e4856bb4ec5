"""A config file edited under a live `run`: what changed, and its `subscriptions:` applied when it can route them."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path

from .alerts.control import ControlLog
from .config import ConfigError, load_config
from .schemas.config import AppConfig
from .stream_processors.engine.compiler import CompiledRules
from .stream_processors.stores.errors import StoreError, store_problem
from .wiring import WiringError, check_subscriptions, with_store_env


@dataclass(frozen=True)
class ConfigEdit:
    """What one look at an edited config found and did."""

    error: str | None = None  # the file does not load: nothing of it was used
    changed: list[str] = field(default_factory=list)  # settings besides `subscriptions:` that differ from the start
    applied: tuple[int, int] | None = None  # `subscriptions:` reconciled into the store: (created, removed)
    held: str | None = None  # why `subscriptions:` was not applied
    # the store could not take `subscriptions:` (an outage met right then): the edit is looked at again next cycle
    deferred: str | None = None


def config_changes(before: AppConfig, after: AppConfig) -> list[str]:
    """The top-level settings, other than `subscriptions:`, whose values differ (in the config's order)."""
    return [
        name
        for name in type(before).model_fields
        if name != "subscriptions" and getattr(before, name) != getattr(after, name)
    ]


def subscriptions_held(
    after: AppConfig, started: AppConfig, channels: Container[str], rules: CompiledRules | None
) -> str | None:
    """Why the edited `subscriptions:` cannot reach this run's routing, or None when they can: they must name
    channels this run can post to, and rules it runs (unless `rules` is None: a process that runs none, `notify`),
    in the store it writes."""
    if after.store != started.store:
        return "the config names another store"
    unknown = sorted({s.channel for s in after.subscriptions if s.channel not in channels})
    if unknown:
        what = "is not a channel" if len(unknown) == 1 else "are not channels"
        return f"{_names(unknown)} {what} it started with"
    try:
        if rules is not None:
            check_subscriptions(after, rules)  # against the rules this run runs, not the file's new ones
    except WiringError as e:
        return str(e)
    return None


def apply_config_edit(
    path: Path,
    started: AppConfig,
    control: ControlLog,
    channels: Container[str],
    rules: CompiledRules | None,
    load: Callable[[Path], AppConfig] = load_config,
) -> ConfigEdit:
    """Read the edited file; reconcile its `subscriptions:` into the store when this run can route them (a live
    `run` routes by the store's subscriptions each cycle, so they apply from its next alert without a restart:
    outside trial 30, F4); say which other settings wait for a restart."""
    try:
        after = with_store_env(load(path))
    except (ConfigError, OSError) as e:
        return ConfigEdit(error=str(e))
    changed = config_changes(started, after)
    held = subscriptions_held(after, started, channels, rules)
    if held is not None:
        return ConfigEdit(changed=changed, held=held)
    try:
        applied = control.reconcile_config(after.subscriptions)
    except StoreError as e:  # (a live loop: an outage exited it here, and the edit was taken as seen)
        return ConfigEdit(changed=changed, deferred=store_problem(e))
    return ConfigEdit(changed=changed, applied=applied)


def edit_lines(path: Path, edit: ConfigEdit, process: str = "run") -> list[str]:
    """What a live `run` (`notify`) says of an edit of its config file: one line, two when a part waits for a
    restart."""
    head = f"the config file {path} changed"
    if edit.error is not None:
        # Not "what it started with": a `subscriptions:` edit applied before stays applied (trial 42, LOW-2)
        return [
            f"{head} and does not load, so this {process} goes on as it is (its `subscriptions:` as last applied from "
            f"the file, the rest as it started with): {edit.error}"
        ]
    lines = []
    if edit.applied is not None:
        created, removed = edit.applied
        if created or removed:
            lines.append(
                f"{head}: subscriptions applied ({created} added, {removed} removed); "
                "alerts raised from now on are routed by them"
            )
        elif not edit.changed:
            lines.append(f"{head}: nothing this {process} uses differs")
    elif edit.deferred is not None:
        lines.append(
            f"{head}: its `subscriptions:` could not be written to the store ({edit.deferred}); this {process} "
            "applies them once the store answers again"
        )
    elif edit.held is not None:
        lines.append(
            f"{head}: its `subscriptions:` are not applied ({edit.held}); start this {process} again to use the edit"
        )
    if edit.changed:
        lines.append(
            f"{head}: {_names(edit.changed)} differ from what this {process} started with; it keeps using those "
            "until started again"
        )
    return lines


def _names(names: list[str]) -> str:
    return " and ".join(", ".join(names).rsplit(", ", 1))
