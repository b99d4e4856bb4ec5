"""`watchfloor status` against a broker that is up but does not know a group's coordinator yet (outside trial 9,
F7: the first look at a new prefix answered CoordinatorNotAvailable once and was called "unreachable", exit 1):
the offsets are asked for again, and an answer of the broker's own is not said as an unreachable broker."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import pytest

kafka_errors = pytest.importorskip("kafka.errors")

from kafka import TopicPartition  # noqa: E402

from watchfloor.cli.status import broker_problem  # noqa: E402
from watchfloor.stream_processors.kafka.status import _committed  # noqa: E402

Offset = namedtuple("Offset", "offset metadata")


class Admin:
    """kafka-python 3's admin client as `_committed` uses it, answering as a broker still electing a group's
    coordinator: `not_yet` errors, then the offsets."""

    def __init__(self, not_yet: int, error: type[Exception]) -> None:
        self.not_yet, self.error, self.asked = not_yet, error, 0

    def list_group_offsets(self, groups: dict[str, Any]) -> dict[str, Any]:
        self.asked += 1
        if self.asked <= self.not_yet:
            raise self.error(f"FindCoordinatorResponse error for GROUP/{next(iter(groups))}")
        return {g: {TopicPartition("t9.documents", 0): Offset(7, "")} for g in groups}


def test_a_coordinator_not_known_yet_is_asked_for_again() -> None:
    pauses: list[float] = []
    admin = Admin(2, kafka_errors.CoordinatorNotAvailableError)
    assert _committed(admin, "t9-worker", sleep=pauses.append) == {("t9.documents", 0): 7}
    assert admin.asked == 3 and len(pauses) == 2
    # One that stays unknown is raised after the pauses, for the caller to say.
    admin = Admin(99, kafka_errors.NotCoordinatorError)
    with pytest.raises(kafka_errors.NotCoordinatorError):
        _committed(admin, "t9-worker", pauses=(0.1, 0.1), sleep=pauses.append)
    assert admin.asked == 3


def test_a_broker_that_answered_is_not_called_unreachable() -> None:
    said = broker_problem("127.0.0.1:19092", kafka_errors.CoordinatorNotAvailableError("for GROUP/t9-worker"))
    assert "unreachable" not in said and said.startswith("Kafka broker 127.0.0.1:19092 answered")
    said = broker_problem("127.0.0.1:19092", kafka_errors.KafkaConnectionError("connection refused"))
    assert said.startswith("Kafka broker 127.0.0.1:19092 unreachable")


def test_behind_with_no_worker_running_says_so() -> None:
    from watchfloor.cli.status import behind_reasons
    from watchfloor.stream_processors.kafka.status import GroupStatus, PipelineStatus, TopicLag

    def pipeline(members: list[str], archive_members: list[str]) -> PipelineStatus:
        lag = [TopicLag("t9.documents", 24, 0, 3)]
        return PipelineStatus(
            "127.0.0.1:19092",
            "t9",
            {"t9.documents": 24},
            [],
            [
                GroupStatus("t9-worker", "workers", "Empty", members, lag, started=bool(members)),
                GroupStatus("t9-archive", "archive", "Empty", archive_members, lag, started=True),
            ],
        )

    assert behind_reasons(pipeline([], [])) == [
        "lag",
        "no worker of t9-worker is running: start `watchfloor worker`",
        "no archive of t9-archive is running: start `watchfloor archive`",
    ]
    assert behind_reasons(pipeline(["w@host"], ["a@host"])) == ["lag"]
