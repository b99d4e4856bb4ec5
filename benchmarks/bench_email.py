"""The email notifier's messages per second against a local SMTP server, next to raw smtplib in the same run.

    .venv/bin/python benchmarks/bench_email.py --messages 300 --reps 5 --json /tmp/email.json

A real SMTP server (aiosmtpd, the tests' fixture tests/fixtures/smtp_server.py) runs in this process's thread on
127.0.0.1; it keeps every message, so each variant is also checked to have delivered all of them. Per variant,
--messages alerts, timed --reps times, median:

- raw, one connection: smtplib.SMTP opened once, `send_message` of the very messages the notifier builds (built
  before timing): the floor of the protocol and the server, what a pooled client would cost;
- raw, a connection per message: the same, connecting, EHLO and QUIT for each (what the notifier does);
- notifier: EmailNotifier.send(notice) per alert, building each message (text and HTML parts, headers) and
  sending it on its own connection, as the dispatcher calls it.

Reported: messages per second and each variant's time over the floor. The ratio "notifier / raw per message" is
what building the message costs; "raw per message / raw one connection" is what a connection per message costs
(the notifier does not pool: a delivery is one short session, retried alone).
"""

from __future__ import annotations

import argparse
import json
import smtplib
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from tests.fixtures.smtp_server import LocalSMTP, _start
from watchfloor.alerts.notice import notice_of
from watchfloor.alerts.notifiers.email import EmailNotifier
from watchfloor.schemas.events import Alert, Detection, Evidence


def alert(n: int) -> Alert:
    at = datetime(2024, 10, 23, 8, tzinfo=UTC) + timedelta(minutes=n)
    det = Detection(
        id=f"bench{n:06d}",
        rule="troops-deployed",
        title=f"North Korean troops reported near Kursk (#{n})",
        severity="high",
        group={"place": "KURSK"},
        fired_at=at,
        confidence="confirmed",
        description="Reports that North Korean soldiers were deployed to Russia.",
        evidence=tuple(
            Evidence(
                event_id=f"doc-{n}-{i}",
                signal="troops_deployed",
                source=f"Outlet {i}",
                url=f"https://news{i}.example.org/world/{n}",
                published_at=at,
                sentence="Officials said thousands of North Korean soldiers had arrived in the Kursk region.",
            )
            for i in range(3)
        ),
    )
    return Alert(id=det.id, detection=det, channels=("mail",))


def notifier(port: int) -> EmailNotifier:
    return EmailNotifier(
        "mail",
        to=["desk@example.org", "Risk Desk <risk@example.org>"],
        sender="watchfloor <alerts@example.org>",
        host="127.0.0.1",
        port=port,
        tls="none",
        timeout=30.0,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    server = LocalSMTP()
    controller = _start(server)
    try:
        mail = notifier(server.port)
        notices = [notice_of(alert(n), "mail") for n in range(args.messages)]
        built: list[EmailMessage] = [mail.message(x) for x in notices]  # the notifier's own messages, for the raw runs
        to = ["desk@example.org", "risk@example.org"]

        def raw_pooled() -> None:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as s:
                for m in built:
                    s.send_message(m, "alerts@example.org", to)

        def raw_each() -> None:
            for m in built:
                with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as s:
                    s.send_message(m, "alerts@example.org", to)

        def through_notifier() -> None:
            for x in notices:
                mail.send(x)

        variants = {
            "raw smtplib, one connection (floor)": raw_pooled,
            "raw smtplib, a connection per message": raw_each,
            "EmailNotifier.send": through_notifier,
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        with c.progress() as prog:
            task = prog.add_task("sending", total=args.reps * len(variants))
            for _ in range(args.reps):
                for name, fn in variants.items():  # interleaved: a noisy minute hits every variant alike
                    before = len(server.received)
                    t0 = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - t0)
                    assert len(server.received) - before == args.messages, name  # every message was taken
                    server.received.clear()
                    prog.advance(task)
    finally:
        controller.stop()

    floor = c.median(times["raw smtplib, one connection (floor)"])
    rows: list[dict[str, Any]] = []
    for name, ts in times.items():
        t = c.median(ts)
        rows.append({"variant": name, "seconds": t, "messages_per_s": args.messages / t, "x_floor": t / floor})
    c.console.print(f"{args.messages} messages × {args.reps} reps, median; {c.machine()}")
    for r in rows:
        c.console.print(
            f"  {r['variant']:<38} {r['messages_per_s']:6.0f} msg/s {r['seconds']:6.3f} s {r['x_floor']:4.2f}×"
        )
    if args.json:
        args.json.write_text(json.dumps({"messages": args.messages, "reps": args.reps, "machine": c.machine(),
                                         "rows": rows}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
