"""A reset of a pipeline's topics under the same prefix stops an archive into the store that archived the old ones:
`produce --resend --help`, the way to such a reset, says so and the way out (outside trial 31, M3)."""

from __future__ import annotations

from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.stream_processors.ports import RecordConflict


def test_produce_resend_help_says_the_archive_needs_another_store() -> None:
    res = CliRunner().invoke(app, ["produce", "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert res.exit_code == 0
    text = " ".join(w for w in res.output.split() if w != "│")  # (a help line wrapped in the box's borders)
    assert "archive the new ones into another store (`archive --store URL`), or use a new --prefix" in text, text


def test_the_archive_error_names_the_way_out() -> None:
    said = str(RecordConflict("t31.correlate", 1, 0))
    assert "`watchfloor archive --store URL`" in said and "a new --prefix" in said
