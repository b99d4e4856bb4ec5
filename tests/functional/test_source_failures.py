"""Sources that fail (a mistyped JSONL path, a feed nobody answers at) are what an on-call operator must see:
`run --once` and `produce --once` exit 4 (before 3, deliveries outstanding or documents spooled, when both
happen), the summary line counts them, /metrics counts failed polls and the last success per source, and /healthz
degrades when every source of the last poll failed or one has failed for longer than `health.source_failing`.
A live `run` goes on, saying so once per source each cycle, without a traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from tests.fixtures.log_lines import unstamped
from tests.fixtures.watchfloor_process import command_env
from watchfloor.cli import app
from watchfloor.config import load_config
from watchfloor.web.build import build_services
from watchfloor.web.server import WebServer, create_app
from watchfloor.wiring import EmbeddedPipeline

pytestmark = pytest.mark.functional

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "watchfloor" / "samples" / "dprk_russia_2024.jsonl"
DEAD_FEED = "http://127.0.0.1:1/feed.xml"  # nothing listens on port 1: connection refused at once
runner = CliRunner()


def config(tmp_path: Path, sources: list[str], channel: str = "{type: console, name: desk}") -> Path:
    cfg = tmp_path / "wf.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\n"
        "rules: [builtin:dprk_russia]\n"
        f"sources: [{', '.join(sources)}]\n"
        f"channels: [{channel}]\n"
        "subscriptions: [{channel: desk}]\n"
        f"kafka: {{spool_dir: {tmp_path / 'spool'}}}\n",
        encoding="utf-8",
    )
    return cfg


def typo(tmp_path: Path) -> str:
    return f"{{kind: jsonl, path: {tmp_path / 'typo.jsonl'}}}"


def feed() -> str:
    return f'{{kind: rss, url: "{DEAD_FEED}"}}'


def good() -> str:
    return f"{{kind: jsonl, path: {SAMPLES}}}"


def test_run_once_exits_4_and_counts_the_failed_sources(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "--once", "--config", str(config(tmp_path, [typo(tmp_path), feed()]))])
    assert res.exit_code == 4, res.output
    assert "polled 2 sources (2 failed): 0 new documents" in res.output
    assert res.output.count("typo.jsonl failed") == 1 and res.output.count(f"{DEAD_FEED} failed") == 1
    assert "2 of 2 sources failed" in res.output


def test_run_once_with_one_source_failing_still_exits_4(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "--once", "--config", str(config(tmp_path, [good(), typo(tmp_path)]))])
    assert res.exit_code == 4, res.output
    assert "polled 2 sources (1 failed): 12 new documents" in res.output
    # all good again: 0, and no "(… failed)" in the summary
    (tmp_path / "typo.jsonl").write_text("", encoding="utf-8")
    res = runner.invoke(app, ["run", "--once", "--config", str(tmp_path / "wf.yaml")])
    assert res.exit_code == 0, res.output
    assert "polled 2 sources: 0 new documents" in res.output


def test_a_failed_source_wins_over_deliveries_outstanding(tmp_path: Path) -> None:
    hook = "{type: webhook, name: desk, url: 'http://127.0.0.1:1/hook'}"  # deliveries fail: outstanding
    res = runner.invoke(
        app, ["run", "--once", "--config", str(config(tmp_path, [good(), typo(tmp_path)], channel=hook))]
    )
    assert res.exit_code == 4, res.output
    assert "deliveries outstanding" in res.output and "1 of 2 sources failed" in res.output  # both are said
    (tmp_path / "typo.jsonl").write_text("", encoding="utf-8")
    res = runner.invoke(app, ["run", "--once", "--config", str(tmp_path / "wf.yaml")])
    assert res.exit_code == 3, res.output  # the deliveries alone: 3, as before


def backlog(tmp_path: Path, lines: int = 25, per_poll: int = 10) -> str:
    """A JSON Lines source read a slice per cycle: `--once` takes 3 cycles to catch up, the later ones polling it
    alone (no alert: the pack's words are not in it)."""
    path = tmp_path / "backlog.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "type": "news.article",
                    "id": f"w{i}",
                    "published_at": f"2024-01-01T00:{i % 60:02d}:00+00:00",
                    "source": "Weather desk",
                    "title": f"Weather item {i}",
                }
            )
            + "\n"
            for i in range(lines)
        ),
        encoding="utf-8",
    )
    return f"{{kind: jsonl, path: {path}, max_lines_per_poll: {per_poll}}}"


def test_run_once_exits_4_when_a_source_failed_in_an_earlier_cycle_of_a_catch_up(tmp_path: Path) -> None:
    """Trial 33, M1: the feed failed in the first of three catch-up cycles, the last cycle (the backlog alone) went
    well, and `run --once` exited 0 without the closing line."""
    res = runner.invoke(app, ["run", "--once", "--config", str(config(tmp_path, [backlog(tmp_path), feed()]))])
    assert res.output.count(f"{DEAD_FEED} failed") == 1  # said once, in the first cycle
    assert "polled 2 sources (1 failed): 10 new documents" in res.output
    assert "polled 1 source: 5 new documents" in res.output  # the last cycle: the backlog's rest, no failure
    assert res.exit_code == 4, res.output
    assert "1 of 2 sources failed" in res.output


def test_produce_once_exits_4_when_a_source_failed_in_an_earlier_pass_of_a_catch_up(tmp_path: Path) -> None:
    pytest.importorskip("kafka")
    args = ["--broker", "127.0.0.1:1", "--prefix", "srcfail", "--store", f"sqlite:///{tmp_path / 'out.db'}", "--once"]
    res = runner.invoke(app, ["produce", "--config", str(config(tmp_path, [backlog(tmp_path), feed()])), *args])
    assert res.output.count(f"{DEAD_FEED} failed") == 1
    assert "polled 1 source: 5 new documents" in res.output
    assert res.exit_code == 4, res.output
    assert "1 of 2 sources failed" in res.output


def test_produce_once_exits_4_when_a_source_failed(tmp_path: Path) -> None:
    pytest.importorskip("kafka")
    # No broker (nothing to send: no source was read), so no topics are left behind on a shared one.
    args = ["--broker", "127.0.0.1:1", "--prefix", "srcfail", "--store", f"sqlite:///{tmp_path / 'out.db'}", "--once"]
    res = runner.invoke(app, ["produce", "--config", str(config(tmp_path, [typo(tmp_path), feed()])), *args])
    assert res.exit_code == 4, res.output
    assert "polled 2 sources (2 failed): 0 new documents" in res.output
    assert res.output.count("typo.jsonl failed") == 1
    # A source read, its documents spooled (no broker: 3), and one failed: 4, and both are said.
    res = runner.invoke(app, ["produce", "--config", str(config(tmp_path, [good(), typo(tmp_path)])), *args])
    assert res.exit_code == 4, res.output
    assert "polled 2 sources (1 failed): 12 new documents" in res.output
    assert "not everything reached Kafka" in res.output and "1 of 2 sources failed" in res.output


def test_an_in_process_produce_leaves_the_loggers_as_it_found_them(tmp_path: Path) -> None:
    """A `produce` run in-process (here, or in a program embedding the CLI) once left the kafka package's logger at
    INFO and unpropagated, and hid a later test's debug records: what the command sets for itself ends with it."""
    pytest.importorskip("kafka")
    import logging

    names = ("", "kafka", "watchfloor.stream_processors.kafka")
    before = [(lg.level, lg.propagate, list(lg.handlers)) for lg in map(logging.getLogger, names)]
    args = ["--broker", "127.0.0.1:1", "--prefix", "logs", "--store", f"sqlite:///{tmp_path / 'out.db'}", "--once"]
    res = runner.invoke(app, ["produce", "--config", str(config(tmp_path, [typo(tmp_path)])), *args])
    assert res.exit_code == 4, res.output
    assert [(lg.level, lg.propagate, list(lg.handlers)) for lg in map(logging.getLogger, names)] == before


@pytest.fixture
def failed_twice(tmp_path: Path) -> Path:
    """A store whose pipeline polled a good source and a mistyped one, twice."""
    cfg = config(tmp_path, [good(), typo(tmp_path)])
    for _ in range(2):
        assert runner.invoke(app, ["run", "--once", "--config", str(cfg)]).exit_code == 4
    return cfg


@contextmanager
def serve(cfg_path: Path, clock: list[datetime]) -> Iterator[tuple[str, EmbeddedPipeline]]:
    cfg = load_config(cfg_path)
    pipeline = EmbeddedPipeline(cfg, env={})
    services = build_services(cfg, pipeline.store, pipeline.control, pipeline.rules, env={}, now=lambda: clock[0])
    server = WebServer(create_app(services), "127.0.0.1", 0).start()
    try:
        yield server.url, pipeline
    finally:
        server.stop()
        pipeline.close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_metrics_count_failed_polls_and_the_last_success_per_source(failed_twice: Path, tmp_path: Path) -> None:
    clock = [datetime.now(UTC)]
    with serve(failed_twice, clock) as (url, _):
        status, body = get(url + "/metrics")
        assert status == 200
        m = samples(body)
        bad, ok = str(tmp_path / "typo.jsonl"), str(SAMPLES)
        assert m[("watchfloor_source_poll_failures_total", (("source", bad),))] == 2
        assert m[("watchfloor_source_poll_failures_total", (("source", ok),))] == 0
        assert ("watchfloor_source_last_success_timestamp_seconds", (("source", bad),)) not in m
        last = m[("watchfloor_source_last_success_timestamp_seconds", (("source", ok),))]
        assert abs(last - clock[0].timestamp()) < 600
        # Failed polls are not poll durations.
        assert ("watchfloor_poll_duration_seconds_count", (("source", bad),)) not in m
        assert m[("watchfloor_poll_duration_seconds_count", (("source", ok),))] == 2


def test_healthz_degrades_when_a_source_fails_too_long(failed_twice: Path) -> None:
    clock = [datetime.now(UTC)]
    with serve(failed_twice, clock) as (url, _):
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok"  # one source of two, failing for a moment
        assert list(health["sources_failing"]) == [str(failed_twice.parent / "typo.jsonl")]
        clock[0] += timedelta(minutes=31)  # past health.source_failing (30 min)
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "degraded"
        assert any("typo.jsonl: failing for" in p and "not found" in p for p in health["problems"])


def test_healthz_degrades_at_once_when_every_source_failed(tmp_path: Path) -> None:
    cfg = config(tmp_path, [typo(tmp_path), feed()])
    assert runner.invoke(app, ["run", "--once", "--config", str(cfg)]).exit_code == 4
    with serve(cfg, [datetime.now(UTC)]) as (url, _):
        status, body = get(url + "/healthz")
        health = json.loads(body)
        assert status == 503 and health["status"] == "degraded"
        assert any(p.startswith("every source polled") for p in health["problems"])


def live_run(cfg: Path) -> subprocess.Popen[str]:
    """A live `watchfloor run` of `cfg` polling every 0.2 s, its stdout and stderr read together, line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(cfg), "--interval", "0.2"],
        env=command_env(PYTHONUNBUFFERED="1", WATCHFLOOR_NATIVE="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_live_run_goes_on_and_says_each_failure_once_a_cycle(tmp_path: Path) -> None:
    cfg = config(tmp_path, [good(), typo(tmp_path), feed()])
    proc = live_run(cfg)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(unstamped(line)[0] + "\n")  # (a live run's lines start with their time)
            if sum(1 for x in lines if x.startswith("polled ")) >= 3:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    lines += [x + "\n" for x in unstamped(rest)]
    text = "".join(lines)
    cycles = [x for x in lines if x.startswith("polled ")]
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    # The JSONL sources are polled every cycle; the feed when its own interval has passed (the first cycle).
    assert sum(1 for x in lines if "typo.jsonl failed" in x) == len(cycles)
    assert sum(1 for x in lines if f"{DEAD_FEED} failed" in x) == 1
    assert cycles[0].startswith("polled 3 sources (2 failed)") and cycles[1].startswith("polled 2 sources (1 failed)")


def test_a_source_taken_out_of_the_config_no_longer_counts(failed_twice: Path, tmp_path: Path) -> None:
    config(tmp_path, [good()])  # the mistyped source removed
    assert runner.invoke(app, ["run", "--once", "--config", str(failed_twice)]).exit_code == 0
    clock = [datetime.now(UTC) + timedelta(minutes=31)]
    with serve(failed_twice, clock) as (url, _):
        status, body = get(url + "/healthz")
        assert status == 200 and json.loads(body)["sources_failing"] == {}, body
        m = samples(get(url + "/metrics")[1])
        assert ("watchfloor_source_poll_failures_total", (("source", str(tmp_path / "typo.jsonl")),)) not in m


def test_the_status_page_shows_the_failing_sources_and_why_healthz_degrades(failed_twice: Path, tmp_path: Path) -> None:
    bad, ok = str(tmp_path / "typo.jsonl"), str(SAMPLES)
    clock = [datetime.now(UTC)]
    with serve(failed_twice, clock) as (url, _):
        status, html = get(url + "/")
        assert status == 200
        sources = html.split('id="sources"')[1].split("</section>")[0]
        assert "Sources (2," in sources and "1 failing" in sources
        assert "2 polled, 1 failed" in sources  # the last poll
        rows = {r.split('data-source="')[1].split('"')[0]: r for r in sources.split("<tr class=")[1:]}
        assert rows[bad].startswith('"source failing"') and rows[ok].startswith('"source"')
        assert "JSON Lines file not found" in rows[bad] and "JSON Lines file not found" not in rows[ok]
        assert "<td>2</td>" in rows[bad] and "never" in rows[bad]  # failed polls, no good poll yet
        assert "<td>0</td>" in rows[ok] and "s ago" in rows[ok]
        assert list(rows) == [bad, ok]  # failing first
        health = html.split('id="health"')[1].split("</section>")[0]
        assert "Health: ok" in health
        clock[0] += timedelta(minutes=31)  # past health.source_failing: /healthz degrades, and the page says why
        status, html = get(url + "/")
        health = html.split('id="health"')[1].split("</section>")[0]
        assert status == 200 and "Health: degraded" in health and "/healthz answers 503" in health
        assert f"source {bad}: failing for" in health and "not found" in health


def test_produce_records_the_sources_health_where_serve_reads_it(tmp_path: Path) -> None:
    """Compose ran `serve` on the shared store and `produce` on its own outbox, so the status page, /healthz and
    /metrics never saw a producer's failing source. `--health-store` (WATCHFLOOR_HEALTH_STORE) records it there
    too; a store that cannot be opened is said once and the pass goes on."""
    pytest.importorskip("kafka")
    cfg = config(tmp_path, [good(), typo(tmp_path)])  # its store (wf.db) is what `serve` reads
    args = ["--broker", "127.0.0.1:1", "--prefix", "health", "--store", f"sqlite:///{tmp_path / 'outbox.db'}", "--once"]
    res = runner.invoke(
        app,
        ["produce", "--config", str(cfg), *args],
        env={"WATCHFLOOR_HEALTH_STORE": f"sqlite:///{tmp_path / 'wf.db'}"},
    )
    assert res.exit_code == 4, res.output
    with serve(cfg, [datetime.now(UTC)]) as (url, _):
        _, body = get(url + "/healthz")
        assert list(json.loads(body)["sources_failing"]) == [str(tmp_path / "typo.jsonl")], body
        _, page = get(url + "/")
        assert "typo.jsonl" in page
    bad = ["produce", "--config", str(cfg), *args, "--health-store", "postgresql+psycopg://nobody@127.0.0.1:1/none"]
    res = runner.invoke(app, bad)
    assert res.exit_code == 4, res.output  # the source's failure, as before: the health store changes nothing
    said = " ".join(res.output.split())
    assert said.count("cannot record the sources' health there") == 1, res.output


def test_a_feed_key_or_password_in_its_url_is_shown_nowhere(tmp_path: Path) -> None:
    """Security review (finding 4): a feed API's key in the configured URL (`?api_key=`, a password in the
    userinfo) was printed in every "source … failed" line and served, unauthenticated, by /healthz, /metrics and
    the status page. They show the URL with *** in its place; the poll still uses the URL as configured."""
    keyed = "http://reader:Pa55word@127.0.0.1:1/feed.xml?api_key=K3YSECRET&lang=en"
    shown = "http://reader:***@127.0.0.1:1/feed.xml?api_key=***&lang=en"
    cfg = config(tmp_path, [good(), f'{{kind: rss, url: "{keyed}"}}'])
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 4, res.output
    assert f"source {shown} failed" in res.output
    with serve(cfg, [datetime.now(UTC) + timedelta(minutes=31)]) as (url, _):
        pages = {path: get(url + path) for path in ("/healthz", "/metrics", "/")}
    assert shown in json.loads(pages["/healthz"][1])["sources_failing"]
    assert ("watchfloor_source_poll_failures_total", (("source", shown),)) in samples(pages["/metrics"][1])
    assert 'data-source="http://reader:***@' in pages["/"][1]
    for text in (res.output, *(body for _status, body in pages.values())):
        assert "K3YSECRET" not in text and "Pa55word" not in text


def test_an_optional_inbox_not_there_yet_is_no_failing_source(tmp_path: Path) -> None:
    """Trial 45, MED-4: compose's producer polls ./inbox/articles.jsonl, which the repository does not ship (the
    user's own articles); each poll failed with "JSON Lines file not found", recorded in the shared store, so after
    health.source_failing (30 min) `web`'s /healthz answered 503 and its healthcheck made it unhealthy. The deploy
    config marks that source `optional: true`: absent, it reads nothing and says so, and fails nothing; once the file
    is there it is read. A non-optional file that is missing, or an optional path that is no file, still fails."""
    pytest.importorskip("kafka")
    inbox = tmp_path / "inbox" / "articles.jsonl"
    optional = f"{{kind: jsonl, path: {inbox}, optional: true}}"
    cfg = config(tmp_path, [optional, good()])  # its store (wf.db): the shared one `serve` reads
    args = ["--broker", "127.0.0.1:1", "--prefix", "inbox", "--store", f"sqlite:///{tmp_path / 'outbox.db'}", "--once"]
    env = {"WATCHFLOOR_HEALTH_STORE": f"sqlite:///{tmp_path / 'wf.db'}"}
    res = runner.invoke(app, ["produce", "--config", str(cfg), *args], env=env)
    said = " ".join(res.output.split())
    assert res.exit_code == 3, res.output  # (the documents wait in the spool for the broker: no source failed)
    assert f"source {inbox}: not there yet (optional: nothing to read; read once the file exists)" in said
    assert "failed" not in said.replace("0 failed", "")
    clock = [datetime.now(UTC)]
    with serve(cfg, clock) as (url, _):
        clock[0] += timedelta(minutes=31)  # past health.source_failing
        status, body = get(url + "/healthz")
        assert status == 200 and json.loads(body)["sources_failing"] == {}, body
    inbox.parent.mkdir()
    inbox.write_text(SAMPLES.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0 and "not there yet" not in res.output, res.output
    assert "polled 2 sources: 12 new documents, 1 already seen" in " ".join(res.output.split()), res.output
    inbox.unlink()
    inbox.mkdir()  # a path that is there and no file: a failure, optional or not
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 4 and "JSON Lines source is not a file" in res.output, res.output


def test_produce_copies_its_dead_letters_where_dead_letters_and_metrics_read(tmp_path: Path) -> None:
    """Trial 45, MED-3: in the compose layout the producer keeps its own outbox, so its refusals (an unknown field,
    an impossible date, a line that is no JSON) never reached the shared store: `watchfloor dead-letters` and
    `watchfloor_dead_letters_total` there never showed them. With --health-store (WATCHFLOOR_HEALTH_STORE, set in
    docker-compose.yml) the producer copies them there, each once, and a pass whose health store was away copies
    them at the next."""
    pytest.importorskip("kafka")
    inbox = tmp_path / "articles.jsonl"
    good_line = SAMPLES.read_text(encoding="utf-8").splitlines()[0]
    bad = [
        '{"type": "news.article", "id": "t-author", "published_at": "2024-11-01T10:00:00+00:00", "source": "W", '
        '"author": "someone", "title": "Bad record with author field", "body": "x"}',
        '{"type": "news.article", "id": "t-date", "published_at": "2024-02-30T12:00:00+03:00", "source": "W", '
        '"title": "Bad date", "body": "x"}',
        "not json at all",
    ]
    inbox.write_text("\n".join([good_line, *bad]) + "\n", encoding="utf-8")
    cfg = config(tmp_path, [f"{{kind: jsonl, path: {inbox}}}"])
    shared = f"sqlite:///{tmp_path / 'wf.db'}"
    args = ["--broker", "127.0.0.1:1", "--prefix", "dl", "--store", f"sqlite:///{tmp_path / 'outbox.db'}", "--once"]
    away = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    res = runner.invoke(app, ["produce", "--config", str(cfg), *args, "--health-store", away])
    assert "3 dead letters" in " ".join(res.output.split()), res.output

    def listed() -> list[dict[str, object]]:
        res = runner.invoke(app, ["dead-letters", "--store", shared, "--json"], env={"WATCHFLOOR_KAFKA": ""})
        assert res.exit_code == 0, res.output
        return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]

    res = runner.invoke(app, ["produce", "--config", str(cfg), *args], env={"WATCHFLOOR_HEALTH_STORE": shared})
    assert res.exit_code == 3, res.output  # (spooled for the broker; no source failed)
    got = listed()
    assert len(got) == 3 and {d["stage"] for d in got} == {"ingest"}, got
    assert {d["line"] for d in got} == {2, 3, 4}
    res = runner.invoke(app, ["produce", "--config", str(cfg), *args], env={"WATCHFLOOR_HEALTH_STORE": shared})
    assert len(listed()) == 3  # each once
    with serve(cfg, [datetime.now(UTC)]) as (url, _):
        _, body = get(url + "/metrics")
        counted = sum(v for (name, _), v in samples(body).items() if name == "watchfloor_dead_letters_total")
        assert counted == 3, body


def test_a_live_run_says_when_a_failing_source_reads_again(tmp_path: Path) -> None:
    """Trial 59 (LOW-3): once a failing source recovered, its failure lines just stopped; nothing said it read again."""
    cfg = config(tmp_path, [good(), typo(tmp_path)])
    proc = live_run(cfg)
    lines: list[str] = []
    # Quiet cycles print nothing: without the line this waits for, the loop would block until the run ends.
    watchdog = threading.Timer(60, proc.send_signal, (signal.SIGTERM,))
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(unstamped(line)[0] + "\n")
            if "typo.jsonl failed" in line and not (tmp_path / "typo.jsonl").exists():
                (tmp_path / "typo.jsonl").write_text("", encoding="utf-8")  # the mistyped file made: it reads now
            if "read again" in line or len(lines) > 200:
                break
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    lines += [x + "\n" for x in unstamped(rest)]
    text = "".join(lines)
    assert proc.returncode == 0, text
    again = [x for x in lines if "read again" in x]
    assert len(again) == 1 and f"source {tmp_path / 'typo.jsonl'} read again after failing for" in again[0], text
    # Said once: the cycles after it say nothing more of that source.
    assert not any("typo.jsonl" in x for x in lines[lines.index(again[0]) + 1 :]), text
