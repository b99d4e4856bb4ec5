"""`slack.managers` in the config: Slack user and user group ids, checked at load with FILE:LINE:COL; and the
mentions a refusal names them by, made only from ids that match Slack's pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.alerts.slackapp.managers import Managers, mention
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.config import SlackApp


def write(tmp_path: Path, managers: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"channels: []\nsubscriptions: []\nslack:\n  managers: {managers}\n", encoding="utf-8")
    return cfg


def test_user_and_user_group_ids_are_accepted(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[U012AB3CD, W0ENTERPRISE1, S0614TZR7]"))
    assert cfg.slack is not None and cfg.slack.managers == ["U012AB3CD", "W0ENTERPRISE1", "S0614TZR7"]
    assert SlackApp().managers == []  # by default: anyone in the channel


@pytest.mark.parametrize(
    ("written", "col"),
    [
        ('["@alice"]', 14),  # a name
        ('["<@U012AB3CD>"]', 14),  # a pasted mention
        ("[u012ab3cd]", 14),  # Slack's ids are upper case
        ("[C0DESK0001]", 14),  # a channel
        ('["U012AB3CD|alice"]', 14),  # anything after the id would go into the mention
        ("[U012AB3CD, T00000000]", 25),  # a workspace, after a good one
    ],
)
def test_anything_else_is_refused_where_it_is_written(tmp_path: Path, written: str, col: int) -> None:
    cfg = write(tmp_path, written)
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    message = str(e.value)
    assert message.startswith(f"{cfg}:4:{col}: "), message
    assert "is not a Slack user id (U… or W…, e.g. U012AB3CD) or user group id (S…" in message
    assert "Copy member ID" in message


def test_managers_is_a_list(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":4:13: .*valid list"):
        load_config(write(tmp_path, "U012AB3CD"))


def test_mentions_are_made_only_from_ids_slack_could_have_given() -> None:
    assert mention("U012AB3CD") == "<@U012AB3CD>"
    assert mention("W0ENTERPRISE1") == "<@W0ENTERPRISE1>"
    assert mention("S0614TZR7") == "<!subteam^S0614TZR7>"
    # never reached through a validated config, but the id goes into a mention unescaped: checked again
    assert mention("U012AB3CD> <!channel") == "`U012AB3CD&gt; &lt;!channel`"
    assert mention("S0614TZR7|<!here>") == "`S0614TZR7|&lt;!here&gt;`"


def test_a_refusal_names_every_manager_up_to_twenty() -> None:
    ids = [f"U0MANAGER{i:02d}" for i in range(23)] + ["S0LEADS001"]
    named = Managers(ids).named()
    assert named.startswith("<@U0MANAGER00>, <@U0MANAGER01>") and named.endswith(" and 4 more")
    assert Managers(["S0LEADS001"]).named() == "<!subteam^S0LEADS001> (members of that group)"
    assert Managers([]).anyone and not Managers(["U012AB3CD"]).anyone
