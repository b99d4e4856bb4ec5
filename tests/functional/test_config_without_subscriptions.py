"""A config that names its channels but no `subscriptions:` loads with none (outside trial 9, F2): the
subscriptions are then added from the CLI or Slack. Only a config that leaves `channels:` out too gets the
default console channel's subscription."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.config import ConfigError, load_config

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()


def test_channels_without_subscriptions_load_and_subscribe_from_the_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources: [{{kind: jsonl, path: {SAMPLES}}}]\n"
        "channels:\n"
        f"  - {{type: file, name: archive, path: {tmp_path / 'alerts.jsonl'}}}\n",
        encoding="utf-8",
    )
    assert load_config(cfg).subscriptions == []
    c = ["--config", str(cfg)]
    res = runner.invoke(app, ["run", "--once", *c])  # no subscription yet: alerts recorded, none delivered
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "alerts.jsonl").exists()
    assert "no subscriptions: alerts are recorded" in " ".join(res.output.split())
    res = runner.invoke(app, ["subscriptions", "add", "archive", "--rule", "treaty-signed", *c])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("subscribed: sub-")
    res = runner.invoke(app, ["subscriptions", "list", "--json", *c])
    assert res.exit_code == 0, res.output
    assert [json.loads(line)["channel"] for line in res.output.splitlines()] == ["archive"]
    res = runner.invoke(app, ["run", "--once", *c])
    assert res.exit_code == 0, res.output
    assert "no subscriptions" not in res.output


def test_without_channels_and_subscriptions_alerts_go_to_the_console(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text("store: memory://\n", encoding="utf-8")
    loaded = load_config(cfg)
    assert [c.name for c in loaded.channels] == ["console"]
    assert [s.channel for s in loaded.subscriptions] == ["console"]


def test_an_unknown_channel_names_what_the_config_does_define(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text("store: memory://\nsubscriptions:\n  - {channel: desk}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert str(info.value) == (
        f"{cfg}:3:15: subscriptions[0]: unknown channel 'desk'"
        " (known: console, the default when `channels:` is left out)"
    )
    cfg.write_text("store: memory://\nchannels: []\nsubscriptions:\n  - {channel: desk}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert str(info.value) == f"{cfg}:4:15: subscriptions[0]: unknown channel 'desk' (`channels:` names none)"


def test_every_unknown_channel_is_said_at_its_place_with_the_name_it_likely_meant(tmp_path: Path) -> None:
    # Outside trial 29, F5: one unknown channel a run, and no suggestion
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        "store: memory://\nchannels:\n  - {type: console, name: desk}\n  - {type: console, name: archive}\n"
        "subscriptions:\n  - {channel: dsk}\n  - {channel: desk}\n  - {channel: archve}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert str(info.value).splitlines() == [
        f"{cfg}:6:15: subscriptions[0]: unknown channel 'dsk' (did you mean 'desk'?) (known: desk, archive)",
        f"{cfg}:8:15: subscriptions[2]: unknown channel 'archve' (did you mean 'archive'?) (known: desk, archive)",
    ]
