"""A webhook channel whose URL is a secret (a Slack incoming webhook's path is its only key): `url_env` names the
environment variable holding it, so the config file has none. Against a real local receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.delivery_helpers import Hook, detection, webhook_server
from watchfloor.alerts.notice import notice_of
from watchfloor.cli import app
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.events import Alert
from watchfloor.wiring import WiringError, build_notifiers


@pytest.fixture
def webhook() -> Iterator[Hook]:
    yield from webhook_server()


def _config(tmp_path: Path, channel: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nchannels:\n  - type: webhook\n    name: pager\n{channel}"
        "subscriptions:\n  - {channel: pager}\n",
        encoding="utf-8",
    )
    return cfg


def test_a_webhook_url_from_the_environment_is_posted_to(tmp_path: Path, webhook: Hook) -> None:
    cfg = load_config(_config(tmp_path, "    url_env: PAGER_URL\n"))
    notifier = build_notifiers(cfg, env={"PAGER_URL": webhook.url})["pager"]
    notifier.send(notice_of(Alert(id="det0001", detection=detection(1), channels=("pager",))))
    [(method, headers, body)] = webhook.received
    assert method == "POST" and headers["Idempotency-Key"] == "det0001" and body["key"] == "det0001"
    assert "s3cr3t" not in repr(notifier)


def test_a_webhook_url_variable_not_set_is_said_at_start(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "    url_env: PAGER_URL\n"))
    with pytest.raises(WiringError) as unset:
        build_notifiers(cfg, env={})
    assert str(unset.value) == (
        "channel 'pager': the webhook URL is read from the environment variable PAGER_URL, which is not set"
    )
    with pytest.raises(WiringError) as not_http:
        build_notifiers(cfg, env={"PAGER_URL": "ftp://hooks.example/s3cr3t"})
    assert "from the environment variable PAGER_URL" in str(not_http.value) and "s3cr3t" not in str(not_http.value)
    # A token pasted for the URL (outside trial 7, L5: "got ://?"): said to be no URL, and not repeated.
    with pytest.raises(WiringError) as pasted:
        build_notifiers(cfg, env={"PAGER_URL": "xoxb-pasted-token-123"})
    assert "webhook pager: not a URL (give an http(s) URL" in str(pasted.value), str(pasted.value)
    assert "xoxb" not in str(pasted.value) and "://?" not in str(pasted.value)
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(tmp_path / "watchfloor.yaml")], env={})
    assert res.exit_code == 1 and "PAGER_URL, which is not set" in " ".join(res.output.split()), res.output


@pytest.mark.parametrize(
    ("channel", "place", "message"),
    [
        ("    url: https://hooks.example/x\n    url_env: PAGER_URL\n", "6:14", "url and url_env: give one"),
        ("    timeout: 5\n", "3:5", "has url (the URL written here) or url_env"),
        ("    url_env: https://hooks.example/T0/B0/s3cr3t\n", "5:14", "the NAME of an environment variable"),
    ],
)
def test_url_and_url_env_mistakes_are_said_at_their_place(
    tmp_path: Path, channel: str, place: str, message: str
) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, channel))
    text = str(failed.value)
    assert f"watchfloor.yaml:{place}:" in text and message in text, text
    assert "s3cr3t" not in text
