"""A closed stdout (`watchfloor --help | head`) ends a command quietly: exit 1 as Python's convention for SIGPIPE
has it, and no "error: Broken pipe" on stderr (outside trial 77, F5)."""

from __future__ import annotations

import errno

from typer.testing import CliRunner

from watchfloor.cli._common import Typer, _CommandGroup


def test_a_closed_stdout_ends_the_command_with_exit_1_and_no_message() -> None:
    app = Typer(cls=_CommandGroup)

    @app.command()
    def tell() -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")  # what writing to a pipe its reader closed raises

    @app.command()
    def fail() -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "inbox/a.jsonl")

    closed = CliRunner().invoke(app, ["tell"])
    assert closed.exit_code == 1 and "error" not in closed.output.lower(), closed.output
    failed = CliRunner().invoke(app, ["fail"])  # any other OSError is still said in one line
    assert failed.exit_code == 1 and "error: inbox/a.jsonl: No such file or directory" in failed.output, failed.output
