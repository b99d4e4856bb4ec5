"""`status --broker` names the release each worker runs, from the client id it publishes, and says when their
releases differ (outside trial 78, F2: a Kafka desk listed no release anywhere but in a client id's "+digest")."""

from __future__ import annotations

from types import SimpleNamespace

from watchfloor.cli.status import member_lines, worker_releases, worker_releases_note

OLD = "t78-worker-vm-25105-rules-5ee9db9e6365-v0.1.0@127.0.0.1"
NEW = "t78-worker-vm-2077-rules-5ee9db9e6365-v0.1.0+d01d22718d@127.0.0.1"
UNMARKED = "t78-worker-vm-11-rules-7ee880713762@127.0.0.1"  # a worker of before the release mark
ARCHIVE = "t78-archive@127.0.0.1"


def pipeline(*members: str) -> SimpleNamespace:
    workers = SimpleNamespace(group="t78-worker", role="workers", members=list(members))
    archive = SimpleNamespace(group="t78-archive", role="archive", members=[ARCHIVE])
    return SimpleNamespace(groups=[workers, archive])


def test_each_worker_is_listed_with_its_release() -> None:
    releases = worker_releases(pipeline(OLD, NEW, UNMARKED))
    assert releases == {"t78-worker": {OLD: "0.1.0", NEW: "0.1.0+d01d22718d", UNMARKED: None}}
    g = pipeline(NEW).groups[0]
    assert member_lines(g, worker_releases(pipeline(NEW)), gone=lambda group, m: None) == [
        f"  member {NEW} · release 0.1.0+d01d22718d"
    ]


def test_differing_releases_are_a_warning_and_one_release_is_not() -> None:
    said = worker_releases_note(worker_releases(pipeline(OLD, NEW)))
    assert said is not None and said.startswith("the workers' releases differ (0.1.0, 0.1.0+d01d22718d)"), said
    assert worker_releases_note(worker_releases(pipeline(NEW, NEW.replace("2077", "2078")))) is None
    assert worker_releases_note(worker_releases(pipeline())) is None


def test_a_group_of_two_releases_is_mixed_and_a_gone_member_does_not_count() -> None:
    """Outside trial 86, F5/F6: a mixed group is said as docs/kafka.md says it (the verdict is behind), never as an
    upgrade under way; a member of this host whose process is gone runs nothing (no mix, and no worker running)."""
    from watchfloor.cli.status import idle_worker_groups, mixed_groups, mixed_note

    st = pipeline(OLD, NEW)
    st.missing = []
    st.groups[0].lag = 0
    assert mixed_groups(st, gone=lambda g, m: None) == {"t78-worker": ["5ee9db9e6365-v0.1.0", NEW[25:-10]]}
    said = mixed_note(mixed_groups(st, gone=lambda g, m: None)) or ""
    assert said.startswith("group t78-worker is mixed: its workers run 2 rule sets or releases"), said
    assert "every worker of a group must run the same rules on the same release" in said
    killed = {OLD}
    assert mixed_groups(st, gone=lambda g, m: 1 if m in killed else None) == {}
    assert idle_worker_groups(st, gone=lambda g, m: None) == []
    killed = {OLD, NEW}  # every member killed: no worker runs, the note is said
    assert idle_worker_groups(st, gone=lambda g, m: 1 if m in killed else None) == ["t78-worker"]
