"""What an alert shows of evidence longer than it can show: the pattern's own reports before corroborating
ones, the first and the newest of a busy window, in their order, never more than the limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from watchfloor.schemas.events import shown_evidence


def test_short_evidence_is_shown_whole() -> None:
    assert shown_evidence([1, 2, 3], 10) == [1, 2, 3]


def test_a_busy_window_shows_its_first_report_and_the_newest() -> None:
    assert shown_evidence(list(range(30)), 10) == [0, *range(21, 30)]


def test_own_reports_come_before_the_newest_corroborating_ones() -> None:
    # an `all_of` of 3 reports corroborated by 20 others: all 3, then the newest 7 of the 20
    assert shown_evidence(list(range(23)), 10, own=3) == [0, 1, 2, *range(16, 23)]
    # own reports that fill the alert alone: the first and the newest of them, no corroborating one
    assert shown_evidence(list(range(40)), 10, own=25) == [0, *range(16, 25)]


@given(n=st.integers(0, 60), limit=st.integers(1, 15), own=st.none() | st.integers(1, 60))
def test_shown_is_an_ordered_selection_within_the_limit(n: int, limit: int, own: int | None) -> None:
    evidence = list(range(n))
    shown = shown_evidence(evidence, limit, own)
    assert len(shown) == min(n, limit)
    assert shown == sorted(set(shown))  # in order, no repeats, all from the evidence
    if n:
        assert shown[0] == 0  # the report that opened it (or its pattern's first) is always there
    if n > limit and limit >= 2:
        kept_own = min(n if own is None else own, n)
        # the newest of the group that is cut: the last corroborating report, or the last own one
        assert shown[-1] == (n - 1 if kept_own < limit else kept_own - 1)


def test_a_message_of_more_reports_than_it_shows_shows_the_first_and_the_newest() -> None:
    """Outside trial 62, L2: a count of 7 reports, all held, showed the first 5 and hid the newest, the report that
    made the alert, among "2 more not shown"; the README promises the first and the newest."""
    from watchfloor.schemas.events import evidence_to_show

    reports = [f"c{i}" for i in range(1, 8)]
    assert evidence_to_show(reports, 7, 5) == ["c1", "c4", "c5", "c6", "c7"]
    assert evidence_to_show(reports[:5], 5, 5) == reports[:5]  # all of it fits: as it is
    assert evidence_to_show(reports, 12, 5) == ["c1", "c4", "c5", "c6", "c7"]  # rests on more than it holds
