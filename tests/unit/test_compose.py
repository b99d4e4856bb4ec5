"""docker-compose.yml (for users; no Docker engine here): its services exist and run real entry points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.config import load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = YAML(typ="safe").load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "postgres", "producer", "worker", "archive", "notifier"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert services["postgres"]["image"].startswith("postgres:")


def test_worker_is_scalable(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    # --scale needs no fixed container name and no published host port.
    assert "container_name" not in worker and "ports" not in worker


@pytest.mark.parametrize("service", ["producer", "worker", "archive", "notifier"])
def test_commands_are_real_entry_points(compose: dict[str, Any], service: str) -> None:
    svc = compose["services"][service]
    command = svc["command"]
    assert isinstance(command, list) and command
    # The image's entrypoint is `watchfloor`: the command is a subcommand with its options.
    res = CliRunner().invoke(app, [command[0], "--help"])
    assert res.exit_code == 0, res.output
    for opt in (c for c in command[1:] if c.startswith("--")):
        assert opt in res.output, f"{service}: {opt} is not an option of `watchfloor {command[0]}`"
    env = svc["environment"]
    assert env["WATCHFLOOR_KAFKA"] == "kafka:9092"
    assert env["WATCHFLOOR_STORE"]


def test_entrypoint_and_config_file(compose: dict[str, Any]) -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["watchfloor"]' in dockerfile
    cfg = load_config(REPO / "deploy" / "watchfloor.yaml")
    assert cfg.rules == ["builtin:dprk_russia"]
