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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
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
    "RULES_HEADER",
    "RulesGuard",
    "RulesMismatch",
    "client_id",
    "installed_version",
    "member_gone",
    "member_release",
    "member_rules",
    "mismatch_message",
    "parse_rules",
    "release",
    "rules_fingerprint",
    "strangers",
]
