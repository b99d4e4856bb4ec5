"""Fixtures of the fault-injection suite: the misbehaving feed server (feed_server.py)."""

from tests.faults.feed_server import gzip_bomb, hostile_feeds

__all__ = ["gzip_bomb", "hostile_feeds"]
