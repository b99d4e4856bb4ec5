"""Kafka topic names of one deployment (a prefix): shared by producers, the Faust worker and replay tools."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "watchfloor"


@dataclass(frozen=True)
class TopicNames:
    """The topic names for one prefix (stream_processors.kafka.topics has their specs and creates them)."""

    prefix: str = DEFAULT_PREFIX

    @property
    def documents(self) -> str:
        return f"{self.prefix}.documents"

    @property
    def signals(self) -> str:
        return f"{self.prefix}.signals"

    @property
    def correlate(self) -> str:
        return f"{self.prefix}.correlate"

    @property
    def detections(self) -> str:
        return f"{self.prefix}.detections"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}.dead-letters"

    def all(self) -> list[str]:
        return [self.documents, self.signals, self.correlate, self.detections, self.dead_letters]
