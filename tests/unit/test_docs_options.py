"""Every option of every command is named in README.md or docs/: an option only `--help` shows is one a user
cannot find from the docs (outside trial 43, L2)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from watchfloor.cli import app

REPO = Path(__file__).resolve().parents[2]


def _docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


def _options(command: Any, path: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    """(command path, primary long option, its negative forms) for every option of every leaf command."""
    if hasattr(command, "commands"):  # a group: its subcommands
        out: list[tuple[str, str, list[str]]] = []
        for name, sub in command.commands.items():
            out += _options(sub, (*path, name))
        return out
    found = []
    for param in command.params:
        longs = [o for o in param.opts if o.startswith("--") and o != "--help"]
        if longs:
            found.append((" ".join(path), longs[0], [o for o in param.secondary_opts if o.startswith("--")]))
    return found


def _named(option: str, docs: str) -> bool:
    return re.search(re.escape(option) + r"(?![\w-])", docs) is not None


def test_every_cli_option_is_named_in_the_docs() -> None:
    docs = _docs()
    options = _options(typer.main.get_command(app), ())
    assert len(options) > 100  # the walk reached the commands (a typer change would make this pass vacuously)
    missing = [f"watchfloor {cmd} {opt}" for cmd, opt, _neg in options if not _named(opt, docs)]
    assert not missing, "options named nowhere in README.md or docs/: " + ", ".join(missing)


def test_a_documented_option_missing_is_found() -> None:
    docs = _docs().replace("--session-timeout", "")
    options = _options(typer.main.get_command(app), ())
    assert any(opt == "--session-timeout" and not _named(opt, docs) for _cmd, opt, _neg in options)
