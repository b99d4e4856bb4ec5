"""`watchfloor serve`: the Slack app's request URL, /healthz, /metrics and a status page, on one HTTP server.

Flask routes the requests (Bolt's Flask adapter hands /slack/events to the Slack app) and waitress serves them
on a few threads, in its own process (`serve`) or beside the pipeline (`run --serve`).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from waitress import wasyncore
from waitress.server import create_server

from watchfloor.alerts.control import ControlLog
from watchfloor.alerts.dispatcher import holder_may_live
from watchfloor.alerts.slackapp.commands import AppContext
from watchfloor.stream_processors.kafka.clients import Availability
from watchfloor.stream_processors.ports import Store
from watchfloor.stream_processors.stores.errors import StoreError, store_problem

from .activity import ActivityView
from .broker import KafkaProbe
from .health import health_report, store_availability
from .metrics import IntakeWatch, LogCollector, kafka_metrics, registry_for
from .status import status_page, store_down_page

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
# The largest request body the server reads, for every path (Flask's MAX_CONTENT_LENGTH and waitress's
# max_request_body_size); anything bigger is answered 413 unread. The listener is public (Slack must reach it),
# and waitress's own default is 1 GiB, read before the Slack signature can be checked. Slack's requests are small:
# a slash command is one form line, and the biggest, a click, carries the clicked message, at most 50 blocks of at
# most 3,000 characters each (Slack's Block Kit limits): a few hundred KB even URL-encoded. 1 MiB leaves room.
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Services:
    """What the server answers from."""

    store: Store
    control: ControlLog
    context: AppContext
    slack_app: Any = None  # slack_bolt.App, or None when the `slack:` section or its secrets are missing
    slack_problem: str = ""  # why there is no Slack app
    slack_note: str = ""  # where the app's Web API root comes from, when not the `slack:` section (build.py)
    store_label: str = ""
    # The pipeline runs in this process (`run --serve`): a cycle older than this is unhealthy. None: `serve`.
    pipeline_max_age: float | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # whether the process a presence record names may still run (False: of this host, its pid gone; a test's seam)
    may_live: Callable[[str], bool] = holder_may_live
    # The distributed pipeline's broker, when one is configured: its consumer groups' lag and members and the
    # published watermark, for /metrics and the status page (and /healthz with kafka_behind_after).
    kafka: KafkaProbe | None = None
    # /healthz degrades (503) past these (config `health:`): a source failing this long, the oldest outstanding
    # delivery of a channel this old, a consumer group behind this long (None: never).
    channels: tuple[str, ...] = ()  # the configured channels (their delivery gauges read 0 before any delivery)
    source_failing_after: float = 1800.0
    delivery_outstanding_after: float = 1800.0
    kafka_behind_after: float | None = None
    idle_after: float = 3600.0  # config event_time.idle_after: when a silent source stops holding the watermark
    # config serve.admin_token_env's token: GET / and /metrics need `Authorization: Bearer` it, and /healthz
    # without it says only its verdict (None: all open, as on localhost)
    admin_token: str | None = None
    # Another writer holding the store's write lock (SqlStore.write_locked_for): looked at no more often than
    # `store_probe_every` seconds, whoever asks; held unbroken this long makes /healthz `degraded` (a lock held for a
    # moment by a busy writer is not), past the write timeout (30 s) `down`: the pipeline's writes fail then.
    store_probe_every: float = 1.0
    store_locked_after: float = 2.0
    # whether the store answered the last request that read it: an outage is logged once, not per request
    store_watch: Availability = field(default_factory=store_availability)
    # how long notify's intake has taken nothing in with detections waiting, from every look of this server
    intake_watch: IntakeWatch = field(default_factory=IntakeWatch)


def holder_in(services: Services) -> Any:
    """The source holding the pipeline's published watermark back, from the relay's state in the store served (the
    producer's outbox; None there is none, or the store is another); a store that fails to answer tells nothing."""
    from watchfloor.producers.relay import target_checkpoint, watermark_holder

    if services.kafka is None:
        return None
    try:
        return watermark_holder(
            services.store,
            target_checkpoint("", services.kafka.prefix),
            timedelta(seconds=services.idle_after),
            services.now(),
        )
    except Exception:
        return None


def create_app(services: Services) -> Flask:
    app = Flask(__name__)
    # Flask's own cap, for when the app is served by something other than WebServer (another WSGI server, tests)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    view = ActivityView(services.store, services.store)  # checkpointed: a restart reads only what came since
    # The first start after an upgrade (no checkpoint yet) reads the log whole: in the background, so that a scrape
    # meanwhile answers at once (watchfloor_metrics_warming 1, without the log's counts) rather than after it.
    view.warm_up()
    probe = services.kafka
    collector = LogCollector(
        services.store,
        view,
        services.control,
        now=services.now,
        channels=services.channels,
        store_watch=services.store_watch,
        probe_every=services.store_probe_every,
        locked_after=services.store_locked_after,
        pipeline_max_age=services.pipeline_max_age,
        intake_watch=services.intake_watch,
        kafka_group=None if probe is None else probe.group,
        may_live=services.may_live,
        extra=None if probe is None else lambda: kafka_metrics(probe.view(), services.now(), holder_in(services)),
    )
    registry = registry_for(collector)
    handler = None
    if services.slack_app is not None:
        # not Bolt's Flask adapter: it parses the body before the signature is checked (a forged one got a 500)
        from watchfloor.alerts.slackapp.http import SlackHttpHandler

        handler = SlackHttpHandler(services.slack_app, claim=services.control.claim_slack_request)

    @app.post(SLACK_PATH)
    def slack_events() -> Any:
        if handler is None:
            return jsonify({"error": f"the Slack app is not configured: {services.slack_problem}"}), 503
        return handler.handle(request)

    @app.errorhandler(413)
    def too_large(_: Exception) -> Any:
        return jsonify({"error": f"request body over {MAX_BODY_BYTES} bytes"}), 413

    def admin() -> bool:
        """Whether this request may see the pages: no token configured, or it carries the token."""
        token = services.admin_token
        if token is None:
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    def refused() -> Response:
        resp = jsonify({"error": "this page needs Authorization: Bearer with the admin token (serve.admin_token_env)"})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="watchfloor"'
        return resp

    @app.get("/healthz")
    def healthz() -> Any:
        body, code = health_report(services)
        if not admin():
            # probes need the verdict only; the rest names sources (their URLs), channels and problems
            body = {"status": body["status"]}
        return jsonify(body), code

    @app.get("/metrics")
    def metrics() -> Response:
        if not admin():
            return refused()
        return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)

    @app.get("/")
    def index() -> Any:
        if not admin():
            return refused()
        try:
            page = status_page(services, view.refresh())
        except StoreError as e:
            # The page is mostly the store's content: without it, only the verdict and why, as /healthz says
            # (503 as /healthz, since the page cannot be what it is), not a traceback and Flask's generic 500.
            log.debug("status page: the store could not be read", exc_info=True)
            services.store_watch.down(store_problem(e), lasting=True)
            return render_template("status.html", **store_down_page(services, e)), 503
        return render_template("status.html", **page)

    return app


class WebServer:
    """waitress serving one Flask app; `start()` in a thread of its own, or `serve_forever()`."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 8080, *, threads: int = 8) -> None:
        # waitress refuses a body of max_request_body_size bytes or more (Flask: more than MAX_CONTENT_LENGTH):
        # one byte more makes both take a body of exactly MAX_BODY_BYTES
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="watchfloor",
            max_request_body_size=MAX_BODY_BYTES + 1,
        )
        self._thread: threading.Thread | None = None
        self.services: Services | None = None  # what it answers from, when the caller says (serve's rule refresh)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        host = self._server.effective_host
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        self._server.run()

    def start(self) -> WebServer:
        self._thread = threading.Thread(target=self._server.run, name="watchfloor-web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every socket on the server's own thread (closing them from here races its select())."""
        server: Any = self._server
        thread, self._thread = self._thread, None
        if thread is None or not thread.is_alive():
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)
            return

        closed = threading.Event()

        def close_all() -> None:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)  # an empty map ends the server's loop
            closed.set()

        try:
            server.trigger.pull_trigger(close_all)
        except OSError:
            # pull_trigger queues the thunk, then writes to the trigger's pipe. A loop woken by an earlier pull (a
            # response just sent) can run the thunk in between and close that pipe: the write then fails, and the
            # thunk is finishing (or done) on the server's thread.
            if not closed.wait(timeout=10):
                raise
        thread.join(timeout=10)
