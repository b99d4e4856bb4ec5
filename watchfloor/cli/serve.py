"""The `watchfloor serve` command: the Slack app, /healthz, /metrics and the status page, over one store."""

from __future__ import annotations

import ipaddress
import logging
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from ._common import (
    ConfigOpt,
    app,
    app_config,
    counted,
    err,
    fail,
    log_times,
    redact_url,
    stop_on_sigterm,
    stopped_line,
)


def parse_listen(text: str) -> tuple[str, int]:
    """`[HOST:]PORT` -> (host, port); the host defaults to 127.0.0.1 (not every interface)."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if sep else "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: write [HOST:]PORT, e.g. 8080 or 0.0.0.0:8080") from None
    if not 0 <= number <= 65535:
        raise typer.BadParameter(f"{text!r}: port out of range")
    return host or "127.0.0.1", number


PUBLIC_HELP = (
    "Serve the status page and /metrics without a token on a non-loopback address, on purpose (a private network, "
    "a proxy that checks who calls). Without it, such a listener needs serve.admin_token_env."
)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (127.0.0.0/8, ::1, localhost); 0.0.0.0, :: and names are not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def open_listener_refusal(host: str, port: int, flag: str) -> str:
    """Why a listener on `host` without a token is refused (outside trial 16, M3: the page named the store, the feed
    URLs and their errors, alert titles, subscriptions and silences to whoever reached the port)."""
    return (
        f"refusing to serve the status page and /metrics on {host}:{port} without a token: that address is reachable "
        "from other machines, and the page shows alert titles, subscriptions, silences, source URLs and errors. Set "
        "`serve: {admin_token_env: WATCHFLOOR_ADMIN_TOKEN}` in the config and a token in that variable (/ and "
        f"/metrics then need `Authorization: Bearer` it; /healthz stays open with its verdict only), listen on "
        f"127.0.0.1 behind a proxy, or pass {flag} to serve them open on purpose"
    )


def start_server(
    cfg: Any,
    store: Any,
    control: Any,
    rules: Any,
    host: str,
    port: int,
    *,
    pipeline_max_age: float | None = None,
    kafka: Any = None,
    store_watch: Any = None,
    public: bool = False,
    public_flag: str = "--public",
) -> Any:
    """Build the services and start the HTTP server on a thread of its own; returns the running WebServer.
    `kafka`: the pipeline whose broker /metrics and the status page report on (default: the config's `kafka:`
    section, when it has one)."""
    from watchfloor.web.build import build_services
    from watchfloor.web.server import WebServer, create_app

    try:
        services = build_services(
            cfg,
            store,
            control,
            rules,
            store_label=redact_url(cfg.store),
            pipeline_max_age=pipeline_max_age,
            kafka=kafka,
            store_watch=store_watch,
        )
    except ValueError as e:  # serve.admin_token_env names a variable that is not set
        raise fail(str(e)) from None
    open_to_others = services.admin_token is None and not is_loopback(host)
    if open_to_others and not public:
        raise fail(open_listener_refusal(host, port, public_flag))
    try:
        server = WebServer(create_app(services), host, port)
    except OSError as e:
        raise fail(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    server.services = services
    server.start()
    slack = (
        "Slack app at POST /slack/events" + (f" ({services.slack_note})" if services.slack_note else "")
        if services.slack_app is not None
        else f"Slack app off: {services.slack_problem}"
    )
    broker = "" if services.kafka is None else f" · Kafka {services.kafka.bootstrap} ({services.kafka.prefix})"
    pages = "/healthz /metrics /" if services.admin_token is None else "/healthz /metrics / (admin token required)"
    err.print(f"serving {server.url} · {slack}{broker} · {pages}", highlight=False)
    if open_to_others:
        err.print(
            f"[bold red]warning[/bold red]: {public_flag}: the status page, /metrics and the full /healthz are open "
            f"to anyone who reaches {host}:{port} (alert titles, subscriptions, silences, source URLs and errors)",
            highlight=False,
        )
    return server


RULES_LOOK_EVERY = 5.0  # seconds between serve's looks at its config and rule files (a stat each: cheap)


class ServedRules:
    """`serve`'s rules kept as the files say: the config file (its `rules:`) and the rule files looked at every
    RULES_LOOK_EVERY seconds, and the Slack app's catalogue replaced when they changed (outside trial 29, F4). An edit
    that does not load leaves the rules as they were, said once per edit; the files it names are watched from then
    on, so fixing them is the next change (review 25, M2)."""

    def __init__(self, config: Any, specs: list[str], services: Any) -> None:
        from ..rule_watch import RuleFilesWatch

        self.config = config  # the --config path, or None for the bundled one (which changes only with a release)
        self.specs = list(specs)
        self.services = services
        self.files = RuleFilesWatch(self.specs)
        self.config_stamp = self._config_stamp()
        self.next_look = 0.0

    def _config_stamp(self) -> tuple[int, int] | None:
        if self.config is None:
            return None
        try:
            st = self.config.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def look(self, now: float) -> str | None:
        """What changed and what serve now offers, or why it could not; None when nothing changed (or not yet time).
        Never raises: a look that fails is said, and serve goes on with the rules it has (review 25, L1)."""
        if now < self.next_look:
            return None
        self.next_look = now + RULES_LOOK_EVERY
        try:
            return self._look()
        except Exception as e:  # (a config replaced by a directory, a file unreadable: serve must not stop)
            return f"serve: could not look at the rules' files; the Slack app keeps its rules: {e}"

    def _look(self) -> str | None:
        from ..rule_watch import RuleFilesWatch

        changed: list[str] = [str(path) for path, _what in self.files.edited_paths()]
        stamp = self._config_stamp()
        if stamp != self.config_stamp:
            self.config_stamp = stamp
            from watchfloor.config import ConfigError, load_config

            try:
                specs = list(load_config(self.config).rules)
            except ConfigError as e:
                return f"serve: the config changed and does not load; the Slack app keeps its rules: {e}"
            if specs != self.specs:
                # watched from now on, whether they load or not: a file fixed later is the next change
                self.specs, self.files = specs, RuleFilesWatch(specs)
                changed.append(f"{self.config}: its rules:")
        if not changed:
            return None
        from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules
        from watchfloor.web.build import offer_rules

        what = ", ".join(str(c) for c in changed)
        try:
            _, rules = load_rules(self.specs)
        except (RuleLoadError, ValueError) as e:
            return f"serve: rules changed ({what}) and do not load; the Slack app keeps its rules: {e}"
        added, gone = offer_rules(self.services.context, rules)
        news = "".join(
            [f"; new: {', '.join(added)}" if added else "", f"; no longer: {', '.join(gone)}" if gone else ""]
        )
        return (
            f"serve: rules changed ({what}): the Slack app now offers "
            f"{counted(len(self.services.context.rules), 'rule')}{news} (a `run` or the workers read theirs when "
            "started again)"
        )


def record_lapsed_silences(control: Any, store_watch: Any = None) -> None:
    """`silence.expired` for silences whose end has passed, so the log says when each ended even while no
    pipeline runs; a store that is down now is tried again next time (the status page says it is down). With
    `store_watch` (the web server's Availability of the store) an outage is said once, with the pages', not once
    a second (outside trial 14, H1)."""
    from watchfloor.stream_processors.stores.errors import StoreError, store_problem, store_state

    try:
        control.expire_lapsed()
    except StoreError as e:
        if store_watch is None:
            raise
        store_watch.down(store_problem(e), lasting=True, word=store_state(e))
    except Exception as e:
        logging.getLogger(__name__).warning("could not record lapsed silences: %s", store_problem(e))
    else:
        if store_watch is not None:
            store_watch.up()


def serve_presence(store: Any) -> Any:
    """A `serve`'s presence record (web.activity.PresenceRecorder), under an owner id of its own."""
    from watchfloor.alerts.dispatcher import dispatcher_id
    from watchfloor.stream_processors.fingerprint import release
    from watchfloor.web.activity import PRESENCE_EVERY, PresenceRecorder

    return PresenceRecorder(store, dispatcher_id(), command="serve", release=release(), interval=PRESENCE_EVERY)


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="Kafka bootstrap servers of the distributed pipeline to report on: its consumer groups' lag and "
            "watermark in /metrics and on the status page (default: config kafka.bootstrap, when the config has "
            "a kafka: section).",
            envvar="WATCHFLOOR_KAFKA",
        ),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Topic prefix of that pipeline (default: config kafka.prefix).")
    ] = None,
    public: Annotated[bool, typer.Option("--public", help=PUBLIC_HELP)] = False,
) -> None:
    """Serve the Slack app (POST /slack/events), /healthz, /metrics and a status page (GET /) for the store.

    Runs beside a `watchfloor run` (or `notify`) on the same store: subscriptions and silences made here reach
    its dispatcher on its next cycle. With a broker (--broker, $WATCHFLOOR_KAFKA or the config's kafka:
    section), /metrics and the page also report the distributed pipeline's consumer groups and watermark."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules
    from watchfloor.wiring import open_store  # the one store opener

    from ..wiring import open_control

    cfg = app_config(config)
    kafka = None
    # The config's kafka: section counts too: its security (SASL, TLS) is installed for the status look's clients.
    if broker is not None or prefix is not None or "kafka" in cfg.model_fields_set:
        from .distributed import settings_for

        kafka = settings_for(cfg, bootstrap=broker, prefix=prefix)
    if cfg.store.startswith("sqlite:///"):
        from pathlib import Path

        Path(cfg.store[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    try:
        _, rules = load_rules(cfg.rules)
        store = open_store(cfg.store)
    except (RuleLoadError, ValueError) as e:
        raise fail(str(e)) from None
    from watchfloor.stream_processors.kafka.clients import client_logs_kept_out
    from watchfloor.web.health import store_availability

    stop = stop_on_sigterm()
    server = None
    presence = None
    watch = store_availability()  # one for the pages and the silences: an outage is one line
    stamps = ExitStack()  # its lines with their time (log_times)
    stamps.enter_context(log_times())
    # kafka-python's lines about a broker that is away: the pipeline's status look says it once itself (trial 55, M1)
    stamps.enter_context(client_logs_kept_out())
    with stamps:  # the closing lines too (the stopped line said last is stamped)
        try:
            control = open_control(store, cfg)
            server = start_server(cfg, store, control, rules, host, port, kafka=kafka, store_watch=watch, public=public)
            served = ServedRules(config, list(cfg.rules), server.services)
            # its presence record, so that `status` lists it with its release (outside trial 78, F6)
            presence = serve_presence(store)
            presence.seen(datetime.now(UTC))
            while not stop.wait(1.0):
                presence.seen(datetime.now(UTC))
                record_lapsed_silences(control, watch)
                said = served.look(time.monotonic())
                if said is not None:
                    err.print(escape(said), highlight=False)
            stopped_by = stop.signal
        except KeyboardInterrupt:
            stopped_by = "Ctrl-C"
        finally:
            if presence is not None:
                presence.stop()
            if server is not None:
                server.stop()
            store.close()
        if stopped_by is not None:
            err.print(stopped_line("serve", stopped_by), highlight=False)
