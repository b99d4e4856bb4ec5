"""The button contract between the Slack notifier (renders) and the Slack app (handles clicks)."""

from __future__ import annotations

import json

import pytest

from watchfloor.alerts.slackapp.buttons import (
    ACK_ACTION,
    SILENCE_ACTION,
    UNSUBSCRIBE_ACTION,
    VALUE_LIMIT,
    actions_block,
    button_value,
    parse_button_value,
)


def test_round_trip() -> None:
    got = parse_button_value(button_value("a1", "treaty-ratified", "desk", {"party": "RUS"}))
    assert (got.alert_id, got.rule, got.channel, got.group) == ("a1", "treaty-ratified", "desk", {"party": "RUS"})


def test_a_huge_group_is_left_out_rather_than_passing_slacks_limit() -> None:
    value = button_value("a1", "r", "slack:C1", {"k": "x" * 3000})
    assert len(value) <= VALUE_LIMIT
    assert parse_button_value(value).group is None


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"a": 1, "r": "r", "c": "c"}', '{"a":"a","r":"r","c":"c","g":[1]}'])
def test_foreign_values_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_button_value(text)


def test_block_has_the_three_action_ids() -> None:
    block = actions_block("a1", "r", "desk", {})
    assert [e["action_id"] for e in block["elements"]] == [ACK_ACTION, SILENCE_ACTION, UNSUBSCRIBE_ACTION]
    assert all(json.loads(e["value"])["a"] == "a1" for e in block["elements"])
