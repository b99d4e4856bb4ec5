"""The names of kafka-python's errors that mean "the broker cannot be reached (or is not ready) now" (no kafka import).

One list, read by `clients` (which turns the names into kafka-python's classes) and by `failed_batches` (which
import-linter keeps free of the kafka client, so it matches errors by name), so the two cannot drift apart.
"""

from __future__ import annotations

UNREACHABLE: tuple[str, ...] = (
    "NoBrokersAvailable",  # kafka-python 2.x: bootstrap failed
    "KafkaTimeoutError",  # 3.x bootstrap failure; metadata / flush / future timeouts in both
    "KafkaConnectionError",
    "NodeNotReadyError",
    "RequestTimedOutError",
    "NotLeaderForPartitionError",
    "LeaderNotAvailableError",
    "BrokerNotAvailableError",
    "CoordinatorNotAvailableError",
    "NotCoordinatorError",
    "UnknownTopicOrPartitionError",  # topics not created yet: auto-creation is off
)

# Of those, the names that only kafka-python 2.x has (3.x raises KafkaTimeoutError where 2.x raised these): kept for
# the 2.x installs the `kafka` extra allows (kafka-python>=2.0.2,<4).
ONLY_2X: frozenset[str] = frozenset({"NoBrokersAvailable"})

__all__ = ["ONLY_2X", "UNREACHABLE"]
