"""Revisions and retractions as timelines: what a late report changes, and what reaches the log for it.

A report is on time when it is at most the allowed lateness (12h in tests/data/rules/eventtime.yaml) behind
the watermark. Arriving after newer reports of its group, it is inserted where it belongs and the group is
evaluated again from there: a detection that changes carries `revises`, every change of a group's history has
a `revision` number, and the alerts that stand are always the canonical backtest's.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from watchfloor.schemas.events import CaughtUp, DeadLetter, Detection, Document, Retraction
from watchfloor.schemas.timefmt import utc_text
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine.correlate import _superseding
from watchfloor.stream_processors.replay import replay

from .engine_helpers import DATA, T0, doc, engine_for

PACK = DATA / "rules" / "eventtime.yaml"
Out = Detection | Retraction | DeadLetter


class Live:
    """Feed documents as they arrive (optionally from an origin, received at a time); keep what came out."""

    def __init__(self, pack: Path = PACK) -> None:
        self.engine = engine_for(str(pack))
        self.state = self.engine.initial_state()
        self.history: list[Detection | Retraction] = []
        self.reports: list[DeadLetter] = []
        self.docs: list[Document] = []

    def feed(self, d: Document, *, origin: str | None = None, received: float | None = None) -> list[Out]:
        at = T0 + timedelta(hours=received) if received is not None else None
        self.state, outs = self.engine.process_document(self.state, d, origin=origin, received_at=at)
        self.docs.append(d)
        got = [o for o in outs if isinstance(o, Detection | Retraction | DeadLetter)]
        self.history += [o for o in got if not isinstance(o, DeadLetter)]
        self.reports += [o for o in got if isinstance(o, DeadLetter)]
        return got

    def caught_up(self, at: float, *origins: str) -> list[Out]:
        outs = self.engine.caught_up(self.state, CaughtUp(at=T0 + timedelta(hours=at), origins=origins))
        self.history += [o for o in outs if isinstance(o, Detection | Retraction)]
        return list(outs)

    def standing(self, rule: str) -> list[Detection]:
        return [d for d in current_alerts(self.history).values() if d.rule == rule]

    def backtest(self, rule: str) -> list[Detection]:
        return [d for d in replay(self.docs, self.engine).alerts if d.rule == rule]


def ids(ds: list[Detection]) -> list[str]:
    return sorted(d.id for d in ds)


def test_earlier_evidence_revises_the_alert_already_raised() -> None:
    live = Live()
    [first] = [o for o in live.feed(doc("Alphaland closed the border.", at=5, doc_id="b")) if o.rule == "closure"]
    assert isinstance(first, Detection) and first.revision == 0 and first.revises is None
    # An earlier report of the same closure arrives 2h later (within the 12h lateness): it is the alert now,
    # the one already raised is within its 6h realert and would never have fired.
    [revision] = [o for o in live.feed(doc("Alphaland shut the border.", at=3, doc_id="a")) if o.rule == "closure"]
    assert isinstance(revision, Detection)
    assert (revision.revises, revision.revision) == (first.id, 1)
    assert [e.event_id for e in revision.evidence] == ["a"]
    assert revision.fired_at == T0 + timedelta(hours=3)
    assert ids(live.standing("closure")) == ids(live.backtest("closure")) == [revision.id]
    assert live.reports == []  # on time: nothing to report


def test_a_late_corroboration_escalates() -> None:
    live = Live()
    [low] = live.feed(doc("A strike hit Port Gamma.", at=2, source="Wire A", doc_id="a"))
    assert isinstance(low, Detection) and (low.severity, low.confidence) == ("low", "unconfirmed")
    changed = live.feed(doc("Witnesses report a strike in Port Gamma.", at=1, source="Wire B", doc_id="b"))
    # In order, b (1h, unconfirmed) fires first, then a (2h) confirms it within 3h: high, and not throttled
    # by the low one. b's alert revises a's unconfirmed one; the escalation is new.
    assert [(d.severity, d.revises, d.revision) for d in changed if isinstance(d, Detection)] == [
        ("low", low.id, 1),
        ("high", None, 1),
    ]
    assert ids(live.standing("strike-escalation")) == ids(live.backtest("strike-escalation"))
    high = next(d for d in live.standing("strike-escalation") if d.severity == "high")
    assert high.confidence == "confirmed" and {e.event_id for e in high.evidence} == {"a", "b"}


def test_a_sequence_completed_by_a_late_report() -> None:
    live = Live()
    assert not [o for o in live.feed(doc("Talks between Alphaland and Betastan opened.", at=6)) if o.rule]
    late = live.feed(doc("Alphaland closed the border.", at=2, doc_id="closed"))
    [sequence] = [o for o in late if isinstance(o, Detection) and o.rule == "closed-then-talks"]
    assert (sequence.revises, sequence.revision) == (None, 1)  # nothing to replace: a new alert, by a change
    assert sequence.fired_at == T0 + timedelta(hours=6)  # fired at the talks, the sequence's end
    assert ids(live.standing("closed-then-talks")) == ids(live.backtest("closed-then-talks")) == [sequence.id]


def test_an_alert_withdrawn_and_raised_again_is_an_event_each_time() -> None:
    """realert 6h: reports at 7h, 5h (late), then 0.5h (late) flip which of them fire, and back."""
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=7, doc_id="c"))
    live.feed(doc("Alphaland closed the border.", at=5, doc_id="b"))  # b fires, c is throttled
    live.feed(doc("Alphaland closed the border.", at=0.5, doc_id="a"))  # a fires, b throttled, c fires again
    closures = [o for o in live.history if o.rule == "closure"]
    assert [(o.revision, o.revises is not None) for o in closures if isinstance(o, Detection)] == [
        (0, False),
        (1, True),
        (2, True),
        (2, False),  # c's alert, raised again: an event id of its own (not its first one)
    ]
    assert closures[0].id == closures[-1].id
    assert ids(live.standing("closure")) == ids(live.backtest("closure"))


def test_a_report_dated_2099_is_processed_at_its_receive_time_and_moves_no_watermark() -> None:
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=10), origin="inbox/a.jsonl", received=10)
    live.caught_up(10, "inbox/a.jsonl")
    assert live.state["wm"] == (T0 + timedelta(hours=10)).timestamp()
    typo = doc("Betastan shut the border.", at=24 * 365 * 74, doc_id="typo")  # dated 2099
    outs = live.feed(typo, origin="inbox/a.jsonl", received=11)
    [clamp] = [o for o in outs if isinstance(o, DeadLetter)]
    assert clamp.stage == "event-time" and clamp.reason.startswith("dated in the future: document typo")
    assert clamp.origin == "inbox/a.jsonl"  # counted per source
    [alert] = [o for o in outs if isinstance(o, Detection) and o.rule == "closure"]
    assert alert.fired_at == T0 + timedelta(hours=11)  # when it was received
    assert alert.evidence[0].published_at.year == 2099  # the report as it was written
    live.caught_up(12, "inbox/a.jsonl")
    assert live.state["wm"] == (T0 + timedelta(hours=10)).timestamp()  # 2099 moved nothing
    live.feed(doc("Alphaland reopened the border.", at=9), origin="inbox/a.jsonl", received=12)
    assert not [r for r in live.reports if r.reason.startswith("late")]  # nor made anything late


def test_a_source_behind_another_holds_time_back_until_it_goes_idle() -> None:
    """Two origins: `slow` is 12h behind, `fast` reads on. The absence 'border still closed' (1d window, 12h
    lateness) may only fire once event time passes 36h: the slow origin holds event time back (whatever it
    may still deliver within its lateness counts) until it has been silent for an hour of receive time."""
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=0, doc_id="closed"), origin="fast", received=0.5)
    live.feed(doc("Weather news.", at=-10, doc_id="slow-1"), origin="slow", received=2.0)
    live.caught_up(2.0, "fast", "slow")
    assert live.state["wm"] == (T0 - timedelta(hours=10)).timestamp()  # the slow origin's
    live.feed(doc("Markets rose.", at=2.5, doc_id="m2"), origin="fast", received=2.5)
    live.caught_up(2.6, "fast", "slow")
    assert live.state["wm"] == (T0 - timedelta(hours=10)).timestamp()  # still held back by `slow`
    for h in range(3, 41):
        live.feed(doc("Markets rose.", at=h, doc_id=f"m{h}"), origin="fast", received=h)
    fired = live.caught_up(40, "fast", "slow")  # `slow` silent for 38h of receive time: idle
    assert live.state["wm"] == (T0 + timedelta(hours=40)).timestamp()
    assert [(d.rule, d.group) for d in fired] == [("closure-not-lifted", {"country": "ALPHA"})]


def test_a_source_read_weeks_behind_another_in_the_same_poll_is_not_late() -> None:
    """Event time moves at CaughtUp marks, not at documents: within one poll a source weeks behind another
    (read second) is on time, and the group is evaluated in canonical order."""
    live = Live()
    weeks = 24 * 21
    live.feed(doc("Betastan shut the border.", at=weeks, doc_id="later"), origin="later.jsonl", received=weeks)
    live.feed(doc("Betastan shut the border.", at=1, doc_id="early"), origin="keydays.jsonl", received=weeks)
    live.caught_up(weeks, "later.jsonl", "keydays.jsonl")
    assert live.reports == []
    assert ids(live.standing("closure")) == ids(live.backtest("closure"))
    assert len(live.standing("closure")) == 2


def test_a_report_beyond_the_lateness_adds_but_never_withdraws() -> None:
    """Processed against what is still held and reported; the alerts raised with a fuller history stand."""
    live = Live()
    live.feed(doc("Talks between Alphaland and Betastan opened.", at=9.5, doc_id="talks"))
    live.feed(doc("Alphaland closed the border.", at=23.5, doc_id="closed"))  # closure-and-talks fires
    live.feed(doc("Alphaland reopened the border.", at=48, doc_id="reopened"))  # event time 48h: talks dropped
    before = {d.id for d in live.standing("closure-and-talks")}
    assert before
    outs = live.feed(doc("Betastan shut the border.", at=13, doc_id="very-late"))  # 35h behind
    assert [r.reason.split(":")[0] for r in outs if isinstance(r, DeadLetter)] == ["late"]
    assert {d.id for d in live.standing("closure-and-talks")} == before
    assert not [o for o in live.history if isinstance(o, Retraction)]


def test_a_retraction_when_nothing_replaces_a_withdrawn_alert(tmp_path: Path) -> None:
    """A rule made stricter between runs (realert 6h -> 12h): the next late report of a group re-evaluates
    it under the new rule; an alert the rule would no longer raise, with nothing in its place, is retracted."""
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=0, doc_id="a"))
    live.feed(doc("Alphaland closed the border.", at=7, doc_id="c"))
    second = next(d for d in live.standing("closure") if d.evidence[0].event_id == "c")
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(PACK.read_text().replace("realert: 6h", "realert: 12h"))
    restarted = Live(stricter)
    restarted.state = restarted.engine.restore(live.state)
    restarted.history = list(live.history)
    outs = restarted.feed(doc("Alphaland closed the border.", at=1, doc_id="b"))  # late, on time
    [retraction] = [o for o in outs if isinstance(o, Retraction)]
    assert (retraction.alert_id, retraction.rule, retraction.group) == (second.id, "closure", {"country": "ALPHA"})
    assert retraction.revision == 1 and retraction.superseded_by is None
    assert "late report (b," in retraction.reason
    assert second.id not in {d.id for d in restarted.standing("closure")}


def test_a_report_beyond_the_lateness_counts_in_every_window_still_held() -> None:
    """Event time is at 60h (lateness 12h) when a closure report of 30h arrives. Its own point raises Alphaland's
    closure; the reports of 40h and 41h are still held, and the 1-day window ending at 41h now holds three
    closures: `closures-counted` fires there, as in the backtest. Reported late; nothing withdrawn."""
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=40, doc_id="c40"))
    live.feed(doc("Alphaland closed the border.", at=41, doc_id="c41"))
    live.feed(doc("Markets rose.", at=60, doc_id="m60"))
    assert not live.standing("closures-counted")
    outs = live.feed(doc("Alphaland closed the border.", at=30, doc_id="c30"))
    assert [r.reason.split(":")[0] for r in outs if isinstance(r, DeadLetter)] == ["late"]
    [counted] = live.standing("closures-counted")
    assert sorted(e.event_id for e in counted.evidence) == ["c30", "c40", "c41"]
    assert counted.fired_at == T0 + timedelta(hours=41)
    assert ids(live.standing("closures-counted")) == ids(live.backtest("closures-counted"))
    assert ids(live.standing("closure")) == ids(live.backtest("closure"))
    assert not [o for o in live.history if isinstance(o, Retraction)]


def test_a_report_beyond_the_lateness_escalates_an_alert_it_corroborates() -> None:
    """A strike reported at 46h by one wire (low, unconfirmed); event time moves to 60h (lateness 12h: what is
    before 48h is late, and the corroboration window is 3h, so the 46h report is still held); a second wire's
    report of 44h arrives: within 3h of the 46h report, which the backtest raises as high and confirmed. The
    live alert is replaced by that one (a revision): the history still held explains the alert raised there."""
    live = Live()
    [low] = live.feed(doc("A strike hit Port Gamma.", at=46, source="Wire A", doc_id="a46"))
    live.feed(doc("Markets rose.", at=60, doc_id="m60"))
    outs = live.feed(doc("Witnesses report a strike in Port Gamma.", at=44, source="Wire B", doc_id="b44"))
    assert [r.reason.split(":")[0] for r in outs if isinstance(r, DeadLetter)] == ["late"]
    standing = live.standing("strike-escalation")
    assert ids(standing) == ids(live.backtest("strike-escalation"))
    high = [d for d in standing if d.severity == "high"]
    assert [sorted(e.event_id for e in d.evidence) for d in high] == [["a46", "b44"]]
    assert high[0].revises == low.id


def test_an_alert_that_moves_to_an_earlier_point_with_the_same_id_is_revised() -> None:
    """Two firings of a group can share an id: `closures-counted` (3 in a day, realert 8h) fires at 0:30 on
    eleven reports and again at 22:00, and its evidence is capped at ten, the same ten. Read 22:30 before 22:00,
    the second firing moves from 22:30 to 22:00: a change, though the id stays (found by the property test)."""
    live = Live()
    for i in range(11):
        live.feed(doc("Alphaland closed the border.", at=0.5, doc_id=f"a{i:02d}"))
    live.feed(doc("Alphaland closed the border.", at=22.5, doc_id="late-b"))
    live.feed(doc("Alphaland closed the border.", at=22, doc_id="late-a"))

    def when(ds: list[Detection]) -> list[tuple[str, object]]:
        return sorted((d.id, d.fired_at) for d in ds)

    assert when(live.standing("closures-counted")) == when(live.backtest("closures-counted"))
    assert T0 + timedelta(hours=22) in {d.fired_at for d in live.standing("closures-counted")}


def test_a_late_corroboration_is_not_a_revision_of_a_later_alert_beyond_its_open_period(tmp_path: Path) -> None:
    # strike-escalation with corroboration over 12h (realert 4h): an alert stays open for follow-ups 4h.
    pack = tmp_path / "pack.yaml"
    text = PACK.read_text(encoding="utf-8")
    assert "realert: 4h\n    corroborate: {distinct: source, at_least: 2, within: 3h" in text
    pack.write_text(text.replace("at_least: 2, within: 3h", "at_least: 2, within: 12h"), encoding="utf-8")
    live = Live(pack)
    [a] = [o for o in live.feed(doc("A strike hit Port Gamma.", at=0, source="Wire A", doc_id="a")) if o.rule]
    [c] = [o for o in live.feed(doc("Another strike hit Port Gamma.", at=6, source="Wire A", doc_id="c")) if o.rule]
    assert isinstance(c, Detection) and (c.severity, c.confidence) == ("low", "unconfirmed")
    late = live.feed(doc("Witnesses report a strike in Port Gamma.", at=1, source="Wire B", doc_id="b"))
    # b corroborates a (1h later): a new high alert at b, in a's thread. c's alert, 5h after b, is raised again
    # as high (b corroborates it too): that is the revision of c's; b's own alert does not revise c's, which
    # would put the corroboration of a's report in the thread of a report 6h after it.
    changed = sorted((d.severity, d.fired_at, d.revises) for d in late if isinstance(d, Detection))
    assert changed == [("high", T0 + timedelta(hours=1), None), ("high", T0 + timedelta(hours=6), c.id)]
    assert not [o for o in late if isinstance(o, Retraction)]
    assert ids(live.standing("strike-escalation")) == ids(live.backtest("strike-escalation"))
    assert a.id in ids(live.standing("strike-escalation"))


def test_a_retraction_is_superseded_only_by_an_alert_within_its_open_period(tmp_path: Path) -> None:
    # strike-escalation with corroboration over 12h (realert 4h): an alert stays open for follow-ups 4h.
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK.read_text(encoding="utf-8").replace("at_least: 2, within: 3h", "at_least: 2, within: 12h"))
    live = Live(pack)
    live.feed(doc("Shelling struck Port Gamma, a strike the navy reported.", at=0, source="Wire A", doc_id="r"))
    [w1] = live.feed(doc("A second strike hit Port Gamma before dawn.", at=5, source="Wire A", doc_id="w1"))
    [w2] = live.feed(doc("Witnesses in Port Gamma describe a strike on the docks.", at=7, source="Wire B", doc_id="w2"))
    [z] = live.feed(doc("Port Gamma is hit by a new strike.", at=15, source="Wire A", doc_id="z"))
    assert isinstance(w1, Detection) and isinstance(w2, Detection) and isinstance(z, Detection)
    assert (w1.severity, w2.severity, z.severity) == ("low", "high", "high")
    # A late report at 4:30 from a third wire, corroborated by r: a high alert there, which would have held back
    # w1's and w2's (within 4h). It replaces w1's; w2's is retracted. z's alert at 15h is raised again (n adds to
    # its evidence): a revision of z's, in z's thread, 8h after w2's point: it is not what replaced w2's alert.
    late = live.feed(doc("Dock workers say a strike hit Port Gamma.", at=4.5, source="Wire C", doc_id="n"))
    raised = [d for d in late if isinstance(d, Detection)]
    assert [(d.fired_at, d.revises) for d in raised] == [(T0 + timedelta(hours=4.5), w1.id), (z.fired_at, z.id)]
    [retraction] = [o for o in late if isinstance(o, Retraction)]
    assert retraction.alert_id == w2.id
    assert retraction.superseded_by == raised[0].id  # the alert of 4:30, 2.5h before w2's: its open period
    # why, with the late report's time as the alert text shows times (it was an ISO time with its offset)
    assert retraction.reason == (
        f"a late report (n, {utc_text(T0 + timedelta(hours=4.5))}) changed the history of this group: this alert "
        "would not have been raised"
    )
    assert retraction.reason.count("UTC") == 1 and "T04:30" not in retraction.reason
    assert ids(live.standing("strike-escalation")) == ids(live.backtest("strike-escalation"))


def test_a_retraction_names_no_replacement_beyond_its_open_period() -> None:
    # Firings as the correlator records them: (point key: time, document, sentence, signal, ref; id, lf, ls).
    def firing(hours: float, alert: str) -> tuple[float | str | int, ...]:
        return (hours * 3600, alert, 0, "strike", 0, alert, hours * 3600, 1)

    open_period = 4 * 3600.0
    gone = [firing(7, "old")]
    # The only new alert of the change is 8h after the withdrawn one's point: another thread, no replacement.
    assert _superseding(gone, [firing(15, "later")], [None], open_period) == {}
    # Within 4h on both sides: the one at or before the point, as a follow-up joins a thread.
    near = [firing(4.5, "before"), firing(9, "after"), firing(15, "later")]
    assert _superseding(gone, near, [None, None, None], open_period) == {"old": "before"}
    assert _superseding(gone, near[1:], [None, None], open_period) == {"old": "after"}
    # A withdrawn alert that a new one replaces is not retracted: nothing to name.
    assert _superseding(gone, near, ["old", None, None], open_period) == {}


def test_a_corroboration_within_an_earlier_story_is_not_the_revision_of_a_later_alert(tmp_path: Path) -> None:
    # Outside trial 23, M2-1, as a timeline. strike-escalation: realert 4h (an alert stays open for follow-ups 4h),
    # corroboration over 12h. a (0h) and c (6.5h, a story of its own: more than 4h after a) arrive first, b (3h,
    # another wire) last, as when a poll reads one feed after another.
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK.read_text(encoding="utf-8").replace("at_least: 2, within: 3h", "at_least: 2, within: 12h"))
    live = Live(pack)
    [a] = live.feed(doc("A strike hit Port Gamma.", at=0, source="Wire A", doc_id="a"))
    [c] = live.feed(doc("Another strike hit Port Gamma.", at=6.5, source="Wire A", doc_id="c"))
    assert isinstance(a, Detection) and isinstance(c, Detection)
    late = live.feed(doc("Witnesses report a strike in Port Gamma.", at=3, source="Wire B", doc_id="b"))
    # In event time b confirms a's report 3h after it (high: a follow-up in a's story), and c, 3.5h after that
    # high alert, is held back by its realert. So the high alert is an alert of its own (no `revises`), which
    # joins a's story, not the revision of c's (which put the confirmation in c's thread while a's first
    # message stayed unconfirmed); c's alert is retracted, superseded by it.
    [high] = [d for d in late if isinstance(d, Detection)]
    assert (high.severity, high.fired_at, high.revises) == ("high", T0 + timedelta(hours=3), None)
    [retraction] = [o for o in late if isinstance(o, Retraction)]
    assert (retraction.alert_id, retraction.superseded_by) == (c.id, high.id)
    assert ids(live.standing("strike-escalation")) == ids(live.backtest("strike-escalation")) == ids([a, high])


def test_a_late_report_that_moves_an_alert_earlier_still_revises_it() -> None:
    # The other side of the rule above: no alert stands before the new point, so the alert that moved is revised.
    live = Live()
    [first] = [o for o in live.feed(doc("Alphaland closed the border.", at=8, doc_id="b")) if o.rule == "closure"]
    [moved] = [o for o in live.feed(doc("Alphaland shut the border.", at=4, doc_id="a")) if o.rule == "closure"]
    assert isinstance(moved, Detection) and moved.revises == first.id


def test_a_late_alert_near_a_follow_up_but_not_its_story_start_still_revises_the_later_alert() -> None:
    # Review of 877f8a2, finding 1. strike-escalation (open 4h, corroboration in 3h): a (0h) starts a story, b (2h,
    # another wire) confirms it, a follow-up; d (7h) starts one of its own. e (6h, a third wire) arrives last: its
    # high alert is 4h from a, the story's start, so it is in no earlier story, and it revises d's (one thread, the
    # message rewritten), instead of a new alert put in d's thread while d's alert was retracted under it.
    live = Live()
    for at, source, name in [(0, "Wire A", "a"), (2, "Wire B", "b"), (4, "Wire A", "c"), (7, "Wire A", "d")]:
        live.feed(doc(f"A strike hit Port Gamma ({name}).", at=at, source=source, doc_id=name))
    d = next(o for o in live.history if isinstance(o, Detection) and o.fired_at == T0 + timedelta(hours=7))
    late = live.feed(doc("Dock workers report a strike in Port Gamma.", at=6, source="Wire C", doc_id="e"))
    [high] = [o for o in late if isinstance(o, Detection)]
    assert (high.fired_at, high.severity, high.revises) == (T0 + timedelta(hours=6), "high", d.id)
    assert not [o for o in late if isinstance(o, Retraction)]
    assert ids(live.standing("strike-escalation")) == ids(live.backtest("strike-escalation"))


def test_whether_a_late_alert_revises_does_not_depend_on_what_a_sweep_dropped() -> None:
    # Review of 877f8a2, finding 2: another group's report moving the watermark (and a sweep dropping this group's
    # old firings) changed a late report's outputs. Now they are the same with and without it.
    def outputs(other: bool) -> list[tuple[str, str | None]]:
        live = Live()
        live.feed(doc("A strike hit Port Gamma.", at=0.5, source="Wire A", doc_id="k"))
        live.feed(doc("Residents describe a strike near Port Gamma.", at=2.5, source="Wire A", doc_id="x"))
        live.feed(doc("Another strike hit Port Gamma.", at=5, source="Wire A", doc_id="w"))
        if other:
            live.feed(doc("Betastan closed the border.", at=16, source="Wire C", doc_id="other"))
        late = live.feed(doc("Witnesses report a strike in Port Gamma.", at=4.2, source="Wire B", doc_id="late"))
        shown = [o for o in late if isinstance(o, Detection | Retraction) and o.rule == "strike-escalation"]
        return [(type(o).__name__, o.revises if isinstance(o, Detection) else o.superseded_by) for o in shown]

    assert outputs(False) == outputs(True)


def test_a_report_beyond_the_lateness_dated_before_an_alert_within_its_realert_takes_its_place() -> None:
    """`closure` (any, realert 6h) fires on Alphaland's 40h report; event time moves to 52.5h (lateness 12h: what
    is before 40h is beyond it, the 40h alert is still held). A report of 37h arrives: read in event time it
    fires and its realert holds the 40h one back, so live the 40h alert is replaced by it, as the backtest has it:
    one alert, not two."""
    live = Live()
    [at40] = [o for o in live.feed(doc("Alphaland closed the border.", at=40, doc_id="c40")) if o.rule == "closure"]
    live.feed(doc("Markets rose.", at=52.5, doc_id="m52"))
    outs = live.feed(doc("Alphaland closed the border.", at=37, doc_id="c37"))
    assert [r.reason.split(":")[0] for r in outs if isinstance(r, DeadLetter)] == ["late"]
    standing = live.standing("closure")
    assert ids(standing) == ids(live.backtest("closure"))
    assert [d.evidence[0].event_id for d in standing] == ["c37"]
    assert standing[0].revises == at40.id  # a revision of the alert raised: its thread, held back if not yet sent


def test_a_report_beyond_the_lateness_frees_what_the_alert_it_replaces_held_back() -> None:
    """As above, and a report of 44.5h was held back by the 40h alert (4.5h after it); once the 37h alert takes
    its place, 44.5h is 7.5h after the alert before it: it fires, as in event time. The alert of 51h fired before
    and fires again with the same throttle state: the group is evaluated again up to it, not past it."""
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=40, doc_id="c40"))
    live.feed(doc("Alphaland closed the border.", at=44.5, doc_id="c44"))
    live.feed(doc("Alphaland closed the border.", at=51, doc_id="c51"))
    live.feed(doc("Markets rose.", at=52.5, doc_id="m52"))
    live.feed(doc("Alphaland closed the border.", at=37, doc_id="c37"))
    standing = live.standing("closure")
    assert ids(standing) == ids(live.backtest("closure"))
    assert sorted(d.evidence[0].event_id for d in standing) == ["c37", "c44", "c51"]


def test_a_report_beyond_the_lateness_keeps_what_a_dropped_alert_held_back() -> None:
    """The group is evaluated again from the late report, but the alerts a sweep dropped still count: 30h fires and
    holds 35h back; event time moves to 46.5h (the 30h alert is dropped, its throttle state kept, 35h is held). A
    report of 24h fires (6h before 30h), and 35h stays held back by the dropped 30h alert, as in event time."""
    live = Live()
    live.feed(doc("Alphaland closed the border.", at=30, doc_id="c30"))
    live.feed(doc("Alphaland closed the border.", at=35, doc_id="c35"))
    live.feed(doc("Markets rose.", at=46.5, doc_id="m46"))
    live.feed(doc("Alphaland closed the border.", at=24, doc_id="c24"))
    standing = live.standing("closure")
    assert ids(standing) == ids(live.backtest("closure"))
    assert sorted(d.evidence[0].event_id for d in standing) == ["c24", "c30"]


def test_a_report_beyond_the_lateness_withdraws_the_alert_its_own_alert_holds_back() -> None:
    """Other patterns are evaluated at the later points still held (`engine/late.py`): `strike-escalation` (any
    with corroboration, realert 4h) raises Wire A's 46h report; event time moves to 60h; Wire A's report of 44h
    raises its own alert, whose realert holds the 46h one back, as in event time: that one is withdrawn,
    superseded by the 44h alert (its thread), not left standing as a second alert."""
    live = Live()
    [at46] = live.feed(doc("A strike hit Port Gamma.", at=46, source="Wire A", doc_id="a46"))
    live.feed(doc("Markets rose.", at=60, doc_id="m60"))
    outs = live.feed(doc("Another strike hit Port Gamma.", at=44, source="Wire A", doc_id="a44"))
    standing = live.standing("strike-escalation")
    assert ids(standing) == ids(live.backtest("strike-escalation"))
    [at44] = standing
    [withdrawn] = [o for o in outs if isinstance(o, Retraction)]
    assert (withdrawn.alert_id, withdrawn.superseded_by) == (at46.id, at44.id)


def test_a_report_beyond_the_lateness_withdraws_a_held_alert_past_its_windows_within_its_realert() -> None:
    """As above with Wire A's report of 42.5h: 3.5h before the 46h alert, past the corroboration window (3h) that
    could hold it, within the realert (4h) of its own alert, which holds the 46h one back in event time."""
    live = Live()
    [at46] = live.feed(doc("A strike hit Port Gamma.", at=46, source="Wire A", doc_id="a46"))
    live.feed(doc("Markets rose.", at=60, doc_id="m60"))
    outs = live.feed(doc("Another strike hit Port Gamma.", at=42.5, source="Wire A", doc_id="a42"))
    assert ids(live.standing("strike-escalation")) == ids(live.backtest("strike-escalation"))
    assert [o.alert_id for o in outs if isinstance(o, Retraction)] == [at46.id]
