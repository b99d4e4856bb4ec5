"""LagHistory: how long a consumer group has been behind, from successive looks at the broker's offsets."""

from __future__ import annotations

from watchfloor.stream_processors.kafka.status import GroupStatus, LagHistory, PipelineStatus, TopicLag

DOCS, CORR = "p.documents", "p.correlate"


def look(
    ends: dict[tuple[str, int], int],
    workers: dict[tuple[str, int], int],
    archive: dict[tuple[str, int], int] | None = None,
) -> PipelineStatus:
    """A status with end offsets `ends` and the groups' committed offsets (archive None: never ran)."""

    def group(name: str, role: str, committed: dict[tuple[str, int], int] | None) -> GroupStatus:
        topics = [
            TopicLag(
                t,
                sum(e for (tt, _), e in ends.items() if tt == t),
                sum(o for (tt, _), o in (committed or {}).items() if tt == t),
                2,
            )
            for t in (DOCS, CORR)
        ]
        return GroupStatus(name, role, "Stable", [], topics, started=committed is not None, offsets=committed or {})

    groups = [group("p-worker", "workers", workers), group("p-archive", "archive", archive)]
    return PipelineStatus("b", "p", {}, [], groups, ends=dict(ends))


def ends_at(n0: int, n1: int, c: int = 0) -> dict[tuple[str, int], int]:
    return {(DOCS, 0): n0, (DOCS, 1): n1, (CORR, 0): c, (CORR, 1): 0}


def test_caught_up_is_zero_and_a_group_that_never_ran_is_left_out() -> None:
    h = LagHistory()
    assert h.observe(look(ends_at(5, 5), ends_at(5, 5)), 100.0) == {"p-worker": 0.0}


def test_behind_counts_from_the_first_look_it_has_not_caught_up_with() -> None:
    h = LagHistory()
    assert h.observe(look(ends_at(5, 5), ends_at(5, 5)), 100.0) == {"p-worker": 0.0}
    # new records at 110; the workers stay where they were: behind since the look at 110, not the one at 100
    assert h.observe(look(ends_at(8, 5), ends_at(5, 5)), 110.0)["p-worker"] == 0.0
    assert h.observe(look(ends_at(9, 7), ends_at(5, 5)), 130.0)["p-worker"] == 20.0
    # they read what was written by 110 (not yet what came by 130): behind since 130
    assert h.observe(look(ends_at(9, 9), ends_at(8, 5)), 150.0)["p-worker"] == 20.0
    # every partition counts: partition 0 far ahead does not make up for partition 1
    assert h.observe(look(ends_at(20, 9), ends_at(20, 6)), 170.0)["p-worker"] == 40.0
    assert h.observe(look(ends_at(20, 9), ends_at(20, 9, 0)), 180.0)["p-worker"] == 0.0


def test_a_group_that_never_committed_is_behind_since_the_first_look() -> None:
    h = LagHistory()
    for at in (0.0, 60.0, 600.0):
        got = h.observe(look(ends_at(3, 3), {}), at)
    assert got == {"p-worker": 600.0}


def test_the_archive_counts_once_it_has_run() -> None:
    h = LagHistory()
    h.observe(look(ends_at(4, 4), ends_at(4, 4), archive=ends_at(0, 0)), 0.0)
    got = h.observe(look(ends_at(4, 4), ends_at(4, 4), archive=ends_at(2, 4)), 30.0)
    assert got == {"p-worker": 0.0, "p-archive": 30.0}


def test_looks_no_group_needs_are_dropped() -> None:
    h = LagHistory(keep=8)
    for i in range(100):  # always caught up: one look kept, whatever the count
        h.observe(look(ends_at(i, i), ends_at(i, i)), float(i))
    assert len(h._answers) == 1
    for i in range(100, 120):  # stuck: the oldest looks go first (keep), a lower bound of the time behind
        got = h.observe(look(ends_at(i, i), ends_at(99, 99)), float(i))
    assert len(h._answers) == 8 and got["p-worker"] == 7.0
