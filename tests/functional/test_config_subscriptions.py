"""A config subscription naming a rule no pack has is refused at start with FILE:LINE:COL, as the CLI refuses it;
a tag no rule carries is warned about. Outside audit: a misspelt `troop-engagment` in the config made `run --once`
raise 11 alerts and deliver none, exit 0, while `subscriptions add --rule troop-engagment` was refused."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.config import load_config, subscription_problems
from watchfloor.wiring import EmbeddedPipeline, WiringError, build_engine

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[2] / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
runner = CliRunner()


def write_config(tmp_path: Path, subscription: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"""\
store: sqlite:///{tmp_path / "wf.db"}
rules: [builtin:dprk_russia]
sources: [{{kind: jsonl, path: {SAMPLES}}}]
channels:
  - {{type: file, name: archive, path: {tmp_path / "alerts.jsonl"}}}
subscriptions:
  - {subscription}
""",
        encoding="utf-8",
    )
    return cfg


def wf(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"WATCHFLOOR_STORE": ""})


def test_an_unknown_rule_in_a_config_subscription_is_refused_where_it_is_written(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "{channel: archive, rules: [treaty-ratified, troop-engagment]}")
    res = wf("run", "--once", "--config", str(cfg))
    assert res.exit_code == 1, res.output
    assert (
        f"{cfg}:7:49: unknown rule 'troop-engagment' (did you mean 'troop-engagement'?) in the subscription of "
        "channel 'archive'"
    ) in res.output
    assert "troop-engagement" in res.output  # the rule packs' ids are listed
    assert not (tmp_path / "alerts.jsonl").exists()  # nothing ran
    # The same check where the worker and notify load the rules
    with pytest.raises(WiringError, match="unknown rule 'troop-engagment'"):
        build_engine(["builtin:dprk_russia"], load_config(cfg))
    with pytest.raises(WiringError):
        EmbeddedPipeline(load_config(cfg))


def test_a_tag_no_rule_carries_is_a_warning_and_the_rest_runs(tmp_path: Path, caplog: Any) -> None:
    cfg = write_config(tmp_path, "{channel: archive, tags: [trops, troops]}")
    loaded = load_config(cfg)
    errors, warnings = subscription_problems(loaded, {"troop-engagement"}, {"troops"})
    assert errors == [] and warnings == [
        f"{cfg}:7:31: no rule carries the tag 'trops' (subscription of channel 'archive'; tags: troops)"
    ]
    with caplog.at_level(logging.WARNING):
        res = wf("run", "--once", "--config", str(cfg))
    assert res.exit_code == 0, res.output
    assert any("no rule carries the tag 'trops'" in r.getMessage() for r in caplog.records)
    assert (tmp_path / "alerts.jsonl").read_text(encoding="utf-8")  # the 'troops' alerts went


def test_the_cli_warns_of_a_tag_no_rule_carries(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "{channel: archive}")
    res = wf("subscriptions", "add", "archive", "--tag", "trops", "--config", str(cfg))
    assert res.exit_code == 0, res.output
    assert "warning: no rule carries the tag 'trops'" in res.output


def test_config_errors_name_the_place(tmp_path: Path) -> None:
    """Outside operator audit F8: a missing file was 'wf.yaml:0:0', an unknown subscription channel '1:1' (not its
    line), a byte that is not UTF-8 '1:1' whatever its line."""
    from watchfloor.config import ConfigError

    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "nowhere.yaml")
    assert str(missing.value) == f"{tmp_path / 'nowhere.yaml'}: no such config file"
    cfg = write_config(tmp_path, "{channel: archiv}")
    with pytest.raises(ConfigError) as unknown:
        load_config(cfg)
    assert str(unknown.value).startswith(f"{cfg}:7:15: subscriptions[0]: unknown channel 'archiv'")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"store: sqlite:///x.db\nrules: [caf\xe9]\n")
    with pytest.raises(ConfigError) as latin:
        load_config(bad)
    assert str(latin.value) == f"{bad}:2:12: not valid UTF-8 (byte 33 of the file)"


def test_a_slack_token_variable_set_but_empty_is_said_so(tmp_path: Path) -> None:
    from watchfloor.schemas.config import SlackChannel
    from watchfloor.wiring import build_notifier

    ch = SlackChannel(type="slack", name="desk", channel="#desk", token_env="WF_TOKEN")
    with pytest.raises(WiringError, match="environment variable WF_TOKEN, which is not set"):
        build_notifier(ch, env={})
    with pytest.raises(WiringError, match="environment variable WF_TOKEN, which is set but empty"):
        build_notifier(ch, env={"WF_TOKEN": " "})
