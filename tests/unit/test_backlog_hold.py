"""The backlog hold (alerts.backlog): held from the first look that finds a backlog, until one finds it read or the
settle time is up; and `notify --broker`'s look at the workers' lag (cli.distributed.WorkersBacklog)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchfloor.alerts.backlog import BacklogHold
from watchfloor.cli.distributed import CAUGHT_UP_QUIET, LAG_PROBE, LAG_RETRY, WORKERS_BACKLOG, WorkersBacklog


def test_held_from_the_first_look_behind_until_caught_up() -> None:
    hold = BacklogHold(60)
    assert not hold.holding(0)
    hold.observe(True, 10)
    hold.observe(True, 20)  # (still the same backlog: held from 10)
    assert hold.holding(69.9) and hold.since == 10
    hold.observe(False, 30)
    assert not hold.holding(30) and hold.since is None


def test_the_time_is_up_after_settle_seconds_and_a_new_backlog_holds_again() -> None:
    hold = BacklogHold(60)
    hold.begin(0)
    assert hold.holding(59.9) and not hold.holding(60)
    hold.observe(True, 100)  # the same backlog, still being read: delivered as it comes
    assert not hold.holding(100)
    hold.observe(False, 110)
    hold.observe(True, 120)
    assert hold.holding(121) and hold.held_for(125) == 5


def test_a_settle_of_zero_never_holds() -> None:
    hold = BacklogHold(0)
    hold.begin(0)
    assert not hold.holding(0) and hold.since is None


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1000)), max_size=30), st.floats(0, 300))
def test_never_held_longer_than_settle_nor_once_caught_up(looks: list[tuple[bool, float]], settle: float) -> None:
    hold, now = BacklogHold(settle), 0.0
    for behind, step in looks:
        now += step
        hold.observe(behind, now)
        if hold.holding(now):
            assert behind or hold.since is not None
            assert hold.held_for(now) < settle
        if not behind:
            assert not hold.holding(now)
        elif hold.since is not None and now - hold.since < settle:
            assert hold.holding(now)  # (review 24, L4: the property held of a hold that never holds)


class Lags:
    """The lag a WorkersLag would read, one per look (None: the broker could not be asked), and the documents
    written by then (`written`, as WorkersLag keeps it)."""

    servers = "127.0.0.1:9,127.0.0.1:10"  # (as WorkersLag keeps them: bootstrap_servers, one string)

    def __init__(self, *lags: int | None, written: list[int] | None = None) -> None:
        self.lags, self.closed = list(lags), False
        self.writes = list(written) if written is not None else [0] * len(lags)
        self.written: int | None = None
        self.probes: list[bool] = []  # what each look at the broker finds (WorkersLag.answers)

    def lag(self) -> int | None:
        self.written = self.writes.pop(0)
        return self.lags.pop(0)

    def answers(self) -> bool:
        """A connection to the broker (WorkersLag.answers): refused, as by a broker away, unless told otherwise."""
        return self.probes.pop(0) if self.probes else False

    def close(self) -> None:
        self.closed = True


def test_notify_holds_while_the_workers_are_a_backlog_behind_and_says_how_the_hold_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    looks = WorkersBacklog(Lags(WORKERS_BACKLOG - 1, 5000, 3000, 12, 8, 0, 900, 900, 900))
    hold = BacklogHold(60)
    held = [looks.look(hold, t) for t in (0, 2, 4, 6, 8, 6 + CAUGHT_UP_QUIET, 20, 82, 84)]
    # live lag (a few seconds of records) holds nothing; a backlog holds until it has looked read for
    # CAUGHT_UP_QUIET seconds, or for 60 s at most
    assert held == [False, True, True, True, True, False, True, False, False]
    said = capsys.readouterr().err
    assert said.count("the workers are reading a backlog (5,000 records behind)") == 1
    assert f"the workers caught up after {6 + CAUGHT_UP_QUIET - 2:.0f} s: the backlog's alerts go now" in said
    assert said.count("have not caught up after 60 s (backlog_settle; 900 records behind") == 1  # once per hold


def test_a_producer_still_writing_a_backfill_between_slices_keeps_the_hold(capsys: pytest.CaptureFixture[str]) -> None:
    # Outside trial 27, F1: the workers caught up with each slice a producer relayed (lag under the threshold between
    # slices) and the hold ended mid-backfill; the later-dated alerts of the file's first slice went first.
    slices = Lags(1000, 150, 10, 1000, 5, 0, 0, 0, written=[1000, 1000, 2000, 3000, 3000, 3000, 3000, 3000])
    looks, hold = WorkersBacklog(slices), BacklogHold(60)
    held = [looks.look(hold, t) for t in (0, 2, 4, 6, 8, 10, 12, 14)]
    # t=4: the workers had caught up, but 1,000 more documents were written since the last look: still a backlog;
    # read from t=8, released CAUGHT_UP_QUIET seconds later
    assert held == [True, True, True, True, True, True, True, False]
    assert "caught up after 14 s" in capsys.readouterr().err


def test_a_lag_that_cannot_be_read_delivers_as_it_comes_and_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    lags = Lags(5000, None, None, 5000)
    looks, hold = WorkersBacklog(lags), BacklogHold(60)
    # (not asked again before LAG_RETRY: a broker away may keep each look waiting for seconds)
    times = (0, 2, 4, 2 + LAG_RETRY, 3 + 2 * LAG_RETRY)
    assert [looks.look(hold, t) for t in times] == [True, False, False, False, True]
    assert lags.lags == []
    said = capsys.readouterr().err
    assert said.count("cannot read the workers' lag from 127.0.0.1:9, 127.0.0.1:10:") == 1  # (trial 39, M2: 1, 2, 7, .)
    assert "can be read again" in said
    looks.close()
    assert lags.closed


def test_the_lag_is_asked_again_as_soon_as_a_broker_away_answers_again(capsys: pytest.CaptureFixture[str]) -> None:
    # Outside trial 75, F6: after a broker outage, notify asked for the lag again only LAG_RETRY after its failed look,
    # so the producers' spool drain (the backlog the hold is for) was delivered as it came. The broker is looked at
    # meanwhile (a connection, every LAG_PROBE seconds): once it takes one again, the lag is asked for at once.
    lags = Lags(10, None, 5000, 5000)
    lags.probes = [False, False, True]
    looks, hold = WorkersBacklog(lags), BacklogHold(60)
    t = [0, 2, 2 + LAG_PROBE, 2 + 2 * LAG_PROBE, 2 + 3 * LAG_PROBE, 2 + 3 * LAG_PROBE + 1]
    got = [looks.look(hold, at) for at in t]
    assert t[-1] < 2 + LAG_RETRY
    # (a look between probes asks nothing: t[-1] is within LAG_PROBE of the last probe, and the lag is read again)
    assert got == [False, False, False, False, True, True], got
    assert lags.lags == [] and lags.probes == []
    said = capsys.readouterr().err
    assert "can be read again" in said and "the workers are reading a backlog (5,000 records behind)" in said


def test_a_broker_that_answers_yet_cannot_tell_the_lag_is_asked_again_after_lag_retry() -> None:
    # (a coordinator moving: the connection is taken, the lag is not told; asked once more at once, then at LAG_RETRY)
    lags = Lags(None, None, 5000)
    lags.probes = [True] * 20
    looks, hold = WorkersBacklog(lags), BacklogHold(60)
    t = [0.0, LAG_PROBE, *(LAG_PROBE * k for k in range(2, 10)), LAG_PROBE + LAG_RETRY]
    got = [looks.look(hold, at) for at in t]
    assert got == [False] * (len(t) - 1) + [True]
    assert lags.lags == []


class Looks:
    """(lag, documents written) per look, as WorkersLag reads them; a lag of None is a look that failed (and keeps the
    `written` of the last look that worked, as WorkersLag does)."""

    servers = "127.0.0.1:9,127.0.0.1:10"  # (as WorkersLag keeps them: bootstrap_servers, one string)

    def __init__(self, looks: list[tuple[int | None, int]]) -> None:
        self.looks = list(looks)
        self.written: int | None = None

    def lag(self) -> int | None:
        lag, written = self.looks.pop(0)
        if lag is not None:
            self.written = written
        return lag

    def answers(self) -> bool:
        return False  # (a broker away: the lag is asked for again at LAG_RETRY)

    def close(self) -> None:
        pass


def test_a_steady_live_producer_read_at_a_long_interval_holds_nothing() -> None:
    # Review 24, M1: `notify --interval 30`, a producer writing 8 documents a second that the workers keep up with
    # (lag 5): 240 documents between looks counted as a backlog, and every live alert was held for backlog_settle.
    looks, hold = WorkersBacklog(Looks([(5, 240 * k) for k in range(10)])), BacklogHold(60)
    assert not any(looks.look(hold, 30.0 * k) for k in range(10))


def test_what_was_written_while_the_lag_could_not_be_read_is_no_backlog() -> None:
    # Review 24, M1: the first look after a failed one counted the 30 s of a live producer's writing as a backlog.
    seq: list[tuple[int | None, int]] = [(3, 0), (3, 20), (None, 0), (3, 20 + 10 * 160), (3, 20 + 10 * 162)]
    looks, hold = WorkersBacklog(Looks(seq)), BacklogHold(60)
    got = [looks.look(hold, t) for t in (0, 2, 4, 4 + LAG_RETRY, 6 + LAG_RETRY)]
    assert got == [False, False, False, False, False]


def test_a_hold_says_what_started_it_and_how_it_ended(capsys: pytest.CaptureFixture[str]) -> None:
    # Review 24, M1 and L2: a burst the workers had read by the next look said "(0 records behind)"; and once the time
    # was up, the workers catching up said "the backlog's alerts go now", with nothing held any more.
    looks, hold = WorkersBacklog(Looks([(0, 0), (0, 1000), (0, 1000)])), BacklogHold(60)
    assert [looks.look(hold, t) for t in (0, 2, 2 + CAUGHT_UP_QUIET)] == [False, True, True]
    said = capsys.readouterr().err
    assert "the workers are reading a backlog (1,000 documents written in 2 s)" in said, said
    seq = [(5000, 0)] + [(4000, 0)] * 4 + [(0, 0), (0, 0)]
    looks, hold = WorkersBacklog(Looks(seq)), BacklogHold(60)
    assert [looks.look(hold, t) for t in (0, 30, 61, 90, 120, 150, 156)][2:] == [False] * 5
    said = capsys.readouterr().err
    assert "the workers caught up after 3 min\n" in said and "the backlog's alerts go now" not in said, said
