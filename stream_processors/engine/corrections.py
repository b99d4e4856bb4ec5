"""Corrections: a feed item edited in place withdraws what its earlier versions said and the new text contradicts.

A publisher that edits an item under its guid is read as an *edition* (producers/publish.py: the id
`GUID#edition-HASH`, schemas.events.edition_of), dated when the edit was seen. What the item says is what its
newest version says, so when an edition is processed (pure; the engine calls it before the edition's signals):

* the observations of the item's earlier versions (the original and any edition, by id) that the new text
  contradicts -- it no longer makes their signal (the same name, modality and captures: `signal_key`) but makes
  that signal with another modality (denied, hedged, only expected), about the same things -- are withdrawn
  from their groups, and each group is evaluated again from the first of them, as for a late report
  (Correlator.replay_from): an alert that rested on them alone is retracted ("corrected by the publisher"),
  one that other reports still carry is revised (fewer reports, maybe no longer corroborated);
* a signal of the edition that an earlier version's observation in the same group already makes is not
  observed again (`restated`): it is the same report, still standing at the time it was first made, so a typo
  fix changes nothing (no second report, no alert again after `realert`);
* an earlier version's observation that the edition says with another modality *the same reference accepts*
  ("may have been killed" -> "were killed", for a rule that takes hedged and asserted reports) is not withdrawn
  but *restated*: the edition's signal takes its place, at its time (`restatements`, Correlator.on_signal), and
  the group is evaluated again from there, so its alert is revised (the same alert, now on the firmer or softer
  report; its confidence recomputed), not withdrawn and raised again. The edition's later signals of that name
  in the group are then the same report (`restated`). Only what the lateness still holds is restated; an
  observation beyond it stays as it was, and the edition's signal is a report of its own time, as before (an
  edition seen beyond the lateness of its item's date is not applied at all: below).

A claim the new text no longer mentions at all is not withdrawn: a live blog's headline moves on to the next
development ("has sent troops" -> "Kremlin declines to comment"), which takes nothing back, and the text
alone cannot tell that from a claim quietly cut.

Only observations the lateness still holds are withdrawn (time at or after the last sweep's W - lateness,
`xc`): a replay from an earlier point would see a history the sweeps have cut (correlate.py), so a correction
that comes later than the lateness leaves what its item raised standing.

An edition seen more than the lateness after its item's own date (`beyond_lateness`: the feed's date of the item,
`metadata.entry_date`, which the poller and a backtest of captures keep on every edition) changes nothing at all:
it withdraws and restates nothing, and its signals are not observed. The sweeps may have cut the item's earlier
observations by then, and an edition read without them was a first report at its own time: a second alert (a
second thread) for one item once `realert` had passed (outside trial 12, H1: the second of two edits of an old
item). Decided by the edition alone (its date against its item's), so every runtime, order and replay decides
alike, whatever else the feed carried; an item whose feed moves its date when it edits it is within again.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from watchfloor.schemas.events import EDITION_MARK, Signal, edition_of
from watchfloor.schemas.timefmt import utc_text

from . import patterns as P

if TYPE_CHECKING:
    from .compiler import CompiledDetection
    from .correlate import Correlator, Output, State

SignalKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""What a signal says, for a correction: (name, modality, captures sorted by name)."""


def entry_time(metadata: dict[str, Any]) -> float | None:
    """An edition's item's own date (`metadata.entry_date`, publish.as_edition) as a timestamp; None without one (an
    edition stored before it was kept) or with one that is not a time."""
    entry = metadata.get("entry_date")
    if not isinstance(entry, str):
        return None
    try:
        first = datetime.fromisoformat(entry)
    except ValueError:
        return None
    if first.tzinfo is None:  # (as_edition writes an aware time; a hand-written log may not)
        first = first.replace(tzinfo=UTC)
    return first.timestamp()


def beyond_lateness(metadata: dict[str, Any], t: float, lateness: float) -> bool:
    """Whether an edition at effective time `t` (its `metadata`) comes more than `lateness` seconds after its item's
    own date, `entry_date` (module docstring). An edition without that date is not."""
    first = entry_time(metadata)
    return first is not None and first < t - lateness


def late_edit_reason(doc_id: str, item: str, metadata: dict[str, Any], t: float, lateness: str) -> str:
    """Why an edition changed no alert (an event-time report: "late …", counted with the late reports)."""
    first = entry_time(metadata) or t
    return (
        f"late edit: document {doc_id} edits item {item_name(item)} "
        f"{timedelta(seconds=int(t - first))!s} after the item's date "
        f"({utc_text(datetime.fromtimestamp(first, UTC), SECOND_UTC)}); allowed lateness is {lateness}. "
        "It changes no alert: what the item raised stands as it was"
    )


def item_of(doc_id: str) -> str | None:
    """The feed item a document is an edition of (None for any other document), cheaply for the usual id."""
    return edition_of(doc_id) if EDITION_MARK in doc_id else None


Said = tuple[str, str, dict[str, str]]
"""A signal as a correction reads it: (name, modality, captures); schemas.events.Said on the wire."""


def said_of(sigs: Iterable[Signal]) -> list[Said]:
    return [(s.name, s.modality, s.captures) for s in sigs]


def signal_key(sig: Signal) -> SignalKey:
    return (sig.name, sig.modality, tuple(sorted(sig.captures.items())))


def observation_key(o: P.Item) -> SignalKey:
    ev = o[P.EV]
    pairs = ev[P.E_CAPTURES]
    return (ev[P.E_SIGNAL], ev[P.E_MODALITY], tuple(sorted(zip(pairs[::2], pairs[1::2], strict=True))))


def _of_item(doc: str, item: str, stem: str, edition: str) -> bool:
    """Whether an observation's document is a version of `item` other than `edition` itself."""
    return doc == item or (doc != edition and doc.startswith(stem) and edition_of(doc) == item)


def restated(gs: dict[str, Any] | None, sig: Signal, item: str, t: float) -> bool:
    """Whether the group already holds an observation of an earlier version of `item` saying what `sig` says, or
    one of `sig`'s own edition (effective time `t`) of its signal that stands at an earlier version's time (a
    restatement of it: `restatements`)."""
    if gs is None:
        return False
    stem = item + EDITION_MARK
    key = signal_key(sig)
    edition = sig.document_id
    return any(
        o[P.NAME] == sig.name
        and (
            (_of_item(o[P.DOC], item, stem, edition) and observation_key(o) == key)
            or (o[P.DOC] == edition and o[P.T] < t)
        )
        for o in gs["i"]
    )


def _same_things(o: P.Item, captures: dict[str, str]) -> bool:
    """Whether `captures` name nothing other than what observation `o`'s captures name (a capture only one has
    is no conflict)."""
    pairs = o[P.EV][P.E_CAPTURES]
    mine = dict(zip(pairs[::2], pairs[1::2], strict=True))
    return all(mine.get(k, v) == v for k, v in captures.items())


def restatements(gs: dict[str, Any] | None, sig: Signal, item: str, ri: int, closed: float | None) -> list[int]:
    """The positions of the group's observations of earlier versions of `item`, through reference `ri` (which
    accepts `sig`), that `sig` says with another modality about the same things: those it takes the place of
    (module docstring). Only those the lateness still holds (at or after `closed`)."""
    if gs is None:
        return []
    stem = item + EDITION_MARK
    edition = sig.document_id
    return [
        k
        for k, o in enumerate(gs["i"])
        if o[P.NAME] == sig.name
        and o[P.RI] == ri
        and _of_item(o[P.DOC], item, stem, edition)
        and (closed is None or o[P.T] >= closed)
        and o[P.EV][P.E_MODALITY] != sig.modality
        and _same_things(o, sig.captures)
    ]


def restatement_reason(source: str, item: str, at: datetime, before: str, now: str) -> str:
    """Why a correction revised an alert in place (Detection.cause): the item's report of it is now `now`, was
    `before` (modalities), as correction_reason says the edit."""
    return (
        f"corrected by the publisher: {source} edited item {item_name(item)} at {utc_text(at, SECOND_UTC)}, "
        f"and the new text reports what this alert rested on as {now}, no longer {before}"
    )


def correction_reason(source: str, item: str, at: datetime) -> str:
    """Why a correction withdrew or revised an alert, for people (Retraction.reason, Detection.cause): the item
    as its feed names it and the edition's time to the second in UTC, as other times are shown (outside trial 10,
    F5: an ISO time with microseconds and the feed URL + `#guid`). Made from the event alone, the same live and
    on replay."""
    return (
        f"corrected by the publisher: {source} edited item {item_name(item)} at {utc_text(at, SECOND_UTC)}, "
        "and the new text no longer reports what this alert rested on"
    )


SECOND_UTC = "%Y-%m-%d %H:%M:%S UTC"


def item_name(item: str) -> str:
    """A feed item's id as its feed names it: a short guid is made `FEED#GUID` (producers/feed_entries.py
    `entry_id`: a guid with no `:`; FEED a URL, or a file's path: trial 38, LOW-5 read "edited item
    /srv/feeds/desk.xml#kw-3"), shown as the guid; a URL guid, a link or a hashed id as it is."""
    feed, mark, guid = item.partition("#")
    return guid if mark and guid and (":" in feed or "/" in feed) and ":" not in guid else item


def _contradicted(o: P.Item, said: dict[str, list[Said]]) -> bool:
    """Whether the new text says what observation `o` said otherwise: the same signal with another modality
    (denied, hedged, only expected), about the same things (no capture the two have names another entity)."""
    ev = o[P.EV]
    pairs = ev[P.E_CAPTURES]
    captures = dict(zip(pairs[::2], pairs[1::2], strict=True))
    return any(
        modality != ev[P.E_MODALITY] and all(captures.get(k, v) == v for k, v in caps.items())
        for _name, modality, caps in said.get(ev[P.E_SIGNAL], ())
    )


def _restated_in(
    det: CompiledDetection, group: dict[str, str], o: P.Item, said: dict[str, list[Said]], source: str
) -> bool:
    """Whether the edition says observation `o`'s signal with another modality that `o`'s reference accepts, about
    the same things, into the same group: it will take `o`'s place (restatements), not withdraw it."""
    ref = det.refs[o[P.RI]]
    modality = o[P.EV][P.E_MODALITY]
    for _name, said_modality, caps in said.get(o[P.NAME], ()):
        if said_modality == modality or said_modality not in ref.modalities or not _same_things(o, caps):
            continue
        if not all(caps.get(k) == v for k, v in ref.where):
            continue
        if all((source if g == "source" else caps.get(g)) == group.get(g) for g in det.group_by):
            return True
    return False


def withdraw_superseded(
    corr: Correlator, state: State, edition: str, item: str, made: Iterable[Said], t: float, source: str
) -> list[Output]:
    """Withdraw the observations of `item`'s earlier versions that the edition `edition` (effective time `t`,
    saying `made`) contradicts, and evaluate each group they leave again (module docstring)."""
    said: dict[str, list[Said]] = {}
    keys: set[SignalKey] = set()
    for one in made:
        said.setdefault(one[0], []).append(one)
        keys.add((one[0], one[1], tuple(sorted(one[2].items()))))
    if not said:
        return []  # the new text says nothing a rule reads: nothing is contradicted (module docstring)
    stem = item + EDITION_MARK
    closed = state.get("xc")
    reason = correction_reason(source, item, datetime.fromtimestamp(t, UTC))
    cause: P.Item = (t, edition, 0, "", 0, source, None, 0)  # only its time and document are read (changes)
    out: list[Output] = []
    for gkey, gs in list(state["g"].items()):
        items: list[P.Item] = gs["i"]
        drop = [
            k
            for k, o in enumerate(items)
            if _of_item(o[P.DOC], item, stem, edition)
            and (closed is None or o[P.T] >= closed)
            and observation_key(o) not in keys
            and _contradicted(o, said)
        ]
        if not drop:
            continue
        det = corr.by_id.get(gkey.split("\x1f", 1)[0])
        if det is None:  # a detection no longer loaded (rules changed between runs): the sweep drops it
            continue
        group = P.group_from_key(gkey)
        if corr.plans[det.id].kind != "absence":
            # Said again with a modality its reference accepts: restated when the edition's signal comes (on_signal).
            drop = [k for k in drop if not _restated_in(det, group, items[k], said, source)]
            if not drop:
                continue
        removed = P.remove_observations(items, drop)
        plan = corr.plans[det.id]
        start_key = removed[0][: P.KEY_LEN]
        pos = bisect_left(items, start_key, key=lambda it: it[: P.KEY_LEN])
        # An absence is decided when its window closes: only the firsts whose windows the sweeps closed are
        # evaluated again (a then_not withdrawn from an open window is simply no longer there when it closes).
        decided = None if plan.kind != "absence" else (closed if closed is not None else float("-inf")) - plan.within
        out.extend(corr.replay_from(det, plan, gs, group, pos, start_key, cause, reason=reason, decided=decided))
    return out
