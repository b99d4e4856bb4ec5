"""`--interval` takes seconds or a duration as the config writes one (trial 38, LOW-8: `run --interval 3s` was
refused as not a number while `poll_interval: 60s` is the same setting)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.cli._common import interval_seconds


@pytest.mark.parametrize(("text", "seconds"), [("3", 3.0), ("0.5", 0.5), ("3s", 3.0), ("5m", 300.0), ("1h", 3600.0)])
def test_seconds_or_a_duration(text: str, seconds: float) -> None:
    assert interval_seconds(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5x", "0", "-2s", "nan", "inf"])
def test_anything_else_is_refused_with_what_to_write(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        interval_seconds(text)


def test_a_default_given_as_a_number_passes_through() -> None:
    assert interval_seconds(2.0) == 2.0  # (click hands the parser a command's default too: `notify`'s 2.0)


def test_the_commands_take_it() -> None:
    for command in (["run"], ["produce"], ["notify"]):
        res = CliRunner().invoke(app, [*command, "--interval", "soon"], env={"COLUMNS": "200"})
        assert res.exit_code == 2 and "is not an interval: seconds (e.g. 30, 0.5) or a duration" in res.output, (
            command,
            res.output,
        )
