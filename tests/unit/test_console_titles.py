"""The console notifier's panel titles: a title longer than the terminal is cut at a word and ends in "…" (trial 6
L3: Rich cut it at the border, mid-word and unmarked: "…; the treaty is in─╮")."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from watchfloor.alerts.notifiers.console import ConsoleNotifier, shortened
from watchfloor.schemas.events import Alert, Detection, Evidence

TITLE = "North Korea and Russia exchanged ratification instruments; the treaty is in force"


def printed(title: str, width: int) -> str:
    when = datetime(2024, 12, 4, 9, tzinfo=UTC)
    ev = Evidence(event_id="d", signal="s", source="W", published_at=when, sentence="They exchanged them.")
    det = Detection(id="x", rule="r", title=title, severity="high", fired_at=when, evidence=(ev,))
    out = io.StringIO()
    ConsoleNotifier("console", console=Console(file=out, width=width, highlight=False)).send(
        Alert(id="x", detection=det, channels=("console",))
    )
    return out.getvalue()


@pytest.mark.parametrize("width", [60, 80])
def test_a_long_title_is_cut_at_a_word_with_an_ellipsis(width: int) -> None:
    top = printed(TITLE, width).splitlines()[0]
    assert len(top) == width and top.startswith("╭─ North Korea and Russia exchanged ratification"), top
    shown = top.removeprefix("╭─ ").rstrip("─╮").rstrip()
    assert shown.endswith("…") and TITLE.startswith(shown.removesuffix("…")), top
    assert TITLE[len(shown) - 1] == " ", top  # cut before a word, not inside one


def test_a_title_that_fits_is_whole() -> None:
    assert f"╭─ {TITLE} ─" in printed(TITLE, 120)


def test_shortened() -> None:
    assert shortened("the treaty is in force", 22) == "the treaty is in force"
    assert shortened("the treaty is in force", 20) == "the treaty is in…"
    assert shortened("instruments; the treaty", 16) == "instruments…"  # no dangling ";"
    assert shortened("Supercalifragilistic", 8) == "Superca…"  # one word longer than the room


def test_a_revision_is_named_by_the_alert_id_alerts_list_shows() -> None:
    """Outside trial 6 (L2): a revision's message named its delivery key, which `alerts list` does not show."""
    from watchfloor.alerts.notice import Notice

    when = datetime(2024, 12, 4, 9, tzinfo=UTC)
    ev = Evidence(event_id="d", signal="s", source="W", published_at=when, sentence="They exchanged them.")
    det = Detection(id="a-2", rule="r", title="t", severity="high", fired_at=when, evidence=(ev,), revises="a-1")
    notice = Notice(
        key="key-of-revision", kind="revision", alert=Alert(id="a-2", detection=det, channels=("c",)), channel="c"
    )
    out = io.StringIO()
    ConsoleNotifier("console", console=Console(file=out, width=100, highlight=False)).send(notice)
    assert "alert a-2" in out.getvalue() and "key-of-revision" not in out.getvalue(), out.getvalue()
