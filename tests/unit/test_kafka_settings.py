"""The typed `kafka:` section of the config, and how command-line options override it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from watchfloor.schemas.config import AppConfig, KafkaConfig
from watchfloor.stream_processors.kafka.app import check_table_store
from watchfloor.wiring import kafka_settings


def test_defaults_and_group() -> None:
    k = AppConfig().kafka
    assert (k.bootstrap, k.prefix, k.partitions, k.table_store) == ("127.0.0.1:9092", "watchfloor", 3, "memory://")
    assert k.group == "watchfloor-worker"
    assert KafkaConfig(prefix="pipe-a").group == "pipe-a-worker"
    assert KafkaConfig(prefix="pipe-a", app_id="mine").group == "mine"


def test_config_section_is_validated() -> None:
    cfg = AppConfig.model_validate({"kafka": {"bootstrap": "k:9092", "prefix": "desk-2", "partitions": 6}})
    assert cfg.kafka.partitions == 6
    for bad in ({"partitions": 0}, {"prefix": "has space"}, {"table_store": "rocksdict://"}, {"brokers": "x"}):
        with pytest.raises(ValidationError):
            AppConfig.model_validate({"kafka": bad})


def test_options_given_override_the_config_and_are_validated() -> None:
    cfg = AppConfig.model_validate({"kafka": {"bootstrap": "k:9092", "prefix": "desk"}})
    assert kafka_settings(cfg) is cfg.kafka
    s = kafka_settings(cfg, prefix="other", bootstrap=None, batch_within=0.05)
    assert (s.bootstrap, s.prefix, s.batch_within) == ("k:9092", "other", 0.05)
    with pytest.raises(ValidationError):
        kafka_settings(cfg, partitions=-1)


def test_table_store_is_checked_before_a_worker_starts() -> None:
    check_table_store("memory://")
    with pytest.raises(ValueError, match="expected one of memory://, rocksdb://"):
        check_table_store("rocksdict://")
