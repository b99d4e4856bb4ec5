"""The identity of a rule set: a short digest of the packs, the lateness and the release that reads them."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata

import orjson

from .engine import Engine


@cache
def installed_version() -> str:
    """The installed watchfloor's version (its distribution's metadata); "unknown" when it is not installed."""
    try:
        return metadata.version("watchfloor")
    except metadata.PackageNotFoundError:
        return "unknown"


def rules_fingerprint(engine: Engine, version: str | None = None) -> str:
    """A short digest of what decides the alerts: every pack as loaded (sorted by name), the lateness, and the
    watchfloor release that reads them (`version`; default: the installed version)."""
    rules = engine.rules
    # Defaults left out: a release that adds a field with a default must not change the packs' part. The
    # version is in it: two releases whose engines read the same packs differently must not share a group (an
    # upgrade stops every worker, then starts them all on the new release, as a change of rules does).
    packs = sorted(
        (p.model_dump(mode="json", exclude_defaults=True) for p in rules.packs), key=lambda d: str(d.get("name"))
    )
    facts = {
        "packs": packs,
        "lateness": rules.lateness.total_seconds(),
        "watchfloor": version or installed_version(),
    }
    text = orjson.dumps(facts, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=6).hexdigest()
