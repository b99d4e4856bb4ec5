"""The `watchfloor` command line: thin commands over the wiring, backtest and report modules.

One module per command group; each registers its commands on the Typer apps of `_common`.
"""

from __future__ import annotations

# isort: off
# Importing a command module registers its commands; `watchfloor --help` lists them in this order.
from . import run, ingest, deadletters, rules, backtest, alerts, schemas  # noqa: F401
from . import distributed, topics, status, health, serve, control, store  # noqa: F401

# isort: on
from ._common import app, run_as_program


def main() -> None:
    run_as_program()
    app()


__all__ = ["app", "main"]
