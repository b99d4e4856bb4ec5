"""compat.take_batches acks a batch only when the agent's body finished with it: a body that raised (a send that
failed) left its records acked before, and Faust could commit their offsets without the outputs (found with the
correlate state over 1 MB, session 11). The stream here is the handful of Faust Stream members take_batches uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("faust")

from watchfloor.stream_processors.kafka.compat import take_batches


class FewRecordsStream:
    """Delivers `records` through the processors take_batches adds, as Faust's passive stream does."""

    def __init__(self, records: list[str]) -> None:
        self.records = records
        self.enable_acks = True
        self.should_stop = False
        self.current_event: str | None = None
        self._processors: list[Any] = []
        self.acked: list[str] = []
        self.channel = self

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[str]:
        for r in self.records:
            yield r

    def add_processor(self, processor: Any) -> None:
        self._processors.append(processor)

    def _enable_passive(self, it: AsyncIterator[str]) -> None:
        async def pump() -> None:
            async for value in it:
                self.current_event = value
                for p in list(self._processors):
                    await p(value)

        self.pump = asyncio.ensure_future(pump())

    async def wait_for_stopped(self, event: asyncio.Event) -> bool:
        await event.wait()
        return False

    async def wait(self, event: asyncio.Event) -> None:
        await event.wait()

    async def crash(self, exc: BaseException) -> None:
        raise exc

    async def ack(self, event: str) -> None:
        self.acked.append(event)


def test_a_batch_is_acked_after_its_body_and_not_when_the_body_raised() -> None:
    async def scenario() -> tuple[list[list[str]], list[str], list[str]]:
        stream = FewRecordsStream(["r1", "r2", "r3"])
        seen: list[list[str]] = []
        acked_when_next_came: list[str] = []
        with pytest.raises(RuntimeError, match="send failed"):
            async for batch in take_batches(stream, 2, 0.05):
                seen.append(list(batch))
                if len(seen) == 1:
                    continue  # the first batch goes through: acked once the next is asked for
                acked_when_next_came.extend(stream.acked)
                raise RuntimeError("send failed")  # the second batch's body fails
        stream.pump.cancel()
        return seen, acked_when_next_came, stream.acked

    seen, acked_before_failure, acked = asyncio.run(scenario())
    assert seen == [["r1", "r2"], ["r3"]]
    assert acked_before_failure == ["r1", "r2"]
    assert acked == ["r1", "r2"], acked  # r3, whose body raised, is not acked: the restarted worker reads it again
