"""Benchmark: detection -> message accepted by Slack, in live embedded mode (`watchfloor run --serve`).

Not a timed test. A local Slack-compatible server (tests/fixtures/slack_server.FakeSlack, the real slack-sdk
talks to it) records when it accepts each message. The pipeline runs as `watchfloor run --serve` in a
subprocess over a SQLite store; a channel is subscribed through the Slack app itself (a signed
`/watchfloor subscribe` to /slack/events), so routing is the projection of what was typed.

This process is the producer: it ingests generated documents into the store at a steady rate (the path
`watchfloor ingest` takes), every k-th one reporting a harbour closed at a place never named before, which the
benchmark's rule turns into one new detection. A read-only SQLite connection polls the store every few ms to
see each detection appear. Per detection:

  detection -> accepted   the detection first seen in the store -> the Slack server accepted its message
  ingest -> accepted      just before the document's ingest call -> accepted (includes the poll interval)

Baseline, same run, same server, same rate: the raw slack-sdk `chat_postMessage` call (one message per call,
as the pipeline sends), timed around the call. Target: detection -> accepted p99 <= 1 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import REPO, console, machine, progress

from tests.fixtures.slack_server import CannedResponse, FakeSlack, SlackRequests
from watchfloor.producers.publish import ingest
from watchfloor.schemas.inputs import parse_document
from watchfloor.stream_processors.stores.sql import SqlStore

SECRET = "bench-signing-secret-not-a-real-one"
CHANNEL = "C0BENCH001"
SYLLABLES = ["ka", "ro", "mi", "te", "lu", "sa", "no", "vi", "de", "ba", "zo", "pe", "ri", "tu", "ge", "ho"]


def place_names(n: int) -> list[str]:
    """n distinct one-word place names made of syllables ("Karomi", ...): a gazetteer for the benchmark."""
    names = ("".join(p).capitalize() for p in itertools.product(SYLLABLES, repeat=4))
    return list(itertools.islice(names, n))


def rule_pack(places: list[str]) -> str:
    lines = ["version: 1", "name: bench_harbours", "entities:"]
    for i, p in enumerate(places):
        lines.append(f"  P{i:05d}: {{name: {p}, kind: place, aliases: [{p}]}}")
    lines += [
        "signals:",
        "  harbour_closed:",
        "    match: {all: [closed, harbour]}",
        "    capture:",
        "      place: {kind: place}",
        "detections:",
        "  - id: harbour-closed",
        '    title: "Harbour closed at {place}"',
        "    severity: high",
        "    pattern: {any: harbour_closed}",
        "    group_by: [place]",
    ]
    return "\n".join(lines) + "\n"


class TimedSlack(FakeSlack):
    """The local Slack server, noting when it accepted each message (time.monotonic)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: dict[str, float] = {}  # message text -> when

    def _post_message(self, body: dict[str, Any]) -> CannedResponse:
        resp = super()._post_message(body)
        self.accepted[str(body.get("text", ""))] = time.monotonic()
        return resp


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s)) - 1))]


def summary(xs: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in xs]
    return {
        "n": len(ms),
        "p50_ms": pct(ms, 50),
        "p90_ms": pct(ms, 90),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
    }


def doc(i: int, place: str | None) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    if place is None:
        return {
            "type": "news.article",
            "id": f"filler-{i}",
            "published_at": now,
            "source": "Valley Weather Desk",
            "title": f"Mild weather in the valley, bulletin {i}",
            "body": "Temperatures stayed mild and winds were light across the region today.",
        }
    return {
        "type": "news.article",
        "id": f"trigger-{i}",
        "published_at": now,
        "source": "Coastal Observer",
        "title": f"Authorities closed the harbour at {place}",
        "body": f"Port authorities closed the harbour at {place} on Tuesday after a storm warning.",
    }


def metrics_latency(url: str) -> dict[str, float]:
    """The pipeline's own view of the latency: its /metrics histogram (from each detection's raise time, i.e.
    its document's receipt, to the Slack server accepting the message): count, within 1 s, sum in seconds."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
    got = {}
    for fam in text_string_to_metric_families(text):
        if fam.name == "watchfloor_detection_to_delivery_seconds":
            for sample in fam.samples:
                got[(sample.name, sample.labels.get("le"))] = sample.value
    return {
        "count": got.get(("watchfloor_detection_to_delivery_seconds_count", None), 0.0),
        "le_1s": got.get(("watchfloor_detection_to_delivery_seconds_bucket", "1.0"), 0.0),
        "sum_s": got.get(("watchfloor_detection_to_delivery_seconds_sum", None), 0.0),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=0.0, help="documents per second (default: --load x capacity)")
    ap.add_argument("--load", type=float, default=0.5, help="the steady load as a fraction of the measured capacity")
    ap.add_argument("--burst", type=int, default=4000, help="documents in the capacity burst")
    ap.add_argument("--burst-timeout", type=float, default=300.0)
    ap.add_argument("--every", type=int, default=20, help="every k-th document makes a detection")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    ap.add_argument("--interval", type=float, default=0.1, help="the pipeline's poll interval (run --interval)")
    ap.add_argument(
        "--tick", type=float, default=0.05, help="seconds between ingest calls (rate x tick documents each)"
    )
    ap.add_argument("--json", type=Path, help="write every measurement here")
    args = ap.parse_args()
    n_triggers = min(int(5_000 * args.seconds) // args.every, 40_000)  # enough place names for any rate we reach
    names = place_names(n_triggers + 1 + args.burst // args.every + 1)
    places, burst_places = names[: n_triggers + 1], names[n_triggers + 1 :]

    slack = TimedSlack().start()
    tmp = Path(tempfile.mkdtemp(prefix="wf-bench-slack-"))
    db = tmp / "wf.db"
    (tmp / "pack.yaml").write_text(rule_pack(names), encoding="utf-8")
    cfg = tmp / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{db}\nrules: [{tmp / 'pack.yaml'}]\nsources: []\n"
        f"slack: {{token_env: WF_BENCH_BOT, signing_secret_env: WF_BENCH_SECRET, base_url: {slack.base_url}}}\n"
        "channels: [{type: console, name: console}]\nsubscriptions: []\n",
        encoding="utf-8",
    )
    env = {**os.environ, "WF_BENCH_BOT": slack.token, "WF_BENCH_SECRET": SECRET, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "watchfloor", "run", "-c", str(cfg), "--interval", str(args.interval)]
    proc = subprocess.Popen(
        [*cmd, "--serve", "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        url = None
        assert proc.stderr is not None
        for line in proc.stderr:
            m = re.search(r"serving (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            console.print("[red]watchfloor run --serve did not start[/red]")
            return 1
        threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True).start()  # drain
        reply = SlackRequests(f"{url}/slack/events", SECRET, slack).slash_command(
            "subscribe harbour-closed", channel_id=CHANNEL, channel_name="bench"
        )
        console.print(f"subscribed through the Slack app: HTTP {reply.status}: {reply.json()['text']}")

        store = SqlStore(f"sqlite:///{db}")
        # -- capacity: a burst, as fast as the pipeline takes it (first ingest -> last message accepted) --
        before = len(slack.accepted)
        with progress() as prog:
            task = prog.add_task("capacity: a burst of documents", total=args.burst)
            c0 = time.monotonic()
            for start in range(0, args.burst, 500):
                items = []
                for i in range(start, min(start + 500, args.burst)):
                    k = i // args.every
                    place = burst_places[k] if i % args.every == args.every - 1 else None
                    items.append(parse_document({**doc(i, place), "id": f"burst-{i}"}))
                ingest(store, items, "bench-burst")
                prog.advance(task, len(items))
            want = before + args.burst // args.every
            while len(slack.accepted) < want and time.monotonic() - c0 < args.burst_timeout:
                time.sleep(0.01)
            capacity = args.burst / (time.monotonic() - c0)
            console.print(f"burst: {len(slack.accepted) - before} of {want - before} messages accepted")
        rate = args.rate if args.rate else capacity * args.load
        n_docs = int(rate * args.seconds)
        n_triggers = n_docs // args.every
        console.print(f"capacity {capacity:.0f} docs/s; latency load {rate:.0f} docs/s")
        slack.accepted.clear()
        after_burst = metrics_latency(url)

        # -- the pipeline under a steady load --
        watcher = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
        seen: dict[str, float] = {}  # place id -> detection first seen
        stop = threading.Event()

        def watch() -> None:
            last = 0
            while not stop.is_set():
                rows = watcher.execute(
                    "SELECT position, payload FROM events WHERE type = 'detection' AND position > ? ORDER BY position",
                    (last,),
                ).fetchall()
                now = time.monotonic()
                for position, payload in rows:
                    seen.setdefault(json.loads(payload)["group"]["place"], now)
                    last = position
                time.sleep(0.005)

        watcher_thread = threading.Thread(target=watch, daemon=True)
        watcher_thread.start()
        ingested: dict[str, float] = {}  # place id -> just before its document's ingest call
        late_calls = 0
        per_call = max(1, round(rate * args.tick))
        with progress() as prog:
            task = prog.add_task(f"latency: {rate:.0f} docs/s, 1 in {args.every} alerts", total=n_docs)
            t0 = time.monotonic()
            trigger = 0
            for start in range(0, n_docs, per_call):
                due = t0 + start / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -args.tick:
                    late_calls += 1
                items = []
                for i in range(start, min(start + per_call, n_docs)):
                    place = None
                    if i % args.every == args.every - 1:
                        place = places[trigger]
                        ingested[f"P{trigger:05d}"] = time.monotonic()
                        trigger += 1
                    items.append(parse_document(doc(i, place)))
                ingest(store, items, "bench")  # one commit per call, as a poll of a source makes
                prog.advance(task, len(items))
            load_seconds = time.monotonic() - t0
            deadline = time.monotonic() + 30
            while len(slack.accepted) < n_triggers and time.monotonic() < deadline:
                time.sleep(0.05)
        stop.set()
        watcher_thread.join(2)
        detect_to_accept, ingest_to_accept = [], []
        missing = 0
        for i in range(n_triggers):
            pid, name = f"P{i:05d}", places[i]
            accepted = next((t for text, t in slack.accepted.items() if f"Harbour closed at {name} " in text), None)
            if accepted is None or pid not in seen:
                missing += 1
                continue
            detect_to_accept.append(max(accepted - seen[pid], 0.0))
            ingest_to_accept.append(accepted - ingested[pid])
        store.close()
        after_load = metrics_latency(url)
        scraped = {k: after_load[k] - after_burst[k] for k in after_load}  # the steady load's alerts only

        # -- baseline: the raw slack-sdk post, same server, same rate --
        from slack_sdk import WebClient

        client = WebClient(token=slack.token, base_url=slack.base_url)
        raw: list[float] = []
        post_rate = n_triggers / load_seconds
        with progress() as prog:
            task = prog.add_task("baseline: raw slack-sdk chat_postMessage", total=n_triggers)
            t0 = time.monotonic()
            for i in range(n_triggers):
                delay = t0 + i / post_rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                c0 = time.monotonic()
                client.chat_postMessage(channel=CHANNEL, text=f"raw {i}", blocks=[])
                raw.append(time.monotonic() - c0)
                prog.advance(task)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        slack.stop()

    result = {
        "machine": machine(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "capacity_docs_per_s": capacity,
        "load_docs_per_s": rate,
        "documents": n_docs,
        "detections_expected": n_triggers,
        "missing": missing,
        "late_ingest_calls": late_calls,
        "achieved_docs_per_s": n_docs / load_seconds,
        "detection_to_accepted": summary(detect_to_accept),
        "ingest_to_accepted": summary(ingest_to_accept),
        "baseline_raw_post": summary(raw),
        "metrics_detection_to_delivery": scraped,
    }
    d, e, b = result["detection_to_accepted"], result["ingest_to_accepted"], result["baseline_raw_post"]
    console.print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
    console.print(
        f"detection -> accepted p50 {d['p50_ms']:.1f} / p99 {d['p99_ms']:.1f} ms "
        f"(raw post p50 {b['p50_ms']:.1f} / p99 {b['p99_ms']:.1f} ms; ratio p99 {d['p99_ms'] / b['p99_ms']:.1f}x); "
        f"ingest -> accepted p99 {e['p99_ms']:.1f} ms; missing {missing}; target p99 <= 1000 ms: "
        + ("met" if d["p99_ms"] <= 1000 and missing == 0 else "NOT met")
    )
    if scraped["count"]:
        within = sum(1 for x in ingest_to_accept if x <= 1.0) / max(len(ingest_to_accept), 1)
        n = scraped["count"]
        console.print(
            f"/metrics watchfloor_detection_to_delivery_seconds over the steady load: {n:.0f} sent, "
            f"{scraped['le_1s'] / n:.1%} within 1 s, mean {1000 * scraped['sum_s'] / n:.0f} ms "
            f"(measured here, ingest -> accepted: {within:.1%} within 1 s, "
            f"mean {1000 * statistics.fmean(ingest_to_accept or [0]):.0f} ms)"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
