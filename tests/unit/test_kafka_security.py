"""The `kafka:` section's security keys (SASL, TLS): validated at load with FILE:LINE:COL, turned into the settings
of each client library by one function, the password from the environment and masked."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from watchfloor.config import ConfigError, load_config
from watchfloor.schemas.config import KafkaConfig
from watchfloor.stream_processors.kafka import clients, compat, security

SASL = {
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "svc-watchfloor",
    "sasl_password_env": "KAFKA_PASSWORD",
}


@pytest.fixture(autouse=True)
def plaintext_after() -> Iterator[None]:
    yield
    security.use(security.PLAINTEXT)  # the process-wide choice must not leak into other tests


def test_the_security_keys_are_typed_and_checked_together() -> None:
    k = KafkaConfig.model_validate(SASL)
    assert (k.security_protocol, k.sasl_mechanism, k.sasl_username) == ("SASL_SSL", "SCRAM-SHA-512", "svc-watchfloor")
    assert KafkaConfig().security_protocol == "PLAINTEXT"
    bad = [
        ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism, sasl_username, sasl_password_env"),
        ({**SASL, "security_protocol": "PLAINTEXT"}, "SASL is used only with SASL_PLAINTEXT or SASL_SSL"),
        ({"security_protocol": "SASL_PLAIN"}, "security_protocol"),
        ({**SASL, "sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
        ({"ssl_cafile": "ca.pem"}, "TLS files are used only with SSL or SASL_SSL"),
        ({"security_protocol": "SSL", "ssl_certfile": "c.pem"}, "ssl_certfile and ssl_keyfile go together"),
    ]
    for given, said in bad:
        with pytest.raises(ValidationError, match=said):
            KafkaConfig.model_validate(given)


@pytest.mark.parametrize("pasted", ["hunter2!", "xoxb-123-456", "my secret"])
def test_a_pasted_password_is_refused_without_being_repeated(pasted: str) -> None:
    with pytest.raises(ValidationError) as e:
        KafkaConfig.model_validate({**SASL, "sasl_password_env": pasted})
    assert "sasl_password_env" in str(e.value) and pasted not in str(e.value).split("input_value")[0]


def test_config_errors_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(
        "kafka:\n"
        "  bootstrap: broker.example:9093\n"
        "  security_protocol: SASL_SSL\n"
        "  sasl_mechanism: SCRAM-SHA-1\n"
        "  sasl_username: svc\n"
        "  sasl_password_env: KAFKA_PASSWORD\n"
    )
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert f"{path}:4:19: Input should be 'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512'" == str(e.value)
    path.write_text("kafka:\n  bootstrap: b:9093\n  security_protocol: SASL_SSL\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert f"{path}:1:1: security_protocol SASL_SSL needs sasl_mechanism, sasl_username, sasl_password_env" == str(
        e.value
    )
    path.write_text("kafka:\n  bootstrap: b:9093\n  sasl_password_env: hunter2-pasted!\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert f"{path}:3:" in str(e.value) and "hunter2-pasted!" not in str(e.value), str(e.value)
    path.write_text("kafka:\n  bootstrap: b:9093\n" + "".join(f"  {k}: {v}\n" for k, v in SASL.items()))
    assert load_config(path).kafka.sasl_username == "svc-watchfloor"


def test_sasl_settings_for_kafka_python_and_faust_with_the_password_from_the_environment() -> None:
    s = security.from_settings(
        KafkaConfig.model_validate({**SASL, "security_protocol": "SASL_PLAINTEXT"}), env={"KAFKA_PASSWORD": "pw-1"}
    )
    assert s.kafka_python() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc-watchfloor",
        "sasl_plain_password": "pw-1",
    }
    creds = compat.broker_credentials(s)
    assert (creds.username, creds.password, creds.mechanism.value, creds.protocol.value) == (
        "svc-watchfloor",
        "pw-1",
        "SCRAM-SHA-512",
        "SASL_PLAINTEXT",
    )
    # never shown: repr, the status/log line, an error text
    assert "pw-1" not in repr(s) and "pw-1" not in s.describe()
    assert s.describe() == "SASL_PLAINTEXT SCRAM-SHA-512 user svc-watchfloor password ***"
    assert s.mask("login pw-1 refused") == "login *** refused"
    with pytest.raises(security.KafkaSecurityError, match="KAFKA_PASSWORD is not set"):
        security.from_settings(KafkaConfig.model_validate(SASL), env={})


def test_tls_settings_share_one_context_with_the_given_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    key = tmp_path / "ca.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(ca)),
            *("-days", "1", "-subj", "/CN=watchfloor-test-ca"),
        ],
        check=True,
        capture_output=True,
    )
    s = security.from_settings(
        KafkaConfig.model_validate({**SASL, "ssl_cafile": str(ca)}), env={"KAFKA_PASSWORD": "pw"}
    )
    settings = s.kafka_python()
    assert settings["security_protocol"] == "SASL_SSL" and isinstance(settings["ssl_context"], ssl.SSLContext)
    assert [c["subject"] for c in settings["ssl_context"].get_ca_certs()] == [
        ((("commonName", "watchfloor-test-ca"),),)
    ]
    creds = compat.broker_credentials(s)
    assert creds.protocol.value == "SASL_SSL" and isinstance(creds.ssl_context, ssl.SSLContext)
    only_tls = security.KafkaSecurity(protocol="SSL", cafile=str(ca), certfile=str(ca), keyfile=str(key))
    assert compat.broker_credentials(only_tls).protocol.value == "SSL"
    assert compat.broker_credentials(security.PLAINTEXT) is None
    with pytest.raises(security.KafkaSecurityError, match=r"kafka\.ssl_cafile: .* is not a readable file"):
        security.KafkaSecurity(protocol="SSL", cafile=str(tmp_path / "missing.pem")).ssl_context()


def test_every_kafka_python_client_gets_the_process_security() -> None:
    import kafka

    security.use(security.KafkaSecurity(protocol="SASL_PLAINTEXT", mechanism="PLAIN", username="u", password="p"))
    for cls in (kafka.KafkaProducer, kafka.KafkaConsumer, kafka.KafkaAdminClient):
        got = clients.client_config(cls, 5.0, bootstrap_servers="b:9092")
        assert (got["security_protocol"], got["sasl_mechanism"], got["sasl_plain_username"]) == (
            "SASL_PLAINTEXT",
            "PLAIN",
            "u",
        )
        assert got["sasl_plain_password"] == "p"
    security.use(security.PLAINTEXT)
    assert "security_protocol" not in clients.client_config(kafka.KafkaAdminClient, bootstrap_servers="b")
