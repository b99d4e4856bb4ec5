"""Shared pieces of the command line: the Typer apps, consoles, config loading, progress bars, errors."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..config import ConfigError, load_config

app = typer.Typer(help="Event-sourced alerting for geopolitical news.", no_args_is_help=True, add_completion=False)
rules_app = typer.Typer(help="Validate and test detection rule packs.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts raised so far.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas for inputs, events, rule packs and config.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(schemas_app, name="schemas")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML). Default: the bundled embedded demo.")
]


def progress_bar(console: Console = err) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def app_config(path: Path | None) -> Any:
    """The config file (or the bundled default); WATCHFLOOR_STORE overrides its store (containers)."""
    try:
        cfg = load_config(path)
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    env_store = os.environ.get("WATCHFLOOR_STORE")
    return cfg.model_copy(update={"store": env_store}) if env_store else cfg


def stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM, so long-running commands finish their cycle and close cleanly."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


def redact_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url

