"""One rule set per worker group: the rules fingerprint routed signals carry, and the check that finds strangers.

Every worker of a group extracts signals from its share of the documents and routes them to whichever worker
owns the group key's correlate partition. A worker started with other rule packs (an old `--rules`, a pack
edited on one host) routes signals that its peers' correlators read with their own detections: alerts are lost
or differ, and nothing failed. The same holds for a worker of another watchfloor release, whose engine may read
the same packs differently: the fingerprint covers the packs, the lateness and the installed watchfloor version.
So each routed signal carries the fingerprint of the rules that made it (`wf-rules`), and the correlate agent
compares it with its own: a stranger is an error in the log (the first record of each foreign fingerprint at
once, then a count at most every `every_s`).

Before that can happen, a worker refuses to join: its Kafka client id ends in ``-rules-<fingerprint>``, so the
group's members say which rules they run (`watchfloor status --broker` shows it), and a worker whose group
has members with other rules waits for them to leave, then gives up with `RulesMismatch`.

That check at start sees only the members already in the group: two workers started at the same moment into an
empty group both passed it and shared the partitions (outside trial 86, F5). So a running worker looks at its group
again after each assignment and when a record routed under another fingerprint reaches it (`MixedGroupWatch`), and
of the fingerprints it finds the one that sorts last goes on while every other worker stops (`mixed_group_action`):
the same rule on every side, so exactly one rule set keeps running. A worker of a release of before this rule does
not stop on its own: the side that should go on stops itself too if the others are still members after twice the
session timeout, so a mixed group never runs on without a word.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..fingerprint import difference, installed_version, parse_fingerprint, release, rules_fingerprint

log = logging.getLogger(__name__)

RULES_HEADER = "wf-rules"
CLIENT_MARK = "-rules-"  # a worker's client id: "<group>-<host>-<pid>-rules-<fingerprint>"


class RulesMismatch(RuntimeError):
    """Members of the worker group run other rules than this worker (the message says which, and what to do)."""


def client_id(group: str, host: str, pid: int, fingerprint: str) -> str:
    """The Kafka client id of a worker: which worker it is, and which rules it runs."""
    return f"{group}-{host}-{pid}{CLIENT_MARK}{fingerprint}"


def member_rules(member: str) -> str | None:
    """The rules fingerprint in a group member's client id (``client_id@host``); None for a worker older than
    the mark, or a client that is not a worker."""
    cid = member.split("@", 1)[0]
    if CLIENT_MARK not in cid:
        return None
    return cid.rsplit(CLIENT_MARK, 1)[1] or None


def member_release(member: str) -> str | None:
    """The watchfloor release a worker member runs, from its client id (its rules fingerprint's release mark); None
    for a client that is not a worker, or a worker of before the mark."""
    fingerprint = member_rules(member)
    return None if fingerprint is None else parse_fingerprint(fingerprint).version


def member_gone(group: str, member: str) -> int | None:
    """The pid of a worker member (client id `<group>-<host>-<pid>-rules-…`, rules_guard.client_id) of this host
    whose process is not running (killed: SIGKILL, OOM), else None (running, another host's, or cannot be told).
    The broker lists it until its session times out, so `status` said "2 member(s)" with no hint for ~30 s after a
    kill -9 (trial 45, LOW-1). Another container of the same host name has its own pids: its members may be named
    wrongly only if it also shares this host name, which compose's containers do not."""
    import os
    import socket

    cid = member.split("@", 1)[0]
    head = f"{group}-{socket.gethostname()}-"
    if not cid.startswith(head) or CLIENT_MARK not in cid:
        return None
    pid_text = cid[len(head) :].split(CLIENT_MARK, 1)[0]
    if not pid_text.isdigit() or int(pid_text) <= 0:
        return None
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return int(pid_text)
    except OSError:  # alive, another user's
        return None
    return None


def strangers(members: list[str], ours: str) -> list[str]:
    """The members that run rules other than `ours` (members without a mark are not counted)."""
    return [m for m in members if (theirs := member_rules(m)) is not None and theirs != ours]


MIXED_GROUP_EXIT = 5  # the worker's exit status when it stopped rather than run in a group of mixed rules or releases


class MixedGroup(RuntimeError):
    """This worker found, while running, a member of its group with other rules or another release, and stops."""


def describe_member(group: str, member: str) -> str:
    """A worker member as an operator finds it: its host, pid and release (from its client id, `client_id`), and
    the address the broker sees; the member as listed when it is not a worker's."""
    cid, _, address = member.partition("@")
    if CLIENT_MARK not in cid or not cid.startswith(f"{group}-"):
        return member
    head, _, fingerprint = cid[len(group) + 1 :].rpartition(CLIENT_MARK)
    host, _, pid = head.rpartition("-")
    version = parse_fingerprint(fingerprint).version or "a release of before fingerprints named it"
    return f"host {host or '?'} pid {pid or '?'} release {version} (rules {fingerprint}, at {address or '?'})"


@dataclass(frozen=True)
class GroupLook:
    """What a running worker does about its group's members (`mixed_group_action`).

    action: "alone" (every member runs our fingerprint: go on), "give_way" (a member runs one that sorts after ours:
    stop now), "wait" (the others' fingerprints sort before ours: they stop; go on and look again) or "unheeded" (they
    were waited for `allowed_s` and are still members: a release that does not give way; stop too)."""

    action: str
    others: tuple[str, ...] = ()


def mixed_group_action(ours: str, members: list[str], waited_s: float, allowed_s: float) -> GroupLook:
    """The one rule every worker of this release applies to its group: of the rules fingerprints in it the one that
    sorts last goes on, every other stops. Pure: both sides of a mixed group reach opposite answers from the same
    members, so exactly one rule set keeps running. `waited_s`: how long this worker has waited for lower ones."""
    others = strangers(members, ours)
    if not others:
        return GroupLook("alone")
    higher = tuple(m for m in others if (member_rules(m) or "") > ours)
    if higher:
        return GroupLook("give_way", higher)
    return GroupLook("unheeded" if waited_s >= allowed_s else "wait", tuple(others))


def mixed_group_message(group: str, ours: str, look: GroupLook, allowed_s: float) -> str:
    """What a worker says on stderr of its mixed group, naming each other member (host, pid, release)."""
    named = "; ".join(f"{describe_member(group, m)}: {difference(member_rules(m) or '', ours)}" for m in look.others)
    head = (
        f"worker group {group} is mixed: this worker (rules {ours}, watchfloor {parse_fingerprint(ours).version}) "
        f"shares it with {named}. Every worker of a group must run the same rule packs on the same watchfloor "
        "release, or alerts are lost or differ. Of the rule sets in one group the one whose fingerprint sorts last "
        "goes on and the other workers stop"
    )
    if look.action == "give_way":
        return (
            f"{head}: this worker stops (exit {MIXED_GROUP_EXIT}). To run its rules or release, stop every worker "
            "of the group first, then start them all with the same --rules on the same release (or run these rules "
            "under another --prefix)."
        )
    if look.action == "wait":
        return (
            f"{head}: those workers stop, this one goes on; if they are still members in {allowed_s:.0f}s (a "
            "release that does not stop on its own), this worker stops too."
        )
    return (
        f"{head}: those workers are still members after {allowed_s:.0f}s (a release that does not stop on its own), "
        f"so this worker stops too (exit {MIXED_GROUP_EXIT}): stop them, then start every worker on the same rules "
        "and release."
    )


@dataclass
class MixedGroupWatch:
    """Looks at a running worker's group (`members`: its client ids, None while the broker does not describe it)
    after each assignment and on a record routed under another fingerprint (at most every `every_s`), and calls
    `stop` with the message when `mixed_group_action` says this worker must not go on. One look at a time."""

    ours: str
    group: str
    members: Callable[[], Awaitable[list[str] | None]]
    stop: Callable[[str], Awaitable[None]]
    allowed_s: float = 60.0
    poll_s: float = 2.0
    every_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    looking: bool = False
    last: float | None = None
    tasks: set[asyncio.Task[str]] = field(default_factory=set)

    def trigger(self, why: str) -> None:
        """Start a look in the background (`why`: "assignment" always, a record at most every `every_s`)."""
        now = self.clock()
        if self.looking or (why != "assignment" and self.last is not None and now - self.last < self.every_s):
            return
        self.looking = True  # before the task runs: a burst of foreign records starts one look
        task = asyncio.ensure_future(self.look())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def look(self) -> str:
        """Look until the group is one rule set or this worker stopped; the last action taken."""
        self.looking = True
        try:
            return await self._look()
        finally:
            self.looking = False
            self.last = self.clock()

    async def _look(self) -> str:
        started = self.clock()
        waiting_since: float | None = None
        said = False
        while True:
            try:
                listed = await self.members()
            except Exception as e:  # the broker away: the next assignment looks again
                log.warning("rules check of group %s skipped: %s: %s", self.group, type(e).__name__, e)
                return "unknown"
            now = self.clock()
            if listed is None:  # rebalancing: the broker describes a group once it is stable
                if now - started >= self.allowed_s:
                    return "unknown"
                await self.sleep(self.poll_s)
                continue
            waited = 0.0 if waiting_since is None else now - waiting_since
            look = mixed_group_action(self.ours, listed, waited, self.allowed_s)
            if look.action == "alone":
                if said:
                    log.warning("worker group %s runs one rule set again: this worker goes on", self.group)
                return look.action
            message = mixed_group_message(self.group, self.ours, look, self.allowed_s)
            if look.action in ("give_way", "unheeded"):
                log.critical("%s", message)
                await self.stop(message)
                return look.action
            if not said:
                log.error("%s", message)
                said = True
            if waiting_since is None:
                waiting_since = now
            await self.sleep(self.poll_s)


def mismatch_message(group: str, ours: str, others: list[str], version: str | None = None) -> str:
    """`version`: the watchfloor version in this worker's fingerprint (default: the installed one)."""
    named = [f"{m} ({difference(member_rules(m) or '', ours)})" for m in others]  # each with what sets it apart
    return (
        f"worker group {group} has member(s) running other rules than this worker, or another watchfloor release "
        f"(fingerprint {ours}: its rule packs and lateness, watchfloor {version or release()}): "
        f"{', '.join(named)}. Every worker of a group must run the same rule packs on the same watchfloor "
        "release, or alerts are lost or differ. Stop those workers first (to change the rules or upgrade "
        "watchfloor, stop all, then start all with the new --rules or release), or run these rules as a "
        "pipeline of their own (another --prefix: its own topics and worker group; another --app-id alone "
        "would still read this pipeline's topics)."
    )


@dataclass
class RulesGuard:
    """Counts routed signals made under other rules than `ours`, and says so in the log (rate-limited)."""

    ours: str
    group: str = ""
    every_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    on_foreign: Callable[[], None] | None = None  # a record of another fingerprint came: look at the group again
    foreign: dict[str, int] = field(default_factory=dict)  # fingerprint -> records seen
    unmarked: int = 0  # records without the header (a worker older than the check)
    _said: dict[str, tuple[float, int]] = field(default_factory=dict)  # fingerprint -> (when, count) last logged

    def check(self, theirs: str | None, origin: str) -> bool:
        """Whether a routed signal came from a worker with our rules; logs an error for one that did not."""
        if theirs is None:
            self.unmarked += 1
            return True
        if theirs == self.ours:
            return True
        n = self.foreign[theirs] = self.foreign.get(theirs, 0) + 1
        if self.on_foreign is not None:
            self.on_foreign()
        now = self.clock()
        said = self._said.get(theirs)
        if said is None or now - said[0] >= self.every_s:
            self._said[theirs] = (now, n)
            log.error(
                "correlate: %s was routed by a worker of group %s running other rules or another watchfloor "
                "release (fingerprint %s; this worker's is %s: %s): %d such record(s) so far. Every worker of a group "
                "must run the same rule packs on the same release, or alerts are lost or differ: start them all "
                "with the same --rules and release. (Just after all workers were restarted with new rules or a "
                "new release, these are the old ones' backlog: nothing to do.)",
                origin,
                self.group or "?",
                theirs,
                self.ours,
                difference(theirs, self.ours),
                n,
            )
        return False


def parse_rules(headers: Any) -> str | None:
    """The wf-rules header of a record (None when absent)."""
    if not headers:
        return None
    raw = headers.get(RULES_HEADER) if hasattr(headers, "get") else dict(headers).get(RULES_HEADER)
    if raw is None:
        return None
    return raw.decode(errors="replace") if isinstance(raw, bytes | bytearray) else str(raw)


__all__ = [
    "CLIENT_MARK",
    "MIXED_GROUP_EXIT",
    "RULES_HEADER",
    "GroupLook",
    "MixedGroup",
    "MixedGroupWatch",
    "RulesGuard",
    "RulesMismatch",
    "client_id",
    "describe_member",
    "installed_version",
    "member_gone",
    "member_release",
    "member_rules",
    "mismatch_message",
    "mixed_group_action",
    "mixed_group_message",
    "parse_rules",
    "release",
    "rules_fingerprint",
    "strangers",
]
