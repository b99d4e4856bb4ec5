"""A feed URL's password never reaches a log line or a terminal: ingest, run, backtest, dead-letters."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.http_server import QuietHandler, serving
from watchfloor.cli import app

SECRET = "s3cret-pw"
PACK = Path(__file__).resolve().parents[2] / "examples" / "gdelt" / "dprk_russia_gdelt.yaml"


def feed(description: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>http://wire.example/</link>'
        "<item><title>Pact signed</title><link>http://wire.example/1</link>"
        f"<description>{description}</description><pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item>"
        "<item><link>http://wire.example/2</link>"  # neither title nor text: a dead letter
        "<pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    ).encode()


@pytest.fixture
def feed_url() -> Iterator[tuple[str, dict[str, bytes]]]:
    files = {"/feed.xml": feed("Russia and North Korea sign a pact.")}

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/rss+xml")
            data = body if body is not None else b"not here"
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as base:
        yield base.replace("http://", f"http://reader:{SECRET}@", 1), files


def test_a_feed_urls_password_is_in_no_log_line_nor_terminal_message(
    feed_url: tuple[str, dict[str, bytes]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base, files = feed_url
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    said: list[str] = []

    def invoke(*args: str) -> None:
        res = runner.invoke(app, list(args))
        assert res.exception is None or isinstance(res.exception, SystemExit), res.output
        said.append(res.output)

    invoke("ingest", "--store", store, f"{base}/feed.xml", f"{base}/missing.xml")
    files["/feed.xml"] = feed("Russia and North Korea sign a pact, say officials.")  # same id, edited: an edition
    invoke("ingest", "--store", store, f"{base}/feed.xml")
    invoke("dead-letters", "--store", store)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: {store}\nrules: [{PACK}]\n"
        f"sources:\n  - {{kind: rss, url: {base + '/feed.xml'!r}}}\n  - {{kind: rss, url: {base + '/missing.xml'!r}}}\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    invoke("run", "--once", "--config", str(cfg))
    invoke("backtest", "--rules", str(PACK), f"{base}/feed.xml", f"{base}/missing.xml")
    invoke("rules", "explain", "--rules", str(PACK), f"{base}/feed.xml")
    text = "\n".join(said)
    # What was said is there, each naming the feed with its password masked.
    assert "reader:***@127.0.0.1" in text and "dead letter" in text and "a document needs a title or a body" in text
    assert "HTTP 404" in text
    assert SECRET not in text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "reader:***@127.0.0.1" in logged and SECRET not in logged
