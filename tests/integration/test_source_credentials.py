"""Feeds that need credentials, given as a source's username + password_env and headers_env (the secrets in
environment variables, never in the file), against real local HTTP servers: polled with them, refused without,
never sent to another origin, and never in the store, whose file is read byte by byte."""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.http_server import QuietHandler, serving
from watchfloor.cli import app
from watchfloor.config import ConfigError, load_config
from watchfloor.producers.poller import SourcePoller, checkpoint_name
from watchfloor.schemas.config import RssSource
from watchfloor.stream_processors.stores.memory import MemoryStore
from watchfloor.stream_processors.stores.sql import SqlStore

PASSWORD = "pw-7f3a9c1e-basic"
TOKEN = "tok-51b2d8e4-header"
BASIC = "Basic " + base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
KEY = "key-9c4e/a+b=c&d"  # characters a query must encode, so the value is sent encoded and found either way
ENV = {"FEED_PW": PASSWORD, "FEED_TOKEN": TOKEN, "FEED_KEY": KEY}


def feed(title: str) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>http://wire.example/</link>'
        f"<item><title>{title}: pact signed</title><link>http://wire.example/{title}/1</link>"
        "<description>Russia and North Korea sign a pact.</description>"
        "<pubDate>Tue, 12 Nov 2024 09:00:00 GMT</pubDate></item>"
        f"<item><title>{title}: troops</title><link>http://wire.example/{title}/2</link>"
        "<description>Troops seen near Kursk.</description><pubDate>Tue, 12 Nov 2024 10:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    ).encode()


@dataclass
class Server:
    """/basic.xml wants HTTP Basic (reader / PASSWORD), /header.xml an X-Api-Key of TOKEN, /query.xml `?u=KEY` in
    its query; /moved/X redirects to /X, /away/X to http://localhost:PORT/X (the same server under another origin),
    /bounce/X to an ftp:// URL with the request's query. Every request's Authorization
    and X-Api-Key are kept, with its path."""

    base: str = ""
    seen: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def sent_to(self, path: str) -> list[tuple[str | None, str | None]]:
        return [(auth, key) for p, auth, key in self.seen if p == path]


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            path = self.path
            auth, key = self.headers.get("Authorization"), self.headers.get("X-Api-Key")
            state.seen.append((path, auth, key))
            if path.startswith("/moved/"):  # (the query is not repeated: the key is the client's to add again)
                return self._redirect(state.base + path.removeprefix("/moved").partition("?")[0])
            if path.startswith("/away/"):
                other = state.base.replace("127.0.0.1", "localhost")
                return self._redirect(other + path.removeprefix("/away").partition("?")[0])
            if path.split("?")[0] == "/query.xml":
                query = dict(urllib.parse.parse_qsl(path.partition("?")[2]))
                if query.get("u") != KEY:
                    return self._refuse('ApiKey realm="feeds"')
                path = "/query.xml"
            if path.startswith("/bounce/"):  # a redirect that repeats the request's query into a URL never followed
                return self._redirect("ftp://127.0.0.1/feed?" + path.partition("?")[2])
            if path == "/basic.xml" and auth != BASIC:
                return self._refuse('Basic realm="feeds"')
            if path == "/header.xml" and key != TOKEN:
                return self._refuse('ApiKey realm="feeds"')
            if path == "/forbidden.xml":
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if path not in ("/basic.xml", "/header.xml", "/query.xml"):
                self.send_error(404)
                return
            body = feed(path.strip("/").split(".")[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, to: str) -> None:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _refuse(self, challenge: str) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler) as base:
        state.base = base
        yield state


def basic(url: str, **more: object) -> RssSource:
    return RssSource.model_validate({"url": url, "username": "reader", "password_env": "FEED_PW", **more})


def keyed(url: str) -> RssSource:
    return RssSource.model_validate({"url": url, "headers_env": {"X-Api-Key": "FEED_TOKEN"}})


def test_feeds_behind_basic_auth_and_a_header_are_read_and_the_store_file_holds_no_secret(
    server: Server, tmp_path: Path
) -> None:
    db = tmp_path / "wf.db"
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{db}\n"
        "sources:\n"
        f"  - {{kind: rss, url: {server.url('/basic.xml')}, username: reader, password_env: FEED_PW}}\n"
        f"  - {{kind: rss, url: {server.url('/header.xml')}, headers_env: {{X-Api-Key: FEED_TOKEN}}}}\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=ENV)
    assert res.exit_code == 0, res.output
    assert server.sent_to("/basic.xml") == [(BASIC, None)]
    assert server.sent_to("/header.xml") == [(None, TOKEN)]
    store = SqlStore(f"sqlite:///{db}")
    try:
        docs = [se.event for se in store.read(types={"news.article"}, limit=100)]
        assert len(docs) == 4
        # The URL is the identity: the checkpoint's name and the documents' source.url are the URL as configured.
        assert store.load_checkpoint(checkpoint_name(server.url("/basic.xml"))).state is not None
        assert {d.payload["source"]["url"] for d in docs} == {server.url("/basic.xml"), server.url("/header.xml")}
        assert {d.origin for d in docs} == {server.url("/basic.xml"), server.url("/header.xml")}
    finally:
        store.close()
    # The database file, and any journal beside it: no byte of the password, the token or the Basic header.
    files = [p for p in tmp_path.iterdir() if p.name.startswith("wf.db")]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in (PASSWORD, TOKEN, BASIC.split()[1]):
            assert secret.encode() not in data, (path, secret)
    assert PASSWORD not in res.output and TOKEN not in res.output


def test_without_the_credentials_a_feed_fails_with_a_401_that_says_what_to_set(server: Server) -> None:
    (bare,) = SourcePoller(MemoryStore(), [RssSource(url=server.url("/basic.xml"))]).poll_once().sources
    assert bare.error == (
        "HTTP 401 Unauthorized: the server wants credentials, and none were sent to it (a source's username + "
        "password_env, headers_env or query_env)"
    )
    wrong = {"FEED_PW": "guess", "FEED_TOKEN": "guess"}
    store = MemoryStore()
    refused = SourcePoller(store, [basic(server.url("/basic.xml")), keyed(server.url("/header.xml"))], env=wrong)
    for result in refused.poll_once().sources:
        assert result.error is not None and result.error.startswith("HTTP 401 Unauthorized: the credentials sent")
        assert "guess" not in result.error
    assert server.sent_to("/header.xml") == [(None, "guess")]
    # Many APIs answer a wrong key with 403: said as a refusal of the credentials sent (outside trial 7, L10).
    (forbidden,) = SourcePoller(MemoryStore(), [keyed(server.url("/forbidden.xml"))], env=wrong).poll_once().sources
    assert forbidden.error == (
        "HTTP 403 Forbidden: the credentials sent were refused, or lack access (check username, and the variables "
        "password_env, headers_env and query_env name)"
    )
    (bare,) = SourcePoller(MemoryStore(), [RssSource(url=server.url("/forbidden.xml"))]).poll_once().sources
    assert bare.error is not None and bare.error.startswith("HTTP 403 Forbidden: the server refuses access (if it")


def test_credentials_follow_a_redirect_on_their_origin_and_never_to_another(server: Server) -> None:
    moved = SourcePoller(MemoryStore(), [basic(server.url("/moved/basic.xml"))], env=ENV).poll_once().sources[0]
    assert moved.error is None and moved.ingested is not None and moved.ingested.accepted == 2
    assert server.sent_to("/basic.xml") == [(BASIC, None)]
    server.seen.clear()
    sources = [basic(server.url("/away/basic.xml")), keyed(server.url("/away/header.xml"))]
    away = SourcePoller(MemoryStore(), sources, env=ENV).poll_once().sources
    # localhost is the same server under another origin: it gets neither the password nor the key.
    assert [r.error is not None and r.error.startswith("HTTP 401") for r in away] == [True, True]
    # Outside trial 7 (M3): the 401 says the credentials were held back on the redirect, not that none are set.
    for r in away:
        assert r.error is not None and "the credentials were not sent to http://localhost:" in r.error, r.error
        assert f"where a redirect from {server.url('/away/')}" in r.error and "none were sent" not in r.error
    assert server.sent_to("/away/basic.xml") == [(BASIC, None)]
    assert server.sent_to("/away/header.xml") == [(None, TOKEN)]
    assert server.sent_to("/basic.xml") == [(None, None)] and server.sent_to("/header.xml") == [(None, None)]


def test_a_variable_not_set_stops_the_start_naming_the_source_and_the_variable(server: Server, tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nsources:\n"
        f"  - {{kind: rss, url: {server.url('/basic.xml')}?v=1, username: reader, password_env: FEED_PW}}\n"
        f"  - {{kind: rss, url: {server.url('/header.xml')}, headers_env: {{X-Api-Key: FEED_TOKEN}}}}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"FEED_PW": None, "FEED_TOKEN": " "})
    assert res.exit_code == 1 and (res.exception is None or isinstance(res.exception, SystemExit)), res.output
    text = " ".join(res.output.split())
    assert (
        f"source {server.url('/basic.xml')}?v=1: the password (password_env) is read from the environment variable "
        "FEED_PW, which is not set" in text
    ), text
    assert "the X-Api-Key header (headers_env) is read from the environment variable FEED_TOKEN, which is set but " in (
        text
    )
    assert server.seen == []  # nothing was fetched
    odd = runner.invoke(app, ["run", "--once", "--config", str(cfg)], env={"FEED_PW": "ok", "FEED_TOKEN": "a\nb"})
    assert odd.exit_code == 1 and "FEED_TOKEN, which holds a line break" in " ".join(odd.output.split())
    assert server.seen == []
    produce = runner.invoke(app, ["produce", "--once", "--config", str(cfg)], env={"FEED_PW": None})
    assert produce.exit_code == 1 and "FEED_PW, which is not set" in " ".join(produce.output.split())


def _config(tmp_path: Path, source: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: memory://\nsources:\n  - kind: rss\n{source}", encoding="utf-8")
    return cfg


URL = "    url: https://feeds.example/world.xml\n"


@pytest.mark.parametrize(
    ("source", "place", "message"),
    [
        (URL + "    username: reader\n", "3:5", "username and password_env go together"),
        (URL + "    password_env: FEED_PW\n", "5:19", "username and password_env go together"),
        (URL + "    username: reader\n    password_env: hunter2-pw!\n", "6:19", "the NAME of an environment variable"),
        (URL + "    headers_env: {X-Api-Key: xoxb-1234}\n", "5:30", "the NAME of an environment variable"),
        (URL + "    headers_env: {X-Api-Key: xoxb1234}\n", "5:30", "looks like a token"),
        (URL + "    headers_env: {X Api Key: FEED_KEY}\n", "5:19", "'X Api Key' is not an HTTP header name"),
        (URL + "    headers_env: {Host: FEED_KEY}\n", "5:19", "Host is set by the fetch itself"),
        (URL + "    headers_env: {X-Key: A, x-key: B}\n", "5:5", "x-key given twice"),
        (
            URL + "    username: reader\n    password_env: FEED_PW\n    headers_env: {Authorization: FEED_TOKEN}\n",
            "7:5",
            "Authorization is made from username and password_env",
        ),
        (URL + "    username: 'a:b'\n    password_env: FEED_PW\n", "5:15", "holds no ':'"),
        (
            "    url: https://reader:pw@feeds.example/world.xml\n    username: reader\n    password_env: FEED_PW\n",
            "5:15",
            "the url has user:password@ in it already",
        ),
        ("    url: inbox/world.xml\n    headers_env: {X-Api-Key: FEED_KEY}\n", "5:5", "not a local file"),
    ],
)
def test_credential_keys_mistakes_are_said_at_their_place(
    tmp_path: Path, source: str, place: str, message: str
) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, source))
    text = str(failed.value)
    assert f"watchfloor.yaml:{place}:" in text and message in text, text
    for secret in ("hunter2", "xoxb", ":pw@"):
        assert secret not in text


def test_a_gdelt_source_with_a_path_takes_no_credentials(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        "sources:\n  - kind: gdelt\n    path: inbox/\n    headers_env: {X-Api-Key: FEED_KEY}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as failed:
        load_config(cfg)
    assert "watchfloor.yaml:4:5: headers_env is for a source at an http(s) url; a path is read from disk" in str(
        failed.value
    )


def test_a_url_that_embeds_a_credential_loads_with_a_warning_at_its_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        "sources:\n"
        "  - {kind: rss, url: 'https://reader:pw-1@feeds.example/world.xml'}\n"
        "  - {kind: rss, url: 'https://feeds.example/x.xml?lang=en&api_key=k-2', poll: 5m}\n"
        "  - kind: gdelt\n    url: https://mirror.example/gdeltv2/lastupdate.txt?token=t-3\n"
        "  - {kind: rss, url: 'https://feeds.example/ok.xml?key_stage=2&page=1', username: r, password_env: PW}\n",
        encoding="utf-8",
    )
    caplog.set_level(logging.WARNING, logger="watchfloor.config")
    loaded = load_config(cfg)
    assert len(loaded.sources) == 4  # still works as before: a warning, not an error
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3, said
    name = str(cfg)
    assert said[0].startswith(f"config: {name}:2:22: this url carries a credential (user:password@): it is the ")
    assert said[1].startswith(f"config: {name}:3:22: this url carries a credential (?api_key=)")
    assert said[2].startswith(f"config: {name}:5:10: this url carries a credential (?token=)")
    assert "username + password_env" in said[0] and "headers_env" in said[0] and "source.url" in said[0]
    # Without the file's path: pytest's numbered temporary folder (…/pytest-380/…) holds "t-3" itself.
    shown = " ".join(said).replace(name, "FILE")
    assert not any(s in shown for s in ("pw-1", "k-2", "t-3"))


def test_a_clean_url_with_the_keys_is_not_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        "sources:\n  - {kind: rss, url: 'https://feeds.example/x.xml?page=2', headers_env: {Authorization: TOK}}\n",
        encoding="utf-8",
    )
    caplog.set_level(logging.WARNING, logger="watchfloor.config")
    load_config(cfg)
    assert caplog.records == []
    assert urllib.parse.urlsplit(load_config(cfg).sources[0].url).query == "page=2"


def test_the_exported_config_schema_has_the_credential_keys() -> None:
    from watchfloor.schemas.export import all_schemas

    defs = all_schemas()["config"]["$defs"]
    for kind in ("RssSource", "GdeltSource"):
        props = defs[kind]["properties"]
        assert {"username", "password_env", "headers_env", "query_env"} <= props.keys(), kind
        assert props["headers_env"]["type"] == "object"
        assert props["headers_env"]["additionalProperties"] == {"type": "string"}


def queried(url: str) -> RssSource:
    # `u`: a name redact_url does not take for a secret, so only the fetch's own masking can keep it out of messages
    return RssSource.model_validate({"url": url, "query_env": {"u": "FEED_KEY"}})


def test_a_feed_that_takes_its_key_in_the_query_is_read_and_the_store_file_holds_no_key(
    server: Server, tmp_path: Path
) -> None:
    db = tmp_path / "wf.db"
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{db}\n"
        f"sources:\n  - {{kind: rss, url: '{server.url('/query.xml')}?lang=en', query_env: {{u: FEED_KEY}}}}\n"
        "channels:\n  - {type: file, name: file, path: alerts.jsonl}\nsubscriptions:\n  - {channel: file}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env=ENV)
    assert res.exit_code == 0, res.output
    asked = [p for p, _a, _k in server.seen]
    assert asked == ["/query.xml?lang=en&u=" + urllib.parse.quote_plus(KEY)], asked
    store = SqlStore(f"sqlite:///{db}")
    try:
        docs = [se.event for se in store.read(types={"news.article"}, limit=100)]
        assert len(docs) == 2
        assert {d.payload["source"]["url"] for d in docs} == {server.url("/query.xml") + "?lang=en"}
        assert store.load_checkpoint(checkpoint_name(server.url("/query.xml") + "?lang=en")).state is not None
    finally:
        store.close()
    for path in (p for p in tmp_path.iterdir() if p.name.startswith("wf.db")):
        data = path.read_bytes()
        for form in (KEY, urllib.parse.quote_plus(KEY), urllib.parse.quote(KEY, safe="")):
            assert form.encode() not in data, (path, form)
    assert KEY not in res.output and urllib.parse.quote_plus(KEY) not in res.output


def test_the_query_key_follows_a_redirect_on_its_origin_never_to_another_and_is_masked_in_errors(
    server: Server,
) -> None:
    (moved,) = SourcePoller(MemoryStore(), [queried(server.url("/moved/query.xml"))], env=ENV).poll_once().sources
    assert moved.error is None and moved.ingested is not None and moved.ingested.accepted == 2
    encoded = urllib.parse.quote_plus(KEY)
    assert [p for p, _a, _k in server.seen] == [f"/moved/query.xml?u={encoded}", f"/query.xml?u={encoded}"]
    server.seen.clear()
    (away,) = SourcePoller(MemoryStore(), [queried(server.url("/away/query.xml"))], env=ENV).poll_once().sources
    assert [p for p, _a, _k in server.seen] == [f"/away/query.xml?u={encoded}", "/query.xml"]  # localhost: no key
    assert away.error is not None and "the credentials were not sent to http://localhost:" in away.error
    (bounced,) = SourcePoller(MemoryStore(), [queried(server.url("/bounce/x.xml"))], env=ENV).poll_once().sources
    assert bounced.error is not None and bounced.error.startswith("redirect to ftp://127.0.0.1/feed?u=*** refused")
    for result in (away, bounced):
        assert KEY not in (result.error or "") and encoded not in (result.error or ""), result.error
    (bare,) = SourcePoller(MemoryStore(), [RssSource(url=server.url("/query.xml"))]).poll_once().sources
    assert bare.error is not None and "or query_env)" in bare.error


def test_a_query_variable_not_set_stops_the_start(server: Server, tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        f"sources:\n  - {{kind: rss, url: {server.url('/query.xml')}, query_env: {{u: FEED_KEY}}}}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg)], env={"FEED_KEY": None})
    assert res.exit_code == 1, res.output
    assert "the query parameter u (query_env) is read from the environment variable FEED_KEY, which is not set" in (
        " ".join(res.output.split())
    )
    assert server.seen == []


@pytest.mark.parametrize(
    ("source", "place", "message"),
    [
        (
            "    url: https://feeds.example/x.xml?api_key=1\n    query_env: {api_key: KEY}\n",
            "5:5",
            "in the url's query",
        ),
        (URL + "    query_env: {'a=b': KEY}\n", "5:17", "is not a query parameter name"),
        (URL + "    query_env: {key: sk-live-123}\n", "5:22", "the NAME of an environment variable"),
        ("    url: inbox/world.xml\n    query_env: {key: KEY}\n", "5:5", "not a local file"),
    ],
)
def test_query_env_mistakes_are_said_at_their_place(tmp_path: Path, source: str, place: str, message: str) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, source))
    text = str(failed.value)
    assert f"watchfloor.yaml:{place}:" in text and message in text, text
    assert "sk-live" not in text
