"""`type: email` channels in the config: what loads, and errors that name the file, line, column and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.email import message_id, subject
from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.config import EmailChannel, is_loopback
from watchfloor.schemas.events import Alert, Detection

GOOD = """\
channels:
  - type: email
    name: desk-mail
    to: [desk@example.org, "Risk Desk <risk@example.org>"]
    from: watchfloor <alerts@example.org>
    host: smtp.example.org
    username: alerts@example.org
    password_env: WATCHFLOOR_SMTP_PASSWORD
subscriptions:
  - {channel: desk-mail, min_severity: high}
"""


def load(tmp_path: Path, text: str) -> EmailChannel:
    path = tmp_path / "watchfloor.yaml"
    path.write_text(text, encoding="utf-8")
    [ch] = load_config(path).channels
    assert isinstance(ch, EmailChannel)
    return ch


def problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return str(info.value)


def test_an_email_channel_loads_with_its_defaults(tmp_path: Path) -> None:
    ch = load(tmp_path, GOOD)
    assert ch.to == ["desk@example.org", "Risk Desk <risk@example.org>"]
    assert ch.sender == "watchfloor <alerts@example.org>"  # `from` in the file
    assert (ch.tls, ch.smtp_port, ch.timeout) == ("starttls", 587, 30.0)
    assert load(tmp_path, GOOD.replace("host: smtp", "tls: implicit\n    host: smtp")).smtp_port == 465
    assert load(tmp_path, GOOD.replace("host: smtp", "port: 2525\n    host: smtp")).smtp_port == 2525
    one = GOOD.replace('[desk@example.org, "Risk Desk <risk@example.org>"]', "desk@example.org")
    assert load(tmp_path, one).to == ["desk@example.org"]  # one address needs no list


def test_a_bad_address_is_refused_at_its_place(tmp_path: Path) -> None:
    said = problem(tmp_path, GOOD.replace('"Risk Desk <risk@example.org>"', "risk-at-example.org"))
    assert ":4:" in said and "to: 'risk-at-example.org' is not an email address" in said
    said = problem(tmp_path, GOOD.replace("from: watchfloor <alerts@example.org>", "from: alerts@"))
    assert ":5:11: from: 'alerts@' is not an email address" in said


def test_no_recipient_is_refused(tmp_path: Path) -> None:
    said = problem(tmp_path, GOOD.replace('[desk@example.org, "Risk Desk <risk@example.org>"]', "[]"))
    assert ":4:5: to: at least one address is needed" in said


def test_plaintext_is_refused_to_a_host_that_is_not_this_machine(tmp_path: Path) -> None:
    said = problem(tmp_path, GOOD.replace("host: smtp.example.org", "host: smtp.example.org\n    tls: none"))
    assert ":7:10: tls: none sends the mail, and the password" in said and "plaintext" in said
    assert "only allowed to a loopback host" in said
    local = GOOD.replace("host: smtp.example.org", "host: 127.0.0.1\n    tls: none")
    assert load(tmp_path, local).smtp_port == 25
    assert all(is_loopback(h) for h in ("localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("smtp.example.org", "10.0.0.1", "localhost.example.org"))


def test_the_password_is_never_in_the_file(tmp_path: Path) -> None:
    said = problem(tmp_path, GOOD.replace("WATCHFLOOR_SMTP_PASSWORD", "hunter2 and more"))
    assert ":8:19: password_env must be the NAME of an environment variable" in said and "hunter2" not in said
    said = problem(tmp_path, GOOD.replace("    password_env: WATCHFLOOR_SMTP_PASSWORD\n", ""))
    assert "username and password_env go together" in said
    said = problem(tmp_path, GOOD.replace("    host:", "    password: hunter2\n    host:"))
    assert "unknown key 'password'" in said and "hunter2" not in said


def test_a_port_in_the_host_and_a_header_in_an_address_are_refused(tmp_path: Path) -> None:
    said = problem(tmp_path, GOOD.replace("host: smtp.example.org", "host: smtp.example.org:587"))
    assert ":6:11: host: 'smtp.example.org:587' is not a host name: write the port in `port`" in said
    with pytest.raises(ValueError, match="from: a line break or control character"):
        EmailChannel.model_validate(
            {"name": "m", "to": ["a@example.org"], "from": "a@example.org\r\nBcc: x@evil.example", "host": "h"}
        )


def test_message_ids_are_header_safe_and_tell_keys_apart() -> None:
    assert message_id("801202f056b4e9786077") == "<801202f056b4e9786077@watchfloor>"
    assert message_id("a:b") == "<a=3Ab@watchfloor>" != message_id("a=3Ab")
    assert message_id("x>\r\nBcc: y") == "<x=3E=0D=0ABcc=3A=20y@watchfloor>"
    long = message_id("k" * 500)
    assert long.startswith("<sha256.") and len(long) < 100


def test_the_subject_is_one_line() -> None:
    from datetime import UTC, datetime

    det = Detection(
        id="d1",
        rule="r",
        title="A\r\nBcc: x@evil\u2028B\x00C",
        severity="critical",
        fired_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert subject(notice_of(Alert(id="d1", detection=det, channels=("m",)))) == "[CRITICAL] A Bcc: x@evil B C"


def test_the_exported_config_schema_takes_one_address_alone() -> None:
    # `to: desk@example.org` loads (above): the JSON Schema editors check the file with must say so too.
    from watchfloor.schemas.export import all_schemas

    schema = all_schemas()["config"]
    defs = schema.get("$defs") or schema.get("definitions") or {}
    to = defs["EmailChannel"]["properties"]["to"]
    kinds = {alt.get("type") for alt in to["anyOf"]}
    assert kinds == {"string", "array"}
    assert defs["EmailChannel"]["properties"].keys() >= {"from", "to", "host", "tls", "password_env"}


def test_the_wait_for_the_verdict_on_a_message_is_its_own_setting(tmp_path: Path) -> None:
    """RFC 5321 §4.5.3.2.6: 10 minutes for the reply to the end of the message; `timeout` is for the other steps."""
    assert load(tmp_path, GOOD).data_timeout == 120.0  # 2 minutes, not RFC 5321's 10: channels are delivered in turn
    given = GOOD.replace("host: smtp", "timeout: 10\n    data_timeout: 120\n    host: smtp")
    assert (load(tmp_path, given).timeout, load(tmp_path, given).data_timeout) == (10.0, 120.0)
    said = problem(tmp_path, GOOD.replace("host: smtp", "data_timeout: 0\n    host: smtp"))
    assert "watchfloor.yaml:6:19:" in said and "greater than 0" in said  # at its place, like `timeout`
    said = problem(tmp_path, GOOD.replace("host: smtp", "data_timeout: 7200\n    host: smtp"))
    assert "watchfloor.yaml:6:19:" in said and "3600" in said
