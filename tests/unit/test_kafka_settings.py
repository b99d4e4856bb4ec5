"""The typed `kafka:` section of the config, and how command-line options override it."""

from __future__ import annotations

from pathlib import Path

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
    assert (cfg.kafka.publish_timeout, KafkaConfig(publish_timeout=2.5).publish_timeout) == (15.0, 2.5)
    bad_ones = ({"partitions": 0}, {"prefix": "has space"}, {"table_store": "rocksdict://"}, {"brokers": "x"})
    for bad in (*bad_ones, {"publish_timeout": 0}):
        with pytest.raises(ValidationError):
            AppConfig.model_validate({"kafka": bad})


def test_failed_batch_settings_are_validated_at_load(tmp_path: Path) -> None:
    from watchfloor.config import ConfigError, load_config

    k = KafkaConfig()
    assert (k.failed_batch_isolate_after, k.failed_batch_backoff, k.failed_batch_backoff_max) == (5, 1.0, 60.0)
    for bad in (
        {"failed_batch_isolate_after": 0},
        {"failed_batch_isolate_after": "many"},
        {"failed_batch_backoff": 0},
        {"failed_batch_backoff": 10, "failed_batch_backoff_max": 5},
    ):
        with pytest.raises(ValidationError):
            AppConfig.model_validate({"kafka": bad})
    path = tmp_path / "desk.yaml"
    path.write_text("kafka:\n  prefix: desk\n  failed_batch_isolate_after: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}:3:31: Input should be greater than or equal to 1"  # at the value


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


def test_local_files_default_under_var_and_follow_the_config_then_the_environment(tmp_path: Path) -> None:
    from watchfloor.wiring import spool_path, worker_datadir, worker_settings

    k = KafkaConfig(prefix="desk")
    assert spool_path(k, env={}) == Path("var/spool/desk.jsonl")
    assert spool_path(k, env={"WATCHFLOOR_SPOOL_DIR": "/data/spool"}) == Path("/data/spool/desk.jsonl")
    assert spool_path(KafkaConfig(prefix="desk", spool_dir="/s"), env={"WATCHFLOOR_SPOOL_DIR": "/x"}) == Path(
        "/s/desk.jsonl"
    )
    assert worker_datadir(k, env={}) == Path("var/faust/desk-worker")
    assert worker_datadir(k, env={"WATCHFLOOR_FAUST_DATADIR": "/d"}) == Path("/d/desk-worker")
    assert worker_settings(KafkaConfig(datadir=str(tmp_path)), env={}).datadir == str(tmp_path)


def test_one_store_opener_makes_the_parent_directories(tmp_path: Path) -> None:
    from watchfloor.wiring import open_store, sqlite_file, with_store_env

    url = f"sqlite:///{tmp_path}/a/b/watchfloor.db"
    assert sqlite_file(url) == tmp_path / "a" / "b" / "watchfloor.db"
    assert sqlite_file("sqlite:///:memory:") is None and sqlite_file("postgresql://x/y") is None
    ro = f"sqlite:///file:{tmp_path}/a/b/watchfloor.db?mode=ro&uri=true"  # SQLite's URI form: the same file
    assert sqlite_file(ro) == tmp_path / "a" / "b" / "watchfloor.db"
    assert sqlite_file("sqlite:///file:one?mode=memory&cache=shared&uri=true") is None
    st = open_store(url)
    st.close()
    assert (tmp_path / "a" / "b" / "watchfloor.db").exists()
    cfg = AppConfig()
    assert cfg.store == "sqlite:///var/watchfloor.db"  # the one default
    assert with_store_env(cfg, env={}).store == cfg.store
    assert with_store_env(cfg, env={"WATCHFLOOR_STORE": "memory://"}).store == "memory://"


def test_the_readme_distributed_config_example_loads(tmp_path: Path) -> None:
    from watchfloor.config import load_config

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("A distributed config", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "desk.yaml").write_text(block, encoding="utf-8")
    cfg = load_config(tmp_path / "desk.yaml")
    assert cfg.kafka.prefix == "desk" and cfg.kafka.partitions == 6 and cfg.kafka.table_store == "rocksdb://"
    assert cfg.kafka.bootstrap == "kafka-1.internal:9092,kafka-2.internal:9092"


def test_health_reads_the_heartbeat(tmp_path: Path) -> None:
    import os

    from typer.testing import CliRunner

    from watchfloor.cli import app
    from watchfloor.cli.health import Heartbeat

    hb = tmp_path / "hb" / "beat"
    res = CliRunner().invoke(app, ["health", "--heartbeat", str(hb)])
    assert res.exit_code == 1 and "no heartbeat" in res.output
    Heartbeat(str(hb)).beat()
    assert CliRunner().invoke(app, ["health", "--heartbeat", str(hb)]).exit_code == 0
    os.utime(hb, (1, 1))  # a process that stopped going round long ago
    res = CliRunner().invoke(app, ["health", "--heartbeat", str(hb), "--max-age", "60"])
    assert res.exit_code == 1 and "stuck or gone" in res.output
