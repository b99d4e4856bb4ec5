"""Notifiers are built by the builder registered for their channel config's `type` (`wiring.NOTIFIERS`), as stores
are opened by their URL's scheme (`stores.STORES`): every channel type of the config schema has one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import TypeAdapter

from watchfloor.alerts.notifiers.console import ConsoleNotifier
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.alerts.notifiers.webhook import WebhookNotifier
from watchfloor.schemas.config import ChannelConfig, ConsoleChannel
from watchfloor.wiring import NOTIFIERS, WiringError, build_notifier


def channel_types() -> dict[str, type]:
    """The config schema's channel types by their `type:` (the members of ChannelConfig's union)."""
    union = get_args(ChannelConfig)[0]  # Annotated[A | B | ..., Field(discriminator="type")]
    return {cls.model_fields["type"].default: cls for cls in get_args(union)}


def test_every_channel_type_of_the_config_has_a_notifier_builder() -> None:
    types = channel_types()
    assert "console" in types and "slack" in types  # (the schema was read, not an empty union)
    assert sorted(types) == sorted(NOTIFIERS), "each channel type of schemas.config needs one wiring.NOTIFIERS entry"


def test_each_channel_type_builds_its_own_notifier(tmp_path: Path) -> None:
    configs: dict[str, tuple[dict[str, Any], type]] = {
        "console": ({"name": "desk"}, ConsoleNotifier),
        "file": ({"name": "log", "path": str(tmp_path / "alerts.jsonl")}, FileNotifier),
        "slack": ({"name": "ops", "channel": "#ops", "token_env": "WF_TOKEN"}, SlackNotifier),
        "webhook": ({"name": "pager", "url": "http://127.0.0.1:1/hook"}, WebhookNotifier),
        "email": (
            {"name": "mail", "to": "desk@example.org", "from": "wf@example.org", "host": "localhost"},
            EmailNotifier,
        ),
    }
    assert sorted(configs) == sorted(channel_types())  # a new type gets a line here too
    parse = TypeAdapter(ChannelConfig).validate_python
    for kind, (fields, notifier) in configs.items():
        built = build_notifier(parse({"type": kind, **fields}), env={"WF_TOKEN": "xoxb-test"})
        assert type(built) is notifier, kind


def test_a_channel_type_without_a_builder_is_an_error_naming_the_channel() -> None:
    # model_construct: a config the schema would refuse today, as one of a type added without its builder would be
    ch = ConsoleChannel.model_construct(type="pager", name="night-desk")  # type: ignore[arg-type]
    with pytest.raises(WiringError) as info:
        build_notifier(ch, env={})
    assert str(info.value) == (
        "channel 'night-desk': unknown channel type 'pager' (the types with a notifier: console, email, file, slack, "
        "webhook)"
    )
