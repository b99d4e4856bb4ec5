"""Shared pieces of the delivery tests: detections, a clock the test moves, a dispatcher over real notifiers,
and a local webhook receiver (a real HTTP server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fixtures.http_server import QuietHandler, serving
from tests.fixtures.slack_server import FakeSlack
from tests.fixtures.trickle import Trickle  # noqa: F401  (re-exported: the fault tests take it from here)
from watchfloor.alerts.dispatcher import AlertDispatcher
from watchfloor.alerts.notice import AlertCatalog, Notice
from watchfloor.alerts.notifiers.base import Notifier
from watchfloor.alerts.notifiers.file import FileNotifier
from watchfloor.alerts.notifiers.slack import SlackNotifier
from watchfloor.schemas.config import RetryPolicy, Subscription
from watchfloor.schemas.events import Delivery, Detection, Event, Evidence, detection_event
from watchfloor.stream_processors.ports import DeliveryRecord, Store

T0 = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)
NOW = datetime(2024, 11, 4, 12, 0, tzinfo=UTC)
SUBS = [
    Subscription(channel="slack-ops", tags=["dprk"], min_severity="high"),
    Subscription(channel="archive"),
]
RETRY = RetryPolicy(
    backoff=timedelta(seconds=2),
    max_backoff=timedelta(seconds=60),
    max_age=timedelta(hours=24),
    max_retry_after=timedelta(minutes=5),
    lease=timedelta(seconds=30),
)


class Clock:
    """The dispatcher's clock, moved by the test (nothing in the dispatcher sleeps)."""

    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def detection(
    n: int,
    *,
    severity: str = "high",
    rule: str = "shells-shipped",
    group: dict[str, str] | None = None,
    confidence: str = "confirmed",
    minutes: int | None = None,
    sources: tuple[str, ...] = ("Coastal Observer",),
    url: str | None = None,
    **extra: Any,
) -> Detection:
    return Detection(
        id=f"det{n:04d}",
        rule=rule,
        title=f"Rail cars said to carry artillery shells westward (#{n})",
        severity=severity,  # type: ignore[arg-type]
        tags=("dprk", "russia"),
        group=group if group is not None else {"route": "RAJIN"},
        fired_at=T0 + timedelta(minutes=n if minutes is None else minutes),
        confidence=confidence,  # type: ignore[arg-type]
        attributes={"place": ["RAJIN"]},
        description="Shipments of munitions by rail toward the front.",
        evidence=tuple(
            Evidence(
                event_id=f"story-{n}-{i}",
                signal="munitions_moved",
                source=src,
                url=url or f"https://observer.example.net/{n}/{i}",
                published_at=T0,
                sentence="Satellite images appear to show containers stacked at the port.",
                modality="hedged",
            )
            for i, src in enumerate(sources)
        ),
        **extra,
    )


def feed(store: Store, *dets: Detection) -> None:
    noise = Event(id="doc-x", type="news.article", time=T0, payload={"title": "unrelated"})
    store.append([noise, *(detection_event(d) for d in dets)])


def slack(
    server: FakeSlack, *, channel: str = "#dprk-russia", timeout: float = 5, name: str = "slack-ops"
) -> SlackNotifier:
    return SlackNotifier(name, channel, server.token, base_url=server.base_url, timeout=timeout)


def make(
    store: Store,
    server: FakeSlack,
    archive: Path,
    clock: Clock,
    *,
    extra: dict[str, Notifier] | None = None,
    subs: list[Subscription] | None = None,
    slack_notifier: SlackNotifier | None = None,
    catalog: AlertCatalog | None = None,
    retry: RetryPolicy = RETRY,
    owner: str | None = None,
) -> AlertDispatcher:
    notifiers: dict[str, Notifier] = {
        "slack-ops": slack_notifier or slack(server),
        "archive": FileNotifier("archive", archive),
        **(extra or {}),
    }
    return AlertDispatcher(store, notifiers, subs or SUBS, retry, now=clock, catalog=catalog, owner=owner)


def deliveries(store: Store) -> list[Delivery]:
    return [Delivery.model_validate(se.event.payload) for se in store.read(0, types={"delivery"}, limit=100_000)]


def ledger(store: Store) -> dict[tuple[str, str], DeliveryRecord]:
    return {(r.alert_id, r.channel): r for r in store.deliveries()}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Recorder:
    """A notifier that fails as told (exceptions, in order), then records what it was sent."""

    def __init__(self, name: str, *errors: Exception) -> None:
        self.name = name
        self.errors = list(errors)
        self.sent: list[Notice] = []

    def send(self, notice: Notice) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(notice)
        return f"ok-{len(self.sent)}"

    @property
    def keys(self) -> list[str]:
        return [n.key for n in self.sent]


@dataclass
class Hook:
    """A webhook receiver: answers with `statuses` in turn (then 200) and keeps what it was sent."""

    statuses: list[int] = field(default_factory=list)
    headers: dict[int, dict[str, str]] = field(default_factory=dict)
    received: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)  # (method, headers, body)
    url: str = ""


def webhook_server() -> Iterator[Hook]:
    hook = Hook()

    class Handler(QuietHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status = hook.statuses.pop(0) if hook.statuses else 200
            body = json.loads(raw) if raw else None
            if 200 <= status < 300 or self.command == "GET":
                hook.received.append((self.command, dict(self.headers.items()), body))
            self.send_response(status)
            for k, v in hook.headers.get(status, {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = _answer
        do_GET = _answer

    with serving(Handler) as base:
        hook.url = f"{base}/hooks/s3cr3t-path"
        yield hook
