"""English counts and nouns for the CLI and backtest text: never "label(s)" (outside trial 64, LOW-4)."""

from __future__ import annotations

from watchfloor.schemas.plural import counted, noun


def test_a_count_takes_the_noun_in_the_form_it_needs() -> None:
    assert [counted(n, "alert") for n in (0, 1, 2)] == ["0 alerts", "1 alert", "2 alerts"]
    assert counted(3, "entry", "entries") == "3 entries"
    assert [noun(n, "label") for n in (1, 2)] == ["label", "labels"]
    assert noun(2, "entry", "entries") == "entries"
