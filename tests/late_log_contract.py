"""The contract every LateLog keeps (stream_processors.kafka.late): the extract agents' late documents per source.

Subclass `LateLogContract` (name the subclass Test...) and override `make_log`: a callable giving a fresh view of the
same counts (a second worker's, or one after a restart, for logs whose counts outlive the object).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from watchfloor.stream_processors.kafka.late import DEAD_LETTERED, PASSED_OVER, LateDocument, LateLog


def late(partition: int, offset: int, origin: str = "inbox/wire.jsonl", outcome: str = PASSED_OVER) -> LateDocument:
    return LateDocument(partition, offset, origin, outcome)


class LateLogContract:
    @pytest.fixture
    def make_log(self) -> Callable[[], LateLog]:
        raise NotImplementedError

    @pytest.fixture
    def log(self, make_log: Callable[[], LateLog]) -> LateLog:
        return make_log()

    def test_nothing_counted_reads_empty(self, log: LateLog) -> None:
        assert log.totals() == {}
        assert log.add([]) == 0 and log.totals() == {}

    def test_counts_per_source_and_outcome_summed_over_partitions(self, log: LateLog) -> None:
        assert log.add([late(0, 3), late(0, 7, outcome=DEAD_LETTERED), late(1, 2), late(1, 5, origin="")]) == 4
        assert log.totals() == {
            "": {PASSED_OVER: 1, DEAD_LETTERED: 0},
            "inbox/wire.jsonl": {PASSED_OVER: 2, DEAD_LETTERED: 1},
        }

    def test_a_batch_read_again_counts_nothing_twice(self, log: LateLog) -> None:
        """A restart before the commit, a rebalance, a retried batch: the same records come again, with more."""
        assert log.add([late(0, 3), late(0, 7)]) == 2
        assert log.add([late(0, 3), late(0, 7)]) == 0
        assert log.add([late(0, 3), late(0, 7), late(0, 9)]) == 1
        assert log.totals() == {"inbox/wire.jsonl": {PASSED_OVER: 3, DEAD_LETTERED: 0}}

    def test_another_partition_is_counted_on_its_own_offsets(self, log: LateLog) -> None:
        assert log.add([late(0, 50)]) == 1
        assert log.add([late(1, 2)]) == 1  # (offset 2 < 50, but of another partition)
        assert log.totals()["inbox/wire.jsonl"][PASSED_OVER] == 2


class PersistentLateLogContract(LateLogContract):
    """Logs whose counts outlive the object: a worker restarted, or several workers on one store."""

    def test_counts_survive_a_restart_and_a_redelivery_after_it(self, make_log: Callable[[], LateLog]) -> None:
        make_log().add([late(0, 3), late(2, 4, outcome=DEAD_LETTERED)])
        restarted = make_log()
        assert restarted.totals() == {"inbox/wire.jsonl": {PASSED_OVER: 1, DEAD_LETTERED: 1}}
        assert restarted.add([late(0, 3), late(2, 4, outcome=DEAD_LETTERED)]) == 0  # its batch was not committed
        assert restarted.totals() == {"inbox/wire.jsonl": {PASSED_OVER: 1, DEAD_LETTERED: 1}}

    def test_two_workers_add_up_without_losing_each_others(self, make_log: Callable[[], LateLog]) -> None:
        first, second = make_log(), make_log()
        for i in range(5):
            assert first.add([late(0, i)]) == 1
            assert second.add([late(1, i, origin="https://example.org/feed")]) == 1
        assert (
            first.totals()
            == second.totals()
            == {
                "https://example.org/feed": {PASSED_OVER: 5, DEAD_LETTERED: 0},
                "inbox/wire.jsonl": {PASSED_OVER: 5, DEAD_LETTERED: 0},
            }
        )
        # a zombie member still reading partition 0 counts nothing the other counted
        assert second.add([late(0, 4)]) == 0
