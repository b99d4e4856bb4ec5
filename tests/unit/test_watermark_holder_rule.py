"""eventtime.holder: which origin holds the watermark back, judged as the next CaughtUp mark judges idleness."""

from __future__ import annotations

from watchfloor.stream_processors.engine import eventtime as et

HOUR = 3600.0


def tracker(**origins: tuple[float | None, float | None]) -> dict:  # type: ignore[type-arg]
    t = et.new_tracker()
    t["o"] = {name: list(entry) for name, entry in origins.items()}
    return t


def test_the_lowest_origin_still_delivering_holds_the_watermark() -> None:
    t = tracker(feeds=(100.0, 1_000.0), stream=(900.0, 1_500.0))
    assert et.caught_up(t, [], 1_500.0, HOUR, None) == 100.0
    assert et.holder(t, 100.0, HOUR) == ("feeds", 100.0, 1_000.0)


def test_an_idle_origin_holds_nothing_and_a_watermark_past_it_is_not_held() -> None:
    # silent for more than idle_after before the newest document received: idle, as the next mark judges it
    t = tracker(feeds=(100.0, 1_000.0), stream=(900.0, 1_000.0 + HOUR + 1))
    assert et.holder(t, 900.0, HOUR) == ("stream", 900.0, 1_000.0 + HOUR + 1)
    assert et.holder(tracker(stream=(900.0, 5.0)), 950.0, HOUR) is None  # W moved on (it never goes back)
    assert et.holder(tracker(), None, HOUR) is None


def test_an_origin_behind_the_published_watermark_neither_holds_it_nor_hides_who_does() -> None:
    # Outside trial 75, F7: a backfill added later (every report older than W) stopped W while the live source's
    # newer reports came in, and as the lowest watermark was not W, no holder was named.
    t = tracker(live=(1_000.0, 5_000.0), backfill=(100.0, 5_100.0))
    assert et.holder(t, 1_000.0, HOUR) == ("live", 1_000.0, 5_000.0)  # at its W, the live source holds it: named
    assert et.caught_up(t, [], 5_100.0, HOUR, 900.0) == 1_000.0  # and W goes on with it
    assert et.caught_up(t, [], 5_100.0, HOUR, None) == 100.0  # before any W (a start): the slowest holds it
    assert et.holder(t, 100.0, HOUR) == ("backfill", 100.0, 5_100.0)
    t["o"]["backfill"][0] = 1_200.0  # its reports passed W: it holds W again, at its own pace
    assert et.caught_up(t, [], 5_100.0, HOUR, 1_000.0) == 1_000.0
    assert et.caught_up(tracker(backfill=(100.0, 5_100.0)), [], 5_100.0, HOUR, 900.0) == 100.0  # (kept monotone)
