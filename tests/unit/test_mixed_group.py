"""A running worker that finds its group mixed (rules_guard.mixed_group_action, MixedGroupWatch): two workers started
together into an empty group both passed the check at start and shared the partitions (outside trial 86, F5).

Of the fingerprints in a group the one that sorts last goes on and every other worker stops: both sides reach
opposite answers from the same members, so exactly one rule set keeps running."""

from __future__ import annotations

import asyncio
import logging

import pytest

from watchfloor.stream_processors.kafka.rules_guard import (
    MIXED_GROUP_EXIT,
    MixedGroupWatch,
    RulesGuard,
    client_id,
    describe_member,
    mixed_group_action,
)

GROUP = "t86-worker"
OLD = "4d3898c42f41-v0.1.0+f68a01c3d4"
NEW = "4d3898c42f41-v0.1.0+55efcf0040"  # sorts first: the new release gives way here
OTHER_RULES = "9a0000000000-v0.1.0+55efcf0040"


def member(host: str, pid: int, fingerprint: str) -> str:
    return f"{client_id(GROUP, host, pid, fingerprint)}@10.0.0.{pid % 250}"


def test_exactly_one_side_of_a_mixed_group_goes_on_whatever_the_order_they_look_in() -> None:
    a, b = member("vm-1", 101, OLD), member("vm-2", 202, NEW)
    for ours, members in ((OLD, [a, b]), (NEW, [b, a])):
        assert mixed_group_action(ours, members, 0.0, 60.0).action in ("give_way", "wait")
    assert mixed_group_action(NEW, [a, b], 0.0, 60.0).action == "give_way"
    assert mixed_group_action(NEW, [a, b], 0.0, 60.0).others == (a,)
    assert mixed_group_action(OLD, [a, b], 0.0, 60.0).action == "wait"
    # three rule sets: only the last goes on; alone (or beside members that are not workers) it just goes on
    c = member("vm-3", 303, OTHER_RULES)
    actions = {fp: mixed_group_action(fp, [a, b, c], 0.0, 60.0).action for fp in (OLD, NEW, OTHER_RULES)}
    assert actions == {OLD: "give_way", NEW: "give_way", OTHER_RULES: "wait"}
    assert mixed_group_action(OLD, [a, "probe@10.0.0.9"], 0.0, 60.0).action == "alone"


def test_the_side_that_goes_on_stops_too_when_the_others_never_leave() -> None:
    # A release of before this rule does not stop on its own: never both run on without a word.
    others = [member("vm-1", 101, NEW)]
    assert mixed_group_action(OLD, others, 59.0, 60.0).action == "wait"
    assert mixed_group_action(OLD, others, 60.0, 60.0).action == "unheeded"


def test_a_member_is_named_by_host_pid_and_release() -> None:
    said = describe_member(GROUP, member("vm-29589-b", 4242, OLD))
    assert said.startswith("host vm-29589-b pid 4242 release 0.1.0+f68a01c3d4"), said


class Look:
    """The watch's seams: the members the broker lists at each look, a fake clock and sleep, and the stop."""

    def __init__(self, listings: list[list[str] | None]) -> None:
        self.listings = listings
        self.now = 0.0
        self.stopped: list[str] = []

    async def members(self) -> list[str] | None:
        return self.listings.pop(0) if len(self.listings) > 1 else self.listings[0]

    async def sleep(self, s: float) -> None:
        self.now += s

    async def stop(self, message: str) -> None:
        self.stopped.append(message)

    def watch(self, ours: str) -> MixedGroupWatch:
        return MixedGroupWatch(
            ours, GROUP, self.members, self.stop, allowed_s=60.0, clock=lambda: self.now, sleep=self.sleep
        )


def test_the_watch_stops_the_worker_that_gives_way_naming_the_other(caplog: pytest.LogCaptureFixture) -> None:
    old = member("vm-1", 101, OLD)
    look = Look([None, [old, member("vm-2", 202, NEW)]])  # rebalancing first: looked at again
    assert asyncio.run(look.watch(NEW).look()) == "give_way"
    (said,) = look.stopped
    assert "worker group t86-worker is mixed" in said and "host vm-1 pid 101 release 0.1.0+f68a01c3d4" in said
    assert f"this worker stops (exit {MIXED_GROUP_EXIT})" in said
    assert "Every worker of a group must run the same rule packs on the same watchfloor release" in said


def test_the_watch_goes_on_once_the_other_side_left_and_stops_if_it_never_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="watchfloor.stream_processors.kafka.rules_guard")
    ours, theirs = member("vm-1", 101, OLD), member("vm-2", 202, NEW)
    look = Look([[ours, theirs], [ours, theirs], [ours]])
    assert asyncio.run(look.watch(OLD).look()) == "alone" and not look.stopped
    assert "those workers stop, this one goes on" in caplog.text
    assert "runs one rule set again" in caplog.text

    never = Look([[ours, theirs]])
    assert asyncio.run(never.watch(OLD).look()) == "unheeded"
    assert "still members after 60s" in never.stopped[0] and never.now >= 60.0


def test_a_foreign_record_starts_one_look_at_most_every_few_seconds() -> None:
    async def scenario() -> int:
        look = Look([[member("vm-1", 101, OLD)]])
        watch = look.watch(OLD)
        looks = 0

        async def counted() -> str:
            nonlocal looks
            looks += 1
            return "alone"

        watch._look = counted  # type: ignore[method-assign]  # (an instance attribute: no module global)
        guard = RulesGuard(OLD, group=GROUP, on_foreign=lambda: watch.trigger("record"))
        for _ in range(5):
            guard.check(NEW, "kafka:t86.correlate[0]@1")
            await asyncio.sleep(0)
        await asyncio.gather(*watch.tasks)
        watch.trigger("assignment")  # a rebalance always looks
        await asyncio.gather(*watch.tasks)
        return looks

    assert asyncio.run(scenario()) == 2
