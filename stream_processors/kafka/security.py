"""How watchfloor's Kafka clients authenticate and encrypt: the `kafka:` section's security keys, turned into
settings for kafka-python and for Faust/aiokafka, with the password read from the environment and masked.

Every client goes through here: kafka-python's (publisher, archive, status, topics, readers) take
``KafkaSecurity.kafka_python()`` via ``clients.client_config``; the worker's Faust app takes
``KafkaSecurity.ssl_context()`` and the SASL fields through ``compat.broker_credentials``. A command installs
the security of its settings once (``use``), when it resolves its `kafka:` settings (cli ``settings_for``), so
no client made afterwards can miss it.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

MASK = "***"


class _SecuritySettings(Protocol):
    """The `kafka:` keys read here (schemas.config.KafkaConfig has them)."""

    @property
    def security_protocol(self) -> str: ...
    @property
    def sasl_mechanism(self) -> str | None: ...
    @property
    def sasl_username(self) -> str | None: ...
    @property
    def sasl_password_env(self) -> str | None: ...
    @property
    def ssl_cafile(self) -> str | None: ...
    @property
    def ssl_certfile(self) -> str | None: ...
    @property
    def ssl_keyfile(self) -> str | None: ...


class KafkaSecurityError(ValueError):
    """The security settings cannot be used as they are (an unset password variable, a missing file)."""


@dataclass(frozen=True)
class KafkaSecurity:
    """One process's way to the broker. The password is never shown: repr and `describe` mask it."""

    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def kafka_python(self) -> dict[str, Any]:
        """Settings for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient (none for PLAINTEXT,
        the libraries' default)."""
        if self.protocol == "PLAINTEXT":
            return {}
        out: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            out.update(
                sasl_mechanism=self.mechanism, sasl_plain_username=self.username, sasl_plain_password=self.password
            )
        if self.tls:
            # One context for both libraries, so kafka-python and aiokafka trust the same CAs and send the same cert.
            out["ssl_context"] = self.ssl_context()
        return out

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (system CAs, or `cafile`; the client certificate when given), None without TLS."""
        if not self.tls:
            return None
        for what, path in (("ssl_cafile", self.cafile), ("ssl_certfile", self.certfile), ("ssl_keyfile", self.keyfile)):
            if path is not None and not os.path.isfile(path):
                raise KafkaSecurityError(f"kafka.{what}: {path} is not a readable file")
        try:
            context = ssl.create_default_context(cafile=self.cafile)
            if self.certfile is not None:
                context.load_cert_chain(self.certfile, self.keyfile)
        except (ssl.SSLError, OSError) as e:
            raise KafkaSecurityError(f"kafka TLS files ({self.cafile or 'system CAs'}): {e}") from None
        return context

    def describe(self) -> str:
        """One line for logs and status: the protocol, mechanism and user, the password masked."""
        parts = [self.protocol]
        if self.sasl:
            parts.append(f"{self.mechanism} user {self.username} password {MASK}")
        if self.tls:
            parts.append(f"CA {self.cafile or 'system'}" + (f", client cert {self.certfile}" if self.certfile else ""))
        return " ".join(parts)

    def mask(self, text: str) -> str:
        """`text` with the password replaced (for error messages a library may build from its settings)."""
        return text.replace(self.password, MASK) if self.password else text


PLAINTEXT = KafkaSecurity()


def from_settings(settings: _SecuritySettings, env: Mapping[str, str] | None = None) -> KafkaSecurity:
    """The security of a `kafka:` section, its password read from the variable sasl_password_env names."""
    env = os.environ if env is None else env
    password = None
    if settings.sasl_password_env is not None:
        password = env.get(settings.sasl_password_env)
        if not password:
            raise KafkaSecurityError(
                f"kafka.sasl_password_env: the environment variable {settings.sasl_password_env} is not set (or "
                "empty); it must hold the SASL password"
            )
    return KafkaSecurity(
        protocol=settings.security_protocol,
        mechanism=settings.sasl_mechanism,
        username=settings.sasl_username,
        password=password,
        cafile=settings.ssl_cafile,
        certfile=settings.ssl_certfile,
        keyfile=settings.ssl_keyfile,
    )


_current: KafkaSecurity = PLAINTEXT

# kafka-python and aiokafka warn "in the clear" at every SASL_PLAINTEXT connection (dozens per worker); the
# command says it once instead (cli settings_for), and these loggers drop the repeats.
_CLEAR_LOGGERS = ("kafka.net.sasl.plain", "kafka.net.sasl.scram", "aiokafka.conn")
_IN_THE_CLEAR = ("Sending username and password in the clear", "Exchanging credentials in the clear")


class _InTheClear(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_IN_THE_CLEAR))


_in_the_clear = _InTheClear()


def use(security: KafkaSecurity) -> None:
    """Make `security` the one every Kafka client this process makes from now on uses."""
    global _current
    _current = security
    for name in _CLEAR_LOGGERS:
        logger = logging.getLogger(name)
        logger.removeFilter(_in_the_clear)
        if security.protocol == "SASL_PLAINTEXT":
            logger.addFilter(_in_the_clear)


def current() -> KafkaSecurity:
    """The security this process's Kafka clients use (PLAINTEXT until a command installs its settings')."""
    return _current
