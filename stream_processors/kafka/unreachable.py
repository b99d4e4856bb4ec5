"""What "the broker cannot be reached (or is not ready) now" is, for every part that waits for it (no kafka import).

The names of kafka-python's errors for it: one list, read by `clients` (which turns the names into kafka-python's
classes) and by `failed_batches` (which import-linter keeps free of the kafka client, so it matches errors by name),
so the two cannot drift apart. And when a process that waits for the broker says again that it still waits
(BROKER_REMINDERS): the worker and `archive` alike.
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

# And watchfloor's own: clients.KafkaNotABroker (something answers at the address that is not a Kafka broker), which
# `make_client` raises in place of the client's bootstrap timeout; and clients.KafkaNoSuchHost (no host of the
# address resolves), which it raises before the client tries.
OWN: tuple[str, ...] = ("KafkaNotABroker", "KafkaNoSuchHost")

# Of those, the names that only kafka-python 2.x has (3.x raises KafkaTimeoutError where 2.x raised these): kept for
# the 2.x installs the `kafka` extra allows (kafka-python>=2.0.2,<4).
ONLY_2X: frozenset[str] = frozenset({"NoBrokersAvailable"})

# While the broker is away, a process that waits for it (the worker, `archive`) says "still unreachable" after 30 s
# (longer than a broker restart takes), then every 5 minutes: a mistyped address must not look like a quiet process.
BROKER_REMINDERS: tuple[float, float] = (30.0, 300.0)

__all__ = ["BROKER_REMINDERS", "ONLY_2X", "OWN", "UNREACHABLE"]
