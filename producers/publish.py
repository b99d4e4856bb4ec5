"""Publish producer output to the event log: documents as document events, rejects as dead-letter events.

One record never costs the others (issue 9): a document that cannot be made into an event, that the store
refuses (`RecordRejected`, or a data error of its own row), or that reuses an id the log holds with other
content, becomes a dead letter with its place (origin, line when known) and reason, and the rest of its
batch is written. Only a `StoreError` (the store as a whole is unusable) stops an ingest; nothing of the
failed batch was written then, so the next attempt loses nothing.

Feeds are the exception to "a changed document needs a new id": their ids are the publisher's, and a developing
story is edited in place under the same guid ("may be heading" -> "has sent troops, Seoul confirms"). With
`editions`, a document whose title or body changed under a known id is appended as an *edition*, a document of
its own (`edition_id`: the id, `#edition-` and a hash of the new title and body; `metadata.edition_of`: the
original id), dated when it was seen (as_edition), so the engine reads the new text as news of that time; a
change elsewhere only (a date, a link, metadata) is a duplicate, as the text the rules read is the same. An
edition's id follows from its text (and, after the first edit, from the id of the version it follows), so polling
the same edit again adds nothing. A new text is new against the item's latest version (`latest`: the feed's
checkpoint keeps it, item -> [version id, text_print], for the items that have editions), not its first: an item
edited back to an earlier text (a claim restored after a denial) is an edition again, the item as it reads now, and
one edited back and forth (A -> B -> A -> B) makes an edition at each step, as each follows another version. An item
the checkpoint does not name (no edit yet, one the feed stopped listing, a log from before it kept them) is compared
with the log's version, its first, which costs a poll without an edit nothing more; when its text differs from that,
with its last edition in the log if it has one (`EditionLatest.latest_editions`), so the checkpoint may forget items.

An item can be edited on every poll (a live blog, a ticker), and each edition is one more document that can raise
signals and alerts: a source keeps at most `max_editions` editions of one item (config, DEFAULT_MAX_EDITIONS). The
count is the log's (`EditionCount.count_editions`: an index range per item edited, asked only when a poll makes an
edition, so a restart does not reset it and the usual poll, with no edit, asks nothing; a batch with editions is then
written by `EditionBound.append_bounded`, which counts again under the store's write lock, so two pollers of one feed
at once cannot both pass the bound). An edit past the bound is
left out (no document, no dead letter: it is not bad input) and counted, once per text: `held` is what the previous
poll left out (item -> edition id), so an item whose text stays the same is counted once, not at every poll. The
poller keeps it in the feed's checkpoint, committed with the poll's documents.

Only the same configured source edits its item. With `own` (the feed's identity as configured), an item whose id the
log holds as a document of another configured source (its `source.feed` differs: a syndication or aggregator feed
keeping the original link as guid) is renamed first, to this source's own copy (own_copy_id: `GUID#via-HASH`,
`metadata.guid` kept), and everything above then applies to that id: it is a document of its own that corroborates,
and this source's later text of it is its edition. Whichever source's document the log got first keeps the plain id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import orjson

from watchfloor.schemas.events import (
    DEFAULT_MAX_EDITIONS,
    EDITION_HASH_CHARS,
    EDITION_MARK,
    DeadLetter,
    Document,
    Event,
    dead_letter_event,
    document_event,
    stable_id,
)
from watchfloor.schemas.redact import redact_url
from watchfloor.stream_processors.ports import (
    Checkpoint,
    CheckpointStore,
    ConflictCheck,
    EditionBound,
    EditionCount,
    EditionLatest,
    EventLog,
)
from watchfloor.stream_processors.stores.errors import RecordRejected, StoreError, payload_differs

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
RAW_LIMIT = 500
TEXT_FIELDS = ("title", "body")  # what the rules read: a change elsewhere is no new edition

Item = Document | DeadLetter
Located = tuple[int | None, Item]
"""An item with the line it came from (read_jsonl_numbered), so a store's refusal can name the line."""

_L = TypeVar("_L")  # what a batch keeps beside each document (in_event_time_order)


class _Place(NamedTuple):
    """Where one document of a batch was read: its line, and the file when that is not the source (`places`)."""

    line: int | None
    file: str | None = None


@dataclass
class IngestSummary:
    """What one ingest did. `accepted` counts documents new to the log; `duplicates` those already there
    (or repeated within the input) with the same content; `conflicts` those whose id the log (or an
    earlier line) holds with other content, which are dead-lettered; `dead_lettered` every rejected input,
    logged or seen before."""

    origin: str
    accepted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    conflicts: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)  # those new to the dead-letter log
    known_dead: int = 0  # rejected inputs the dead-letter log held already (the same bad line, read again)
    editions: int = 0  # of `accepted`: feed items edited in place, each new text an edition (module docstring)
    # Edits of items that have their `max_editions` already: left out, each text counted once (not when the previous
    # poll left the same text out: that is counted in `duplicates`).
    editions_left_out: int = 0
    # Feed items whose id another configured source's document holds: item id -> this source's own copy's id
    # (own_copy_id), which its editions and the next poll's `latest` follow.
    own_copies: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)  # item id -> the edition id left out (the next poll's `held`)
    at_bound: list[str] = field(default_factory=list)  # items whose edits this poll began to leave out
    # Item id -> [its latest version's id, text_print of its text], for the items this ingest made (or found) an
    # edition of: what the next poll compares them with (ingest's `latest`, module docstring).
    latest: dict[str, list[str]] = field(default_factory=dict)
    max_editions: int | None = None  # the bound applied (ingest's max_editions), with editions

    @property
    def documents(self) -> int:
        """Valid documents read, new or not."""
        return self.accepted + self.duplicates + self.editions_left_out

    def merge(self, other: IngestSummary) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.dead_lettered += other.dead_lettered
        self.conflicts += other.conflicts
        self.dead_letters.extend(other.dead_letters)
        self.known_dead += other.known_dead
        self.editions += other.editions
        self.editions_left_out += other.editions_left_out
        self.held.update(other.held)
        self.own_copies.update(other.own_copies)
        self.latest.update(other.latest)
        self.at_bound.extend(other.at_bound)
        self.max_editions = other.max_editions if self.max_editions is None else self.max_editions


def _raw(ev: Event) -> str:
    try:
        text = orjson.dumps(ev.payload).decode()
    except TypeError:  # the payload may be why the store refused it
        text = repr(ev.payload)[: RAW_LIMIT * 2]
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + "…"


def append_isolating(
    store: EventLog, events: Sequence[Event], append: Callable[[Sequence[Event]], int] | None = None
) -> tuple[int, list[tuple[int, str, str | None]]]:
    """Append `events` (with `append`, default the store's), leaving out each one the store refuses: (added,
    [(index, reason, field)]).

    A RecordRejected names its event; any other error that is not a StoreError is narrowed down by halving
    the batch, so one bad row costs about log2(batch) extra transactions, and the good rows all go in. If
    every row of a batch fails alone, the fault is not in the rows: the first error is raised."""
    write = append or store.append
    refused: list[tuple[int, str, str | None]] = []
    first_error: list[BaseException] = []

    def attempt(idx: list[int]) -> int:
        while idx:
            try:
                return write([events[i] for i in idx])
            except StoreError:
                raise
            except RecordRejected as e:
                refused.append((idx[e.index], f"the store refused it: {e.reason}", e.field))
                idx = idx[: e.index] + idx[e.index + 1 :]
            except Exception as e:
                first_error.append(e)
                if len(idx) == 1:
                    refused.append((idx[0], f"the store refused it: {type(e).__name__}: {_first_line(e)}", None))
                    return 0
                mid = len(idx) // 2
                return attempt(idx[:mid]) + attempt(idx[mid:])
        return 0

    added = attempt(list(range(len(events))))
    if len(events) > 1 and len(refused) == len(events) and first_error:
        raise first_error[0]
    return added, sorted(refused)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else ""


def text_print(title: str, body: str) -> str:
    """A fingerprint of a feed item's text (what the rules read), as the feed's checkpoint keeps its latest one."""
    return stable_id("edition", title, body, length=EDITION_HASH_CHARS)


def edition_id(doc_id: str, title: str, body: str, after: str | None = None) -> str:
    """The id of the edition of `doc_id` that reads `title` and `body`, made after the version `after` (an edition's
    id; None or `doc_id`: after the first version): the same edit of the same version, the same id. The first edit's
    id is of its text alone (as before versions were chained); a later one's names the version it follows too, so an
    item edited back and forth (A -> B -> A -> B) makes a new edition at each step, not an id it used before."""
    if after is None or after == doc_id:
        return f"{doc_id}{EDITION_MARK}{text_print(title, body)}"
    return f"{doc_id}{EDITION_MARK}{stable_id('edition', title, body, after, length=EDITION_HASH_CHARS)}"


VIA_MARK = "#via-"  # a feed item whose id another configured source's document holds: its own copy (own_copy_id)


def own_copy_id(doc_id: str, own: str) -> str:
    """The id of the document a configured source (`own`: its identity as configured, poller.source_identity or its
    url) reports under an id another configured source's document holds already (syndication, an aggregator keeping
    the original link as guid): a document of its own, not an edition of the other's. Deterministic, so the
    source's later polls find it again (and its own edits follow it as editions)."""
    return f"{doc_id}{VIA_MARK}{stable_id('via', own, length=EDITION_HASH_CHARS)}"


def own_copy(doc: Document, own: str) -> Document:
    """`doc` under own_copy_id, its feed's guid kept as `metadata.guid` (set when the feed gave none)."""
    metadata = {**doc.metadata}
    metadata.setdefault("guid", doc.id)
    return doc.model_copy(update={"id": own_copy_id(doc.id, own), "metadata": metadata})


def _own_copy(ev: Event, own: str) -> Event:
    """The document event `ev` as own_copy."""
    new = own_copy(Document.model_validate(ev.payload), own)
    return ev.model_copy(update={"id": new.id, "payload": new.model_dump(mode="json")})


def as_edition(doc: Document, seen_at: datetime, after: str | None = None) -> Document:
    """A feed document edited in place, as its edition, dated `seen_at` (when the edit was seen) unless its own
    date is later: the edit is news of that time, and a feed keeps the item's first date, so under that date an
    edition would be ordered among the item's other versions by its hash, and could read as an earlier report
    than the version that alerted (a revision "by a late report" that nothing was). The entry's own date is kept
    as `metadata.entry_date`. `after`: the version it follows (edition_id)."""
    metadata = {**doc.metadata, "edition_of": doc.id, "entry_date": doc.published_at.isoformat()}
    return doc.model_copy(
        update={
            "id": edition_id(doc.id, doc.title, doc.body, after),
            "published_at": max(doc.published_at, seen_at),
            "metadata": metadata,
        }
    )


def _text(ev: Event) -> dict[str, Any]:
    return {k: ev.payload.get(k, "") for k in TEXT_FIELDS}


def _print(ev: Event) -> str:
    return text_print(ev.payload.get("title", ""), ev.payload.get("body", ""))


def _edition(ev: Event, seen_at: datetime, after: str | None = None) -> Event:
    """`ev` (a document edited in place under its id) as an edition (as_edition): a document of its own."""
    doc = as_edition(Document.model_validate(ev.payload), seen_at, after)
    return ev.model_copy(update={"id": doc.id, "time": doc.published_at, "payload": doc.model_dump(mode="json")})


class _Batch:
    """Documents waiting to be written, with their lines, and the dead letters they turn into."""

    def __init__(
        self,
        store: EventLog,
        summary: IngestSummary,
        origin: str,
        at: datetime,
        editions: bool,
        max_editions: int | None = DEFAULT_MAX_EDITIONS,
        held: Mapping[str, str] | None = None,
        latest: Mapping[str, Sequence[str]] | None = None,
        places: Mapping[str, tuple[str, int]] | None = None,
        own: str | None = None,
        feed: str | None = None,
        configured: Collection[str] | None = None,
        aggregators: Collection[str] = (),
    ) -> None:
        self.store = store
        # The identities of the sources configured now (poller.source_identity): a document whose source is none of
        # them (the feed's own, before its url moved or its source_name changed) is not another source's.
        self.configured = configured
        # A feed's configured identity (`own`) and what its documents carry as `source.feed`: an item whose id a
        # document of another configured source holds is this source's own copy (own_copy_id), not an edition.
        self.own = own
        self.feed = feed
        # The locations of the aggregator feeds configured now: their documents carry no `source.feed` (each counts
        # by its outlet), so another aggregator's item under a guid this one lists is told by the origin it came from.
        self.aggregators = frozenset(aggregators)
        # Filled as the items are read (read_gdelt_archive): the place of each row as it comes, taken then (a re-listed
        # event's later rows write over its id's place; outside trial 85, F12).
        self.places = places if places is not None else {}
        self.summary = summary
        self.origin = origin
        self.at = at
        self.editions = editions
        self.max_editions = max_editions
        self.held_before = held or {}
        self.latest_before = latest or {}
        self.new_editions: dict[str, str] = {}  # edition id -> item, of the batch at hand (held again at the write)
        self.docs: list[Event] = []
        self.lines: list[_Place] = []
        self.dead: list[Event] = []
        self.dead_letters: list[DeadLetter] = []

    def add_dead(self, dl: DeadLetter) -> None:
        self.summary.dead_lettered += 1
        self.dead.append(dead_letter_event(dl, self.at))
        self.dead_letters.append(dl)

    def place(self, doc_id: str, line: int | None) -> _Place:
        """Where the document just read was: its line, or the file and line `places` gives it (read just now)."""
        where = self.places.get(doc_id)
        return _Place(line) if where is None else _Place(where[1], where[0])

    def refuse(self, ev: Event, place: _Place, reason: str, field: str | None) -> None:
        # The source as it may be shown (a feed URL's password masked), as a feed's own dead letters name it; a
        # document read from another file than the source (an export lastupdate.txt lists) by that file and line.
        origin = place.file if place.file is not None else redact_url(self.origin)
        self.add_dead(DeadLetter(origin=origin, line=place.line, field=field, reason=reason, raw=_raw(ev)))

    def _conflicts(self, events: Sequence[Event]) -> set[str]:
        if not events:  # (a poll whose every item reads as its latest version asks nothing)
            return set()
        return set(self.store.find_conflicts(events)) if isinstance(self.store, ConflictCheck) else set()

    def _without_conflicts(self) -> tuple[list[Event], list[_Place]]:
        """Drop (and dead-letter) documents whose id the log or an earlier line of this batch holds with
        other content; a document repeated with the same content stays (the store skips it). With editions,
        such a document is an edition instead when its text changed, and a duplicate when it did not."""
        if self.editions and self.own is not None:
            self._own_copies()
        seen: dict[str, Event] = {}
        clash: set[int] = set()
        # Items edited before (the feed's checkpoint names their latest version): compared with that, not the log's
        # first version, which they may read as again (restored). A dict lookup per document, none without edits.
        edited = self.editions and (self.latest_before or self.summary.latest)
        drop, since = self._from_latest() if edited else (set(), {})
        for i, ev in enumerate(self.docs):
            if i in drop or i in since:
                continue
            first = seen.setdefault(ev.id, ev)
            if first is not ev and (first.type != ev.type or payload_differs(first.payload, ev.payload)):
                clash.add(i)
        held = self._conflicts([ev for i, ev in enumerate(self.docs) if i not in drop and i not in since])
        if held and not self.editions:
            clash = self._against_log(clash, held)
        elif held:
            clash.update(i for i, ev in enumerate(self.docs) if ev.id in held and i not in drop and i not in since)
        if self.editions and (clash or since):
            dropped, made = self._as_editions(clash, seen, held, since)
            clash -= dropped | made
            drop |= dropped
        for i in sorted(clash):
            ev = self.docs[i]
            self.summary.conflicts += 1
            self.refuse(ev, self.lines[i], conflict_reason(ev.id, relisted=_gdelt_row(ev)), "id")
        keep = [i for i in range(len(self.docs)) if i not in clash and i not in drop]
        return [self.docs[i] for i in keep], [self.lines[i] for i in keep]

    def _against_log(self, clash: set[int], held: set[str]) -> set[int]:
        """The clashes of a batch without editions, given the ids the log holds with other content (`held`): the
        log's version stands, so a document of such an id clashes when it differs from the log's, not from the
        batch's first (a GDELT event re-listed with other counts, then as first read again: the changed row is the
        dead letter, at its own line, and the first version a repeat, as a backtest reads them; outside trial 85,
        F12). One probe per document of an id the batch holds more than once (find_conflicts answers by id)."""
        counts: dict[str, int] = {}
        for ev in self.docs:
            if ev.id in held:
                counts[ev.id] = counts.get(ev.id, 0) + 1
        out = {i for i in clash if self.docs[i].id not in held}
        for i, ev in enumerate(self.docs):
            if ev.id in held and (counts[ev.id] == 1 or self._conflicts([ev])):
                out.add(i)
        return out

    def _own_copies(self) -> None:
        """Rename in place each document whose id the log holds as another configured source's document (its
        `source.feed` is another: a probe of that field alone, errors.payload_differs) to this source's own copy,
        before it is compared with anything: its own earlier copy and editions follow that id. Only the same
        configured source's later text is an edition (README, "editions"). A document written before `source.feed`
        existed has none to compare, and counts as this source's, as before."""
        assert self.own is not None
        probe = {"source": {"feed": self.feed}}
        foreign = self._conflicts([ev.model_copy(update={"payload": probe}) for ev in self.docs])
        if foreign and self.configured is not None:
            # Only another source configured NOW: a feed whose url moved (http -> https) or got a source_name lists
            # its old items again; taken as another source's, they would be new documents that corroborate their own
            # earlier versions. (A document with no `source.feed`, an aggregator's, stays another source's.)
            for stored in self.store.read_ids(sorted(foreign)):
                was = stored.event.payload.get("source")
                feed = was.get("feed") if isinstance(was, dict) else None
                if feed is not None and feed not in self.configured:
                    foreign.discard(stored.event.id)
        others = self.aggregators - {self.origin}
        if self.feed is None and others:
            # An aggregator's item under an id another configured aggregator's document holds: the probe cannot
            # tell them apart (neither has a `source.feed`), the origin it was read from can. One read of the batch's
            # ids the log holds, only where two aggregators are configured.
            for stored in self.store.read_ids(sorted({ev.id for ev in self.docs} - foreign)):
                was = stored.event.payload.get("source")
                if stored.event.origin in others and not (isinstance(was, dict) and was.get("feed")):
                    foreign.add(stored.event.id)
        for i, ev in enumerate(self.docs):
            if ev.id in foreign:
                self.docs[i] = _own_copy(ev, self.own)
                self.summary.own_copies[ev.id] = self.docs[i].id

    def _from_latest(self) -> tuple[set[int], dict[int, str]]:
        """The documents of items edited before (`latest_before`), each compared with the item's latest version, in
        the batch's order: (those that read as it does, duplicates; position -> item of those edited since, turned
        into editions that follow it in place)."""
        latest = {item: (v[0], v[1]) for item, v in {**self.latest_before, **self.summary.latest}.items()}
        drop: set[int] = set()
        since: dict[int, str] = {}
        for i, ev in enumerate(self.docs):
            now = latest.get(ev.id)
            if now is None:
                continue
            printed = _print(ev)
            if printed == now[1]:
                drop.add(i)
                continue
            self.docs[i] = _edition(ev, self.at, now[0])
            since[i] = ev.id
            latest[ev.id] = (self.docs[i].id, printed)  # a second version in the batch follows this one
        self.summary.duplicates += len(drop)
        return drop, since

    def _as_editions(
        self, clash: set[int], first: dict[str, Event], held: set[str], since: Mapping[int, str]
    ) -> tuple[set[int], set[int]]:
        """Turn each clashing document whose text changed into its edition, in place: (those to drop as
        duplicates, the same text as the version that stands or an edition already in the log; the editions).
        `since`: editions _from_latest made already (position -> item), checked as these are."""
        # The log's version is compared on the text alone: errors.payload_differs looks only at the keys the
        # new payload has, so a probe of the text fields asks "did the title or body change?". One probe per
        # call, as find_conflicts answers by id and a batch may hold two versions of one id (edits are rare).
        changed_from_log = {
            i
            for i in clash
            if self.docs[i].id in held
            and self._conflicts([self.docs[i].model_copy(update={"payload": _text(self.docs[i])})])
        }
        # An item whose latest version the feed's checkpoint does not name (the poller forgets the items its feed no
        # longer lists; a checkpoint lost) is compared with its last edition in the log when it has one, as with the
        # checkpoint's: compared with its first version, an item edited twice (A -> B -> C) would make C again.
        in_log = self._latest_in_log(sorted({self.docs[i].id for i in changed_from_log}))
        drop: set[int] = set()
        made: dict[int, str] = {}  # position -> the item it is an edition of
        for i in sorted(clash):
            ev = self.docs[i]
            if ev.type != first[ev.id].type:
                continue  # not an edit: another kind of document under the same id stays a conflict
            if ev.id in held:
                changed = i in changed_from_log
            else:
                changed = payload_differs(_text(first[ev.id]), _text(ev))
            if not changed:
                drop.add(i)
                continue
            last = in_log.get(ev.id)
            if last is not None and _print(ev) == _print(last):
                drop.add(i)  # the item reads as its latest edition: a duplicate, and that is its latest again
                self.summary.latest[ev.id] = [last.id, _print(last)]
                continue
            self.docs[i] = _edition(ev, self.at, last.id if last is not None else None)
            made[i] = ev.id
        made.update(since)
        made = dict(sorted(made.items()))  # the batch's order (the bound keeps the first edits)
        # An edition read again (the same edit, polled again) is in the log already: with other details (a date,
        # a link) it is still the same text, so a duplicate too.
        again = self._conflicts([self.docs[i] for i in made])
        drop.update(i for i in made if self.docs[i].id in again)
        # New to the log (an edition is dated when seen, so one read before differs from it: `again`, never equal),
        # unless its item has its editions already.
        new = {i: item for i, item in made.items() if i not in drop}
        left_out = self._past_bound(new)
        drop.update(left_out)
        self.summary.duplicates += len(drop) - len(left_out)
        # (The same edit twice in a batch, under two dates, is one edition: the store keeps the first.)
        self.summary.editions += len({self.docs[i].id for i in new if i not in left_out})
        self.new_editions.update((self.docs[i].id, item) for i, item in new.items() if i not in left_out)
        # What the item reads as now: its last edition in the log (new, or one read again). One left out is not.
        for i, item in made.items():
            if i not in left_out:
                self.summary.latest[item] = [self.docs[i].id, _print(self.docs[i])]
        return drop, set(new) - left_out

    def _latest_in_log(self, items: Sequence[str]) -> dict[str, Event]:
        """The last edition in the log of each of `items` that has one (none when the log cannot tell)."""
        if not items or not isinstance(self.store, EditionLatest):
            return {}
        return self.store.latest_editions(items)

    def _past_bound(self, new: Mapping[int, str]) -> set[int]:
        """Of the new editions (position -> item), those of items that have `max_editions` editions in the log
        (count_editions) or before them in the batch; each is counted (module docstring). The batch's own come in
        its order, as a backtest reads them (backtest_live.SeenIds)."""
        bound = self.max_editions
        if bound is None or not new:
            return set()
        items = sorted(set(new.values()))
        if isinstance(self.store, EditionCount):
            counts = self.store.count_editions(items)
        else:  # a log that cannot count them: the batch's own only
            counts = dict.fromkeys(items, 0)
        out: set[int] = set()
        kept: set[str] = set()
        for i, item in new.items():
            if self.docs[i].id in kept:
                continue  # the same edit twice in the batch (another date): the store keeps the first
            if counts[item] < bound:
                counts[item] += 1
                kept.add(self.docs[i].id)
                continue
            out.add(i)
            edition = self.docs[i].id
            if self.held_before.get(item) == edition or self.summary.held.get(item) == edition:
                self.summary.duplicates += 1  # the text the previous poll left out: seen, counted then
            else:
                self.summary.editions_left_out += 1
            if item not in self.held_before and item not in self.summary.held:
                self.summary.at_bound.append(item)
            self.summary.held[item] = edition
        return out

    def flush_docs(self, saving: CheckpointArg = None) -> None:
        events, lines = in_event_time_order(*self._without_conflicts())
        self.docs.clear()
        self.lines.clear()
        refused: list[tuple[int, str, str | None]] = []
        # A callable is asked once the batch has been read: what it saves may depend on it (the editions left out).
        checkpoint = saving(self.summary) if callable(saving) else saving
        # A batch that makes editions is written with its bound held at the write too: the count above was read
        # before it, and another poller of the feed may have added one since (EditionBound). Only then: the usual
        # poll, with no edit, is written as before.
        bounded = self.store if self.new_editions and isinstance(self.store, EditionBound) else None
        late: list[str] = []

        def append(some: Sequence[Event]) -> int:
            if bounded is None or self.max_editions is None:
                return self.store.append(some)
            added, left_out = bounded.append_bounded(some, self.max_editions)
            late.extend(left_out)
            return added

        if checkpoint is not None:
            assert isinstance(self.store, CheckpointStore)
            try:
                if bounded is None or self.max_editions is None:
                    added = self.store.commit(checkpoint[0], checkpoint[1], events)
                else:
                    added, late = bounded.append_bounded(events, self.max_editions, checkpoint)
            except StoreError:
                raise
            except Exception:  # a record at fault: write the others first, then the checkpoint alone
                added, refused = append_isolating(self.store, events, append)
                self.store.commit(checkpoint[0], checkpoint[1], [])
        else:
            added, refused = append_isolating(self.store, events, append)
        for i, reason, field_ in refused:
            self.refuse(events[i], lines[i], reason, field_)
        self._left_out_at_write(late)
        self.summary.accepted += added
        self.summary.duplicates += len(events) - len(refused) - added - len(set(late))

    def _left_out_at_write(self, late: Sequence[str]) -> None:
        """Editions the store left out at the write (another poller reached the bound first): counted as those
        _past_bound leaves out. (The checkpoint's `held`, saved with them, does not name them: the next poll counts
        such a text once more.)"""
        for edition in dict.fromkeys(late):
            item = self.new_editions.get(edition)
            if item is None:
                continue
            self.summary.editions -= 1
            self.summary.editions_left_out += 1
            if item not in self.held_before and item not in self.summary.held:
                self.summary.at_bound.append(item)
            self.summary.held[item] = edition
        self.new_editions.clear()

    def flush_dead(self) -> None:
        if self.dead:
            added = self.store.append(self.dead)
            # A dead letter's id is deterministic: none added means every one was logged by an earlier read of
            # the same input (a file read again, a feed polled again), and is not news to report again. (Some
            # added: all are reported, as the log cannot say which.)
            if added == 0:
                self.summary.known_dead += len(self.dead_letters)
            else:
                self.summary.dead_letters.extend(self.dead_letters)
            self.dead.clear()
            self.dead_letters.clear()


def conflict_reason(doc_id: str, *, relisted: bool = False) -> str:
    """The dead letter's reason for a document whose id the log (or an earlier record) holds with other
    content: the first version stands (a backtest of files says the same). `relisted`: a GDELT row, whose id is
    GDELT's event id (no one who reads this can give it another): GDELT listed the event again with other counts, a
    later date added or another article, as it does routinely (trial 59, LOW-3)."""
    if relisted:
        return (
            f"id {doc_id[:200]!r} is already in the log with different content: GDELT listed this event again "
            "(other counts, date added or article); the first version read stands, this one was not ingested"
        )
    return (
        f"id {doc_id[:200]!r} is already in the log with different content; this version was not ingested "
        "(give a changed document a new id)"
    )


def _gdelt_row(ev: Event) -> bool:
    """Whether a document is a GDELT event row (producers/gdelt.py keeps its coded fields under metadata.gdelt)."""
    meta = ev.payload.get("metadata")
    return isinstance(meta, dict) and "gdelt" in meta


def in_event_time_order(events: list[Event], lines: list[_L]) -> tuple[list[Event], list[_L]]:
    """A batch's documents in the engine's canonical order, (published_at, document id), with their lines.

    A batch is one arrival (a feed's new items, a run of a file's lines), committed at once: the order its
    documents are appended in is the order the engine reads them, and nothing else. A feed lists its newest
    item first, so in feed order every item of a poll but the newest reaches the engine before one it
    follows, and each alert it raised is revised by the next (a reply and a rewrite in the alert's Slack
    thread). Appended in event-time order, a batch is read as a backtest reads it; only reports that arrive in
    a later batch revise (docs/architecture.md §3a). Stable: a repeated document keeps its place. (One dated
    beyond the engine's skew into the future is read at its receive time, so a backtest reads it before any
    item dated between the two; here it goes last: at worst a revision, never another final alert.)"""
    if len(events) < 2:
        return events, lines
    order = arrival_order([(ev.time.timestamp(), ev.id) for ev in events])
    return [events[i] for i in order], [lines[i] for i in order]


def arrival_order(keys: Sequence[tuple[float, str]]) -> list[int]:
    """The positions of a batch's documents in the order they are appended, and so read by the engine, from
    each one's (published_at as a POSIX timestamp, document id): in_event_time_order, and a backtest that
    replays a file in the live runner's order (watchfloor.backtest)."""
    return sorted(range(len(keys)), key=keys.__getitem__)


CheckpointArg = tuple[str, Checkpoint] | Callable[[IngestSummary], tuple[str, Checkpoint] | None] | None
"""ingest's `checkpoint`: (name, checkpoint), or a function of the ingest's summary that gives one (or None: none)."""


def source_feed(kind: str, where: str) -> str:
    """The identity a source not declared an aggregator gives its documents (`SourceRef.feed`): its kind and its url
    or path as configured, so a url never equals a name an aggregator's item or an operator gives."""
    return f"{kind}:{where}"


def with_feed(doc: Document, feed: str) -> Document:
    """`doc` counted as the configured source `feed` for corroboration (docs/rules.md, "Independent sources")."""
    if doc.source.feed == feed:
        return doc
    return doc.model_copy(update={"source": doc.source.model_copy(update={"feed": feed})})


def ingest(
    store: EventLog,
    items: Iterable[Item | Located],
    origin: str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    checkpoint: CheckpointArg = None,
    now: datetime | None = None,
    editions: bool = False,
    max_editions: int | None = DEFAULT_MAX_EDITIONS,
    held: Mapping[str, str] | None = None,
    latest: Mapping[str, Sequence[str]] | None = None,
    feed: str | None = None,
    places: Mapping[str, tuple[str, int]] | None = None,
    own: str | None = None,
    configured: Collection[str] | None = None,
    aggregators: Collection[str] = (),
) -> IngestSummary:
    """Append documents and dead letters to `store` in batches; every event is committed on return.

    `items` are documents and dead letters, or (line, item) pairs (read_jsonl_numbered), which let a
    dead letter for a record the store refuses name its line; a document's event keeps it (Event.line), so the
    engine's event-time report of it (dated in the future, late) names it too. Re-ingesting the same input is a no-op:
    event ids are deterministic and the log skips known ids; the same id with other content is a dead
    letter (and counted in `conflicts`), not silently dropped; with `editions` (feeds), a new title or body under
    a known id is an edition, a document of its own, and a change elsewhere a duplicate (module docstring).
    With editions, an item keeps at most `max_editions` of them (None: no bound), and `held` is what the previous
    read of the feed left out past it (its IngestSummary.held; module docstring), and `latest` the latest version of
    each item edited before (item -> [version id, text_print]: the previous reads' IngestSummary.latest), which a new
    text is compared with (module docstring).
    With `checkpoint=(name, cp)` the store must also be a CheckpointStore: the last batch of documents
    and the checkpoint are committed in one transaction, after every earlier batch, so the checkpoint
    is never saved without the documents it stands for. Dead letters are appended before that commit.
    `checkpoint` may be a function of the summary, called before that commit, when the batches are read.
    Every event is stamped with `now` (default: the current UTC time, the one clock read): documents carry it
    as `received_at`, with `origin` (the source as configured), which the engine's event time is built on.
    With `feed` (a source not declared an aggregator: its configured identity), every document's `source.feed` is
    set to it, so corroboration counts all of them as one source whatever name each carries (docs/rules.md).
    `own` (a feed's configured identity: its source_name or url) makes an item whose id the log holds as another
    configured source's document this source's own copy (own_copy_id), a document of its own that corroborates,
    not an edition of the other's (module docstring); `configured`, the identities of the sources configured now:
    a document of a source that is none of them (this feed before its url moved) is not another source's;
    `aggregators`, the locations of the aggregator feeds configured now: another one's item is told by its origin.
    `places` (document id -> (file, line)) names where a document the log refuses was read, when that is another
    file than the source (an export file of a GDELT lastupdate.txt: `URL:member`); its dead letter says so.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    if checkpoint is not None and not isinstance(store, CheckpointStore):
        name = "" if callable(checkpoint) else f" {checkpoint[0]!r}"
        raise TypeError(f"{type(store).__name__} is not a CheckpointStore; cannot save checkpoint{name}")
    if max_editions is not None and max_editions < 0:
        raise ValueError("max_editions must be >= 0")
    at = now or datetime.now(UTC)
    summary = IngestSummary(origin=origin, max_editions=max_editions if editions else None)
    batch = _Batch(
        store, summary, origin, at, editions, max_editions, held, latest, places, own, feed, configured, aggregators
    )
    for entry in items:
        line, item = entry if isinstance(entry, tuple) else (None, entry)
        if isinstance(item, Document):
            if feed is not None:
                item = with_feed(item, feed)
            try:
                ev = document_event(item, origin, at, line)
            except Exception as e:  # e.g. a model that cannot be serialised: this record only
                reason = f"cannot be made into an event: {e}"
                batch.add_dead(DeadLetter(origin=redact_url(origin), line=line, reason=reason))
                continue
            batch.docs.append(ev)
            batch.lines.append(batch.place(item.id, line))
            if len(batch.docs) >= batch_size:
                batch.flush_docs()
        else:
            batch.add_dead(item)
            if len(batch.dead) >= batch_size:
                batch.flush_dead()
    batch.flush_dead()
    if checkpoint is not None:
        batch.flush_docs(checkpoint)
    elif batch.docs:
        batch.flush_docs()
    batch.flush_dead()  # dead letters of the last batch's refused records
    shown = redact_url(origin)  # a feed URL's password or key is not logged
    if summary.dead_letters:
        # Each is said by the command that polled (`ingest`, `run`, `produce`: cli._common.print_dead_letters).
        log.info("%s: %d input(s) dead-lettered, e.g. %s", shown, len(summary.dead_letters), _describe(summary))
    if summary.known_dead:
        log.info("%s: %d rejected input(s) already in the dead-letter log", shown, summary.known_dead)
    for held_item in summary.at_bound:
        log.info(
            "%s: item %s has %d edition(s), its max_editions: its further edits are left out",
            shown,
            held_item[:200],
            max_editions,
        )
    log.info("%s: %d new document(s), %d duplicate(s)", shown, summary.accepted, summary.duplicates)
    return summary


def _describe(summary: IngestSummary) -> str:
    dl = summary.dead_letters[0]
    where = f"line {dl.line}: " if dl.line is not None else ""
    return where + dl.reason
