"""kafka-python 3.x read the broker's last answer and its close together and dropped the answer: a refused login
(SaslAuthenticate error 58, then the broker closes) read as "socket disconnected", and watchfloor said "broker
unreachable" after the bootstrap timeout (tests/integration/test_kafka_sasl.py, the wrong password). A real socket
pair and the library's own transport class: the bytes come first, the end of the stream on the next read."""

from __future__ import annotations

import socket

import pytest

from watchfloor.stream_processors.kafka.clients import deliver_data_before_eof


def test_the_bytes_read_with_the_close_are_handed_on_before_the_error() -> None:
    transport = pytest.importorskip("kafka.net.transport", reason="kafka-python 3.x")
    assert deliver_data_before_eof() is True
    ours, broker = socket.socketpair()
    try:
        ours.setblocking(False)
        broker.sendall(b"the refusal")
        broker.close()  # the answer and the close, both waiting before the client reads
        t = transport.KafkaTCPTransport(None, ours)
        assert t._sock_recv() == (b"the refusal", None)
        data, err = t._sock_recv()
        assert data == b"" and err is not None and "socket disconnected" in str(err)
    finally:
        ours.close()
