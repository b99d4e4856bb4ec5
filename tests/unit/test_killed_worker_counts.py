"""A worker of this host killed without a goodbye stays a member of its group until its session times out: `status`
names it, and its counts and the status page agree (outside trial 78, F4: `workers_running: 2` beside it listed in
`members_not_running`, the page listing it as any member)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from watchfloor.cli.status import group_title, members_not_running, workers_running
from watchfloor.web.broker import KafkaView
from watchfloor.web.status import _kafka

LIVE = "t78-worker-vm-2076-rules-5ee9db9e6365-v0.1.0@127.0.0.1"
KILLED = "t78-worker-vm-2077-rules-5ee9db9e6365-v0.1.0@127.0.0.1"
NOW = datetime(2026, 12, 7, 17, 26, tzinfo=UTC)


def killed(group: str, member: str) -> int | None:  # as rules_guard.member_gone says of a pid not running
    return 2077 if member == KILLED else None


def workers() -> SimpleNamespace:
    return SimpleNamespace(
        group="t78-worker",
        role="workers",
        state="Stable",
        members=[LIVE, KILLED],
        lag=0,
        topics=[],
        started=True,
        rules=["5ee9db9e6365-v0.1.0"],
    )


def test_a_killed_member_is_not_counted_as_running() -> None:
    st = SimpleNamespace(groups=[workers()])
    assert workers_running(st, gone=killed) == 1
    assert workers_running(st, gone=lambda g, m: None) == 2


def test_the_members_not_running_are_named_per_group() -> None:
    st = SimpleNamespace(groups=[workers(), SimpleNamespace(group="t78-notify", members=[LIVE])])
    assert members_not_running(st, gone=killed) == {"t78-worker": [KILLED]}
    assert members_not_running(st, gone=lambda g, m: None) == {}


def test_the_group_heading_says_how_many_may_have_stopped() -> None:
    assert (
        group_title(workers(), gone=killed)
        == "workers: group t78-worker · Stable · 2 members (1 may have stopped, below)"
    )
    assert group_title(workers(), gone=lambda g, m: None) == "workers: group t78-worker · Stable · 2 members"


def test_the_status_page_marks_the_killed_member() -> None:
    st = SimpleNamespace(watermark=None, caught_up=True, missing=[], groups=[workers()])
    view = KafkaView("127.0.0.1:19320", "t78", status=st, asked_at=NOW)  # type: ignore[arg-type]
    (group,) = _kafka(view, NOW, gone=killed)["groups"]
    assert group["members"] == [LIVE, KILLED] and group["stopped"] == {KILLED: 2077}, group


def test_the_status_page_of_serve_marks_a_member_of_this_host_whose_process_is_gone() -> None:
    """Rendered by `serve`'s own page, with a member whose pid (of a process this test ran, ended) is not running."""
    import socket
    import subprocess
    import sys

    from watchfloor.alerts.control import ControlLog
    from watchfloor.alerts.slackapp.commands import AppContext
    from watchfloor.stream_processors.kafka.status import GroupStatus, PipelineStatus
    from watchfloor.stream_processors.stores.memory import MemoryStore
    from watchfloor.web.broker import KafkaProbe
    from watchfloor.web.server import Services, create_app

    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    host = socket.gethostname()
    dead = f"t78-worker-{host}-{done.pid}-rules-5ee9db9e6365-v0.1.0@127.0.0.1"
    group = GroupStatus("t78-worker", "workers", "Stable", members=[dead], started=True)
    st = PipelineStatus("127.0.0.1:9", "t78", topics={}, missing=[], groups=[group])
    store = MemoryStore()
    control = ControlLog(store)
    probe = KafkaProbe(lambda: st, bootstrap="127.0.0.1:9", prefix="t78", wait_s=5.0)
    services = Services(
        store=store, control=control, context=AppContext(control=control, rules={}), slack_app=None, kafka=probe
    )
    page = create_app(services).test_client().get("/").get_data(as_text=True)
    row = page.split('data-group="t78-worker"')[1].split("</tr>")[0]
    assert f"may have stopped: pid {done.pid} on this host is not running" in row, row
