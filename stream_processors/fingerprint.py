"""The identity of a rule set: a short digest of the packs and the lateness, and the release that reads them."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from importlib import metadata, util
from pathlib import Path

import orjson

from .engine import Engine

RELEASE_MARK = "-v"  # a fingerprint is "<rules digest>-v<watchfloor version>"; hex digests hold no "-"


@cache
def installed_version() -> str:
    """The installed watchfloor's version (its distribution's metadata); "unknown" when it is not installed."""
    try:
        return metadata.version("watchfloor")
    except metadata.PackageNotFoundError:
        return "unknown"


# The newest dated heading of CHANGELOG.md that this build's code answers to (tests/unit/test_release_identity.py keeps
# the two equal): `watchfloor --version` names it, so an operator reading CHANGELOG.md on an upgrade can tell which
# entries lie between two builds (outside trial 83, F4: a digest alone maps to no entry).
CHANGELOG_POINT = "2026-12-08"

# Built from the code, not part of it: the same sources give the same release whatever was compiled beside them.
BUILT_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")


def source_digest(root: Path) -> str:
    """A short digest of every file of the package under `root` (its path and bytes, in path order; symlinked
    subpackages followed, compiled files left out): two builds of the code differ in it, the same code never."""
    h = hashlib.blake2b(digest_size=5)
    files: list[tuple[str, Path]] = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith(BUILT_SUFFIXES):
                path = Path(folder, name)
                files.append((path.relative_to(root).as_posix(), path))
    for rel, path in sorted(files):
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def release() -> str:
    """This watchfloor's release: its version and a digest of its package's files, as "0.1.0+1a2b3c4d5e" (a PEP 440
    local version). The version alone named every build of the project "0.1.0", so a rolling upgrade was never told
    (outside trial 76, F1); a release of before this wrote the bare version, which differs from every one of these.
    Computed once per process (BENCHMARKS.md: a few milliseconds)."""
    spec = util.find_spec("watchfloor")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        return installed_version()
    return f"{installed_version()}+{source_digest(Path(folders[0]))}"


def rules_digest(engine: Engine, *, threads: bool = True) -> str:
    """A short digest of what decides the alerts: every pack as loaded (sorted by name) and the lateness. `threads`
    False: without the detections' `thread_by`, which decides how channels thread alerts, never an alert (outside
    trial 79, F4: a restart after a `thread_by`-only edit was told as changed rules with a backtest to run)."""
    rules = engine.rules
    # Defaults left out: a release that adds a field with a default must not change the packs' part. Inline
    # examples left out: they are the pack's tests, no alert depends on them (a release that adds one to a
    # bundled pack reads it as before).
    left_out = {"examples"} if threads else {"examples", "thread_by"}
    packs = sorted(
        (
            p.model_dump(mode="json", exclude_defaults=True, exclude={"detections": {"__all__": left_out}})
            for p in rules.packs
        ),
        key=lambda d: str(d.get("name")),
    )
    text = orjson.dumps({"packs": packs, "lateness": rules.lateness.total_seconds()}, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=6).hexdigest()


def rules_fingerprint(engine: Engine, version: str | None = None) -> str:
    """The rules' digest and the watchfloor release that reads them (`version`; default: this one, `release()`),
    as "<digest>-v<version>". The version is in it: two releases whose engines read the same packs differently
    must not share a group (an upgrade stops every worker, then starts them all on the new release, as a change
    of rules does); it is in it as text, so that a difference of release alone can be named as such."""
    return f"{rules_digest(engine)}{RELEASE_MARK}{version or release()}"


def legacy_fingerprint(engine: Engine, version: str | None = None) -> str:
    """The fingerprint these rules had in the releases of before the release mark (one digest of the packs with
    their examples, the lateness and the release): so that the records of workers of such a release that ran these
    very rules are known as such (after an upgrade, the old workers' backlog)."""
    rules = engine.rules
    packs = sorted(
        (p.model_dump(mode="json", exclude_defaults=True) for p in rules.packs), key=lambda d: str(d.get("name"))
    )
    facts = {"packs": packs, "lateness": rules.lateness.total_seconds(), "watchfloor": version or installed_version()}
    return hashlib.blake2b(orjson.dumps(facts, option=orjson.OPT_SORT_KEYS), digest_size=6).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """A fingerprint's parts: the rules' digest, and the release (None: a fingerprint of a watchfloor of before
    they named it, whose one digest covered the packs with their examples, the lateness and the release)."""

    digest: str
    version: str | None


def parse_fingerprint(text: str) -> Fingerprint:
    """The parts of a fingerprint as `rules_fingerprint` writes it (or as an older release wrote it)."""
    digest, mark, version = text.partition(RELEASE_MARK)
    return Fingerprint(digest, version if mark else None)


UNMARKED_RELEASE = "a release of before fingerprints named it"


def other_release(theirs: str, ours: str, legacy: str | None = None) -> str | None:
    """The version `theirs` names when it differs from `ours` by the watchfloor release alone (the same rules);
    None otherwise (the same fingerprint, other rules, or a fingerprint that does not say). `legacy`: these
    rules' fingerprint as a release of before the mark wrote it (legacy_fingerprint), known as the same rules."""
    if legacy is not None and theirs == legacy and theirs != ours:
        return UNMARKED_RELEASE
    a, b = parse_fingerprint(theirs), parse_fingerprint(ours)
    if a.version is None or b.version is None or a.digest != b.digest or a.version == b.version:
        return None
    return a.version


def difference(theirs: str, ours: str, legacy: str | None = None) -> str:
    """What sets fingerprint `theirs` apart from `ours`, in words for a message (`legacy`: as for other_release)."""
    if theirs == ours:
        return "the same rules on the same watchfloor release"
    version = other_release(theirs, ours, legacy)
    if version is not None:
        return f"the same rules on another watchfloor version ({version})"
    a = parse_fingerprint(theirs)
    if a.version is None:
        return (
            "other rules or another watchfloor release (a fingerprint of a release of before fingerprints named "
            "the release: it cannot say which)"
        )
    return f"other rules (on watchfloor {a.version})"
