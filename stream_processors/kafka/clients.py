"""kafka-python clients as watchfloor makes them: settings across versions, which errors mean "the broker is
away", and one log line per change of the broker's availability (not one per retry).

Reconnects. kafka-python backs off exponentially between reconnect attempts up to ``reconnect_backoff_max_ms``
(30 s by default), so a consumer that lost its broker for a few seconds took up to half a minute more to
notice it was back (``watchfloor archive`` resumed 35-55 s after a broker restart). watchfloor's clients cap
it at RECONNECT_BACKOFF_MAX_MS.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from watchfloor.schemas.rules import format_elapsed

from . import security
from .unreachable import UNREACHABLE

RECONNECT_BACKOFF_MAX_MS = 1000


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "the broker cannot be reached (or is not ready) now": wait and try again."""
    try:
        import kafka.errors as kafka_errors
    except ImportError:  # pragma: no cover - exercised only without the extra
        return ()
    return (
        *(getattr(kafka_errors, n) for n in UNREACHABLE if hasattr(kafka_errors, n)),
        KafkaNotABroker,
        KafkaNoSuchHost,
    )


def client_config(cls: Any, timeout_s: float | None = None, **wanted: Any) -> dict[str, Any]:
    """`wanted` settings for a kafka-python client class, with watchfloor's reconnect cap and, given
    `timeout_s`, the bootstrap timeout of either major version; settings the class does not know are left
    out (kafka-python 2.x and 3.x differ). The process's security (security.current(): SASL, TLS) is added."""
    config: dict[str, Any] = {"reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS, **wanted}
    if timeout_s is not None:
        timeout_ms = int(timeout_s * 1000)
        config.setdefault("request_timeout_ms", timeout_ms)
        config.setdefault("bootstrap_timeout_ms", timeout_ms)  # 3.x
        config.setdefault("api_version_auto_timeout_ms", timeout_ms)  # 2.x
    known = cls.DEFAULT_CONFIG
    chosen = {k: v for k, v in config.items() if k in known}
    # The process's security settings are never left out: a client that silently fell back to PLAINTEXT would
    # only fail at the broker, and every kafka-python version watchfloor supports knows these keys.
    chosen.update(security.current().kafka_python())
    return chosen


class KafkaAuthenticationFailed(RuntimeError):
    """The broker refused this process's credentials or TLS handshake: retrying cannot help, so it is said
    at once (kafka-python only logs the refusal, then gives up bootstrapping with a timeout)."""


# What kafka-python logs when the broker refuses the client's SASL credentials or the TLS handshake fails.
AUTH_FAILURE = re.compile(
    r"SaslAuthenticationFailed|AuthenticationFailed|UnsupportedSaslMechanism|IllegalSaslState"
    r"|CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError|WRONG_VERSION_NUMBER|SSLError"
)
TLS_FAILURE = re.compile(r"CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError|WRONG_VERSION_NUMBER|SSLError")


class _AuthFailures(logging.Handler):
    """Keeps the last authentication failure kafka-python logged, and how many there were."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # a library's bad format string must not break logging
            return
        found = AUTH_FAILURE.search(msg)
        if found:
            self.count += 1
            self.last = msg[found.start() :].splitlines()[0][:300]


_auth_failures = _AuthFailures()
logging.getLogger("kafka").addHandler(_auth_failures)

# What kafka-python says when the peer at the address is not a Kafka broker (PostgreSQL's port, say): the first four
# bytes of its answer read as a frame length that no Kafka response has (outside trial 40, M5).
NOT_KAFKA = re.compile(r"InvalidReceiveError(?:: Invalid frame length: \d+)?|Invalid frame length: \d+")
ADDRESS = re.compile(r"\[([^\]\s<]+:\d+)(?:<-|\])")  # "<KafkaTCPTransport [HOST:PORT<-LOCAL]>", "[HOST:PORT]"


def not_a_broker(reason: object, address: str | None = None) -> str | None:
    """ "something answers at HOST:PORT that is not a Kafka broker (check the port …)" when `reason` (an error, a log
    message) is kafka-python's way of saying so (NOT_KAFKA), else None. `address`: the bootstrap address, when the
    reason does not name it."""
    text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    found = NOT_KAFKA.search(text)
    if found is None:
        return None
    named = ADDRESS.search(text)
    where = named.group(1) if named is not None else address or "that address"
    return f"something answers at {where} that is not a Kafka broker (check the port; it said {found.group(0)})"


class _NotKafka(logging.Filter):
    """Drops kafka-python's lines about a peer that is not a Kafka broker, noting the last one: it logs two per
    connection attempt (~130 a minute, outside trial 40, M5), and watchfloor says it once, in its own words
    (`not_a_broker`: Availability, and `make_client` for a bootstrap that fails)."""

    LOGGERS = (
        "kafka.net.transport",
        "kafka.net.manager",
        "kafka.net.connection",
        "kafka.net.selector",
        "kafka.conn",
        "kafka.client_async",
    )

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.last = ""  # the last such message

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a library's bad format string must not break logging
            return True
        said = NOT_KAFKA.search(msg)
        if said is None:
            return True
        self.count += 1
        self.last = msg
        for funnel in logging.getLogger("kafka").handlers:  # a process that funnels them still learns of it
            if isinstance(funnel, ClientLogFunnel):
                funnel.handle(record)
        return False


_not_kafka = _NotKafka()
for _name in _NotKafka.LOGGERS:
    logging.getLogger(_name).addFilter(_not_kafka)


class KafkaNotABroker(RuntimeError):
    """What answers at the bootstrap address is not a Kafka broker: raised by `make_client` in place of the client's
    bootstrap timeout (which says only that it could not bootstrap), as one of `unreachable_errors` (a port that a
    broker may take later is waited for like one that refuses)."""


class KafkaNoSuchHost(RuntimeError):
    """No host of the bootstrap addresses resolves: raised by `make_client` at once, in place of the client's
    bootstrap timeout (outside trial 55, L5: `--broker locahost:19392` read as a 12 s "Unable to bootstrap"). One of
    `unreachable_errors`: a name that a DNS server or a container network gives later is waited for like a broker."""


def unresolved_hosts(servers: object) -> str | None:
    """'no such host: H (…)' when no host of `servers` ("host:port,…" or a list of them) resolves, else None
    (kafka-python tries the others). An address with no port is looked up with Kafka's 9092."""
    import socket

    listed = (
        servers.split(",") if isinstance(servers, str) else list(servers) if isinstance(servers, list | tuple) else []
    )
    failures = []
    for address in (str(a).strip() for a in listed):
        if not address:
            continue
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "9092")
        host = host.strip("[]")  # an IPv6 literal "[::1]:9092"
        try:
            socket.getaddrinfo(host, int(port) if port.isdigit() else 9092, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            failures.append(f"{host} ({e})")
            continue
        return None
    return f"no such host: {', '.join(failures)}" if failures else None


def _auth_failure_since(count: int, config: dict[str, Any]) -> KafkaAuthenticationFailed | None:
    if _auth_failures.count == count:
        return None
    chosen = security.current()
    servers = config.get("bootstrap_servers", "?")
    said = chosen.mask(_auth_failures.last)
    if TLS_FAILURE.search(said):  # our side refused the broker's certificate, or the port does not speak TLS
        return KafkaAuthenticationFailed(
            f"Kafka broker {servers}: the TLS handshake failed ({chosen.describe()}): {said}; check "
            "kafka.ssl_cafile (the CA that signed the broker's certificate), ssl_certfile/ssl_keyfile, and that the "
            "port is the broker's TLS listener"
        )
    return KafkaAuthenticationFailed(
        f"Kafka broker {servers} refused the connection's authentication ({chosen.describe()}): {said}; check "
        "kafka.security_protocol, sasl_mechanism, sasl_username and the password in the variable sasl_password_env "
        "names"
    )


_eof_fix: list[bool] = []  # whether deliver_data_before_eof ran (once per process)


def deliver_data_before_eof() -> bool:
    """Make kafka-python 3.x hand a connection the bytes that came with the broker's close before it aborts.

    Its transports read a socket until it would block (``_sock_recv``); when that read meets the end of the stream it
    returns what it read with the error, and the read loop aborts on the error without giving the bytes to the
    protocol. A broker that refuses a login answers SaslAuthenticate with error 58 and closes the connection; once
    answer and close are read together (seen every time with Kafka 4.1 on this machine: the broker sends both after
    its connection.failed.authentication.delay.ms) the answer was lost, the library logged "socket disconnected"
    and bootstrapped until its timeout, and a wrong password read as "broker unreachable". Here a read that got
    bytes and the end returns the bytes alone: the protocol gets them, and the next read, at the end of the stream
    at once, returns the error as before. Nothing else changes. Applied once, to the transport classes that have
    such a method (kafka-python 2.x has none: its own reads were not affected); False when there is nothing to
    apply it to."""
    if _eof_fix:
        return _eof_fix[0]
    try:
        from kafka.net import transport
    except ImportError:  # kafka-python 2.x
        _eof_fix.append(False)
        return False
    done = False
    for name in ("KafkaTCPTransport", "KafkaSSLTransport"):
        cls = getattr(transport, name, None)
        original = cls.__dict__.get("_sock_recv") if cls is not None else None
        if cls is None or original is None:
            continue

        def sock_recv(self: Any, _original: Any = original) -> tuple[bytes, BaseException | None]:
            data, err = _original(self)
            return (data, None) if data and err is not None else (data, err)

        cls._sock_recv = sock_recv
        done = True
    _eof_fix.append(done)
    return done


def make_client(cls: Any, config: dict[str, Any], *args: Any) -> Any:
    """`cls(*args, **config)`, and a client whose constructor fails is taken down before the error goes on.

    kafka-python 3.0 bootstraps in the constructor of KafkaAdminClient and KafkaConsumer, after it has started
    the client's I/O thread, and leaves that thread and its sockets running when the bootstrap fails (the
    object is never returned, so nothing can close it; its own close() returns early on a half-made client):
    a thread and its descriptors (four against a closed port) per look at a broker that is down, for as long as
    the process runs. KafkaProducer bootstraps before it starts a thread, but holds its network client in a
    local: its selector and wake-up socket pair stay open until the cyclic garbage collector gets to them. The network
    clients are caught as the class makes them (its `kafka_client` setting, a factory) and closed, whatever
    attribute holds them.

    Not closed here, because nothing watchfloor can reach holds it: the socket of each failed connect (one per
    attempt; a 1 s look at a closed port makes three). kafka-python 3.0.12 (the newest) makes it in
    kafka/net/inet.py, KafkaNetSocket.connect (``sock = self.socket(...)``); when sock_connect raises (``111
    ECONNREFUSED``, or a connect timeout) neither it nor create_connection closes it. It stays a local of those two
    frames, kept by the error's traceback, and the error is kept by create_connection's own ``exceptions`` list, in a
    frame of that traceback: a cycle that only the cyclic garbage collector frees. The client leads nowhere near it:
    the KafkaConnection never got a transport (connection_made comes after create_connection returns), and
    _do_bootstrap pops it from ``_conns`` before the constructor raises, so closing the network clients or their
    connections cannot close the socket. Reaching it would take replacing library code (create_connection, or a
    KafkaNetSocket subclass registered under a made-up proxy_url scheme) or a full gc.collect() per failed look
    (a walk of every object, rule packs included); neither is done. Measured: 100 looks at a closed port, 300 failed
    connects, 300 more open sockets with the collector disabled, 21 with it enabled as it is (freed as it runs)."""
    deliver_data_before_eof()
    made: list[Any] = []
    known = getattr(cls, "DEFAULT_CONFIG", {})
    if "kafka_client" in known:
        factory = config.get("kafka_client") or known["kafka_client"]

        def kafka_client(*a: Any, **kw: Any) -> Any:
            net = factory(*a, **kw)
            made.append(net)
            return net

        config = {**config, "kafka_client": kafka_client}
    unknown = unresolved_hosts(config.get("bootstrap_servers"))
    if unknown is not None:  # said at once: the client would try it until its bootstrap timeout
        raise KafkaNoSuchHost(unknown)
    client = cls.__new__(cls)
    auth_failures, not_kafka = _auth_failures.count, _not_kafka.count
    try:
        client.__init__(*args, **config)
    except BaseException as e:
        inner = getattr(client, "_client", None)  # the network client of the admin and the consumer
        for net in made or ([inner] if inner is not None else []):
            try:
                net.close()  # 3.x: stops the I/O thread and closes its sockets
            except Exception:
                logging.getLogger(__name__).debug("closing a client that did not start failed", exc_info=True)
        refused = _auth_failure_since(auth_failures, config) if isinstance(e, Exception) else None
        if refused is not None:  # not "unreachable" after a timeout: the broker answered, and said no
            raise refused from None
        if isinstance(e, Exception) and _not_kafka.count != not_kafka:  # it answered, but not as a broker does
            servers = config.get("bootstrap_servers")
            address = ",".join(servers) if isinstance(servers, list | tuple) else str(servers or "") or None
            raise KafkaNotABroker(not_a_broker(_not_kafka.last, address) or _not_kafka.last) from None
        raise
    return client


ABANDON_WAIT_S = 5.0  # how long a producer's I/O thread is given to stop once told to drop its records


def close_producer(producer: Any, timeout_s: float) -> None:
    """Close a kafka-python KafkaProducer for good, waiting at most `timeout_s` for the records it holds; those it
    could not deliver by then (a broker gone: the publisher has them in its spool) are dropped, not left to it.

    KafkaProducer.close() flushes first, and a flush that times out raises out of close() before anything is
    stopped: the producer stays open, its I/O thread retrying the dead broker, and its __del__ makes the same close
    when it is collected, whose error Python prints on stderr as "Exception ignored in: <function
    KafkaProducer.__del__ …> … KafkaTimeoutError: Timeout waiting for future", an untimestamped traceback in a
    produce's log after its one outage line (outside trial 75, F2). So after such a timeout the I/O thread is closed
    by force (kafka-python's Sender.force_close: it fails the undelivered records' futures, as a closing producer
    would), and close() then finds nothing left to flush and marks the producer closed: its __del__ does nothing."""
    import kafka.errors as kafka_errors

    try:
        producer.close(timeout=timeout_s)
        return
    except kafka_errors.KafkaTimeoutError:
        pass
    sender = getattr(producer, "_sender", None)  # (kafka-python 2.x and 3.x alike)
    if sender is not None and hasattr(sender, "force_close"):
        sender.force_close()
        sender.join(ABANDON_WAIT_S)
    try:
        producer.close(timeout=0)
    except kafka_errors.KafkaTimeoutError:  # its thread did not stop in time: its __del__ may still say so
        logging.getLogger(__name__).debug("kafka: a producer's records could not be dropped", exc_info=True)


class Availability:
    """The broker's availability as one process sees it, logged once per change.

    ``down(reason)`` while it was up logs a warning (what is away, why, what happens meanwhile); further
    failures log nothing above debug. ``up()`` after a ``down`` logs how long it was away. A broker outage
    thus leaves two lines per process, whatever the number of retries.

    With ``confirm=True`` a failure is announced only when another follows within CONFIRM_S: a lone one (a
    connection reset under one request, which the client retried in place at once) is an info line, not an
    outage. Without it, nothing positive would ever say "reachable again": the library's recovery lines
    come from a rejoin, which a reset on a live broker does not cause. The outage's length still counts from
    the first failure. ``clock`` is the monotonic clock (tests give their own).

    With ``remind=(first, every)`` an outage that lasts is said again, in a short line, at the first failure
    ``first`` seconds after it began and then every ``every`` seconds: a process that only waits (a worker given a
    mistyped broker) would otherwise show one line and then silence, which reads like a hang (outside trial 13,
    L3). The reminders come with failures, so a client that stopped retrying says nothing more."""

    GRACE_S = 3.0  # failures this soon after the broker came back are stragglers of the outage, not a new one
    CONFIRM_S = 5.0  # with confirm: a second failure this soon after the first makes it an outage

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        *,
        meanwhile: str = "retrying",
        confirm: bool = False,
        remind: tuple[float, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.log = logger
        self.meanwhile = meanwhile
        self.confirm = confirm
        self.remind = remind
        self.clock = clock
        self.since: float | None = None  # monotonic time it went away; None while available
        self.back_at = float("-inf")  # monotonic time it came back
        self.first: tuple[float, object] | None = None  # with confirm: a failure not yet confirmed, and why
        self.next_reminder = float("inf")  # monotonic time of the next "still unreachable" line
        self.word = "unreachable"  # how the outage under way is said (`down`'s `word`)

    @property
    def available(self) -> bool:
        return self.since is None

    def down(
        self, reason: object, *, meanwhile: str | None = None, lasting: bool = False, word: str = "unreachable"
    ) -> None:
        """A failure; `lasting`: it already lasted (a request that timed out), so it needs no confirmation. `word`:
        what it is ("cannot be written": a read-only store is there, not unreachable; trial 50, LOW-2)."""
        now = self.clock()
        if self.since is None and now - self.back_at < self.GRACE_S:
            self.log.debug("%s: late failure from before it came back (%s)", self.what, _short(reason))
            return
        if self.since is not None:
            if now >= self.next_reminder and self.remind is not None:
                self.next_reminder = now + self.remind[1]
                self.log.warning(
                    "%s still %s after %s; %s",
                    self.what,
                    self.word,
                    format_elapsed(now - self.since),
                    meanwhile or self.meanwhile,
                )
            else:
                self.log.debug("%s still %s (%s)", self.what, self.word, _short(reason))
            return
        at, why = now, reason
        if self.confirm and not lasting and not_a_broker(reason) is None:  # not a broker: no reset, said at once
            if self.first is None or now - self.first[0] > self.CONFIRM_S:
                self.first = (now, reason)
                self.log.info("%s: one request failed (%s); retrying", self.what, _short(reason))
                return
            at, why = self.first
            self.first = None
        self.since = at
        self.word = word
        if self.remind is not None:
            self.next_reminder = at + self.remind[0]
        wrong = not_a_broker(why, self.what.removeprefix("Kafka broker ").strip())
        if wrong is not None:  # said at once, in words: kafka-python only says "Invalid frame length" (_NotKafka)
            self.log.warning("%s unreachable: %s; %s", self.what, wrong, meanwhile or self.meanwhile)
            return
        self.log.warning("%s %s (%s); %s", self.what, word, _short(why), meanwhile or self.meanwhile)

    def up(self) -> None:
        self.first = None
        if self.since is not None:
            self.back_at = self.clock()
            back = "reachable again" if self.word == "unreachable" else "usable again"
            self.log.warning("%s %s after %.1fs", self.what, back, self.back_at - self.since)
            self.since = None
            self.next_reminder = float("inf")


def _short(reason: object) -> str:
    text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else str(reason)
    return text.splitlines()[0][:300] if text else "?"


# What the Kafka client libraries log when the broker is away (aiokafka in the worker, kafka-python in the
# publisher and the archive), checked against their messages in a broker outage (tests/integration/
# test_broker_outage.py). Each attempt to reconnect, fetch, find the coordinator or refresh metadata logs a
# line: about 2,000 per worker in a 30 s outage.
SYMPTOMS = re.compile(
    r"ECONNREFUSED|Connect call failed|Unable connect to node|Connection (?:failed|lost)|Connection at \S+ closed"
    r"|node which is not ready|No node available|Unable to (?:update|request) metadata|Metadata refresh: failed"
    r"|Failed fetch messages|Fetch to node \S+ failed|Group Coordinator Request failed: (?!\[Error 15\])"
    r"|Error sending FindCoordinatorRequest|socket disconnected|KafkaConnectionError"
    r"|Bootstrap \S+ not ready|Bootstrap failed|Unable to bootstrap|Error (?:receiving network|sending request) data"
)
# Logged during an outage and in its aftermath (a group whose members the broker forgot rejoins: every pending
# offset commit fails once), but also when a group's coordinator moves with the broker up (NotCoordinatorError
# at a start, say): they change no state, and are kept quiet while the broker is away and for AFTERMATH_S
# after it is back.
# And kafka-python's producer retrying a batch in place while the partition's leader is elected again after a broker
# restart ("<Sender …>: Got error produce response on topic-partition …, retrying (4 attempts left):
# NotLeaderForPartitionError": 4 such lines right after `produce`'s broker came back, outside trial 72, LOW-2); a
# batch whose retries all fail fails its send, which the publisher spools and says itself.
WHILE_DOWN = re.compile(
    r"Marking the coordinator dead|is either not started or not valid|Heartbeat session expired|Heartbeat failed"
    r"|GroupCoordinatorNotAvailable|UnknownMemberId|member_id was not recognized|OffsetCommit failed"
    r"|Got error produce response on .*, retrying \(\d+ attempts? left\): "
    r"(?:NotLeaderForPartition|LeaderNotAvailable|NotEnoughReplicas|UnknownTopicOrPartition)"
)
AFTERMATH_S = 15.0
# kafka-python's group leader assigns partitions before its first metadata answer: "No partition metadata for
# topic T" for each topic, at every start, then assigns them all once the metadata is in (measured on an archive of
# existing topics: the records of every partition came in its first poll). The archive says its assignment itself
# (`watchfloor archive`: "reading N partition(s) …"), which also shows a topic that is really missing.
AT_START = re.compile(r"^No partition metadata for topic ")
# kafka-python 3's I/O thread times each step of its tasks and warns past 0.1 s ("… is blocking the event loop");
# a step of well under a second (seen once near a client's first connection, in `produce` as well as `archive`)
# delays no heartbeat or session (timeouts of 10 s and more). A longer stall still shows.
SLOW_STEP = re.compile(r"ran for (\d+(?:\.\d+)?)s \(>[\d.]+s threshold\)\. It is blocking the event loop")
SLOW_STEP_SHOWN_S = 1.0
RECOVERED = re.compile(r"^Discovered coordinator|^Updated metadata|^Bootstrap complete")


class ClientLogFunnel(logging.Handler):
    """Sits on a Kafka client library's logger: its connection failures become one state change of an
    `Availability` (one line when the broker goes, one when it is back) instead of a line per retry; its other
    records at `level` and above go on to the root logger's handlers as before."""

    def __init__(self, availability: Availability, level: int = logging.WARNING) -> None:
        super().__init__(logging.DEBUG)
        self.availability = availability
        self.pass_level = level
        self.suppressed = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # a library's bad format string must not break logging
            msg = str(record.msg)
        if record.levelno >= logging.WARNING and (SYMPTOMS.search(msg) or NOT_KAFKA.search(msg)):
            self.suppressed += 1
            self.availability.down(msg)
            return
        if WHILE_DOWN.search(msg) and (
            not self.availability.available or time.monotonic() - self.availability.back_at < AFTERMATH_S
        ):
            self.suppressed += 1
            return
        if not self.availability.available and RECOVERED.search(msg):
            self.availability.up()
        slow = SLOW_STEP.search(msg)
        if AT_START.search(msg) or (slow is not None and float(slow.group(1)) < SLOW_STEP_SHOWN_S):
            self.suppressed += 1
            return
        if record.levelno >= self.pass_level:
            logging.getLogger().callHandlers(record)


def funnel_client_logs(library: str, availability: Availability, level: int = logging.WARNING) -> ClientLogFunnel:
    """Route `library`'s logs ("aiokafka", "kafka") through a ClientLogFunnel (see there). Idempotent per
    library: a second call replaces the first funnel."""
    logger = logging.getLogger(library)
    for h in [h for h in logger.handlers if isinstance(h, ClientLogFunnel)]:
        logger.removeHandler(h)
    funnel = ClientLogFunnel(availability, level)
    logger.addHandler(funnel)
    logger.setLevel(logging.INFO)  # the recovery lines are INFO: they must be made to be seen
    logger.propagate = False
    return funnel


class _KeptOut(ClientLogFunnel):
    """A ClientLogFunnel without an Availability: for a command whose own lines already say when the broker is away
    (notify's lag reader, serve's pipeline status, `status`, `replay-workers`), kafka-python's lines about it are
    dropped; its other warnings go on to the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(Availability("kafka-python", logging.getLogger(__name__)))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:  # a library's bad format string must not break logging
            msg = str(record.msg)
        if SYMPTOMS.search(msg) or NOT_KAFKA.search(msg) or WHILE_DOWN.search(msg) or AT_START.search(msg):
            self.suppressed += 1  # the command says it once, in its own words
            return
        slow = SLOW_STEP.search(msg)
        if slow is not None and float(slow.group(1)) < SLOW_STEP_SHOWN_S:
            self.suppressed += 1
            return
        if record.levelno >= self.pass_level:
            logging.getLogger().callHandlers(record)


@contextmanager
def client_logs_kept_out(library: str = "kafka") -> Iterator[None]:
    """For a command's duration, `library`'s lines about the broker being away kept out of its log (outside trial 55,
    M1: a live notify logged 166 of kafka-python's lines in a 70 s outage, serve 21 per /metrics scrape), as the
    workers' and archive's funnel (`funnel_client_logs`) keeps them out. A command that funnels them already keeps its
    funnel. The logger is as it was afterwards (a command run in-process leaves nothing behind)."""
    logger = logging.getLogger(library)
    if any(isinstance(h, ClientLogFunnel) for h in logger.handlers):
        yield
        return
    saved = (logger.propagate, list(logger.handlers))
    logger.addHandler(_KeptOut())
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = saved[0]
        logger.handlers[:] = saved[1]
