"""Composition: a detection over any of several signals (each with its own filters)."""

from __future__ import annotations

from pathlib import Path

from watchfloor.stream_processors.examples import run_examples
from watchfloor.stream_processors.rulefile import load_rules

ANY_OF = """
version: 2
name: any-of
entities:
  A: {name: Alphaland, kind: country, aliases: [Alphaland]}
signals:
  closed: {match: {all: [closed, border]}, capture: {country: {entities: [A]}}}
  shut: {match: {all: [shut, crossing]}, capture: {country: {entities: [A]}}}
detections:
  - id: border-closed
    title: "{country} closed its border"
    pattern: {any: [closed, {signal: shut, modality: [asserted, hedged]}]}
    group_by: [country]
    examples:
      - name: the first signal
        group: {country: A}
        documents: [{type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
                     title: "Alphaland closed the border"}]
      - name: the second signal, hedged, which its reference takes
        documents: [{type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
                     title: "Alphaland may have shut the crossing"}]
      - name: the first signal hedged, which its reference does not take
        fires: false
        documents: [{type: news.article, published_at: "2025-01-01T00:00:00+00:00", source: W,
                     title: "Alphaland may have closed the border"}]
"""


def test_any_of_several_signals(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ANY_OF, encoding="utf-8")
    loaded, compiled = load_rules([str(path)])
    (det,) = compiled.detections
    assert [r.signal for r in det.refs] == ["closed", "shut"]
    assert set(compiled.detections_by_signal) == {"closed", "shut"}
    results = run_examples([lp.pack for lp in loaded], compiled)
    assert [r.passed for r in results] == [True, True, True], [r.message for r in results]


# -- detections over detections --------------------------------------------------------------------------

from watchfloor.schemas.events import Detection, Retraction  # noqa: E402
from watchfloor.stream_processors.rulefile import RuleLoadError  # noqa: E402

from .engine_helpers import DATA, T0, doc, engine_for  # noqa: E402

COMPOSED = str(DATA / "rules" / "composed.yaml")


def run(*docs, until: float | None = None):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    engine = engine_for(COMPOSED)
    state = engine.initial_state()
    out: list[Detection | Retraction] = []
    for d in docs:
        state, outs = engine.process_document(state, d)
        out += [o for o in outs if isinstance(o, Detection | Retraction)]
    if until is not None:
        state, outs = engine.advance(state, T0 + timedelta(hours=until))
        out += [o for o in outs if isinstance(o, Detection | Retraction)]
    return out


def rules(out) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.rule for o in out if isinstance(o, Detection)]


def test_a_detection_over_confirmed_alerts_waits_for_confirmation() -> None:
    one = run(doc("Alphaland closed the border.", at=0, source="Wire A", doc_id="d1"))
    assert rules(one) == ["closure", "plain-closure"]  # unconfirmed: closure-confirmed waits
    two = run(
        doc("Alphaland closed the border.", at=0, source="Wire A", doc_id="d1"),
        doc(
            "Officials in Alphaland closed the border crossing at dawn, a second outlet reports.",
            at=2,
            source="Wire B",
            doc_id="d2",
        ),
    )
    confirmed = [o for o in two if isinstance(o, Detection) and o.rule == "closure-confirmed"]
    assert len(confirmed) == 1 and confirmed[0].group == {"country": "A"}
    assert confirmed[0].evidence[0].signal == "alert:closure"
    assert confirmed[0].title == "Alphaland: the closure is confirmed"


def test_syndicated_copies_do_not_confirm() -> None:
    # The same wire text under two outlets is one report: no confirmation, so no derived alert.
    out = run(
        doc(
            "Alphaland closed the border on Monday, officials said, as queues grew at every crossing.",
            at=0,
            source="Wire A",
            doc_id="d1",
        ),
        doc(
            "Alphaland closed the border on Monday, officials said, as queues grew at every crossing.",
            at=1,
            source="Wire B",
            doc_id="d2",
        ),
    )
    assert "closure-confirmed" not in rules(out)
    assert all(o.confidence == "unconfirmed" for o in out if isinstance(o, Detection) and o.rule == "closure")


def test_all_of_over_two_detections() -> None:
    out = run(
        doc("Alphaland closed the border.", at=0, doc_id="a"),
        doc("Betastan closed the border.", at=5, doc_id="b"),
    )
    both = [o for o in out if isinstance(o, Detection) and o.rule == "both-closed"]
    assert len(both) == 1 and {e.event_id for e in both[0].evidence} == {
        o.id for o in out if isinstance(o, Detection) and o.rule == "plain-closure"
    }


def test_a_revised_input_revises_the_derived_alert() -> None:
    out = run(
        doc("Alphaland closed the border.", at=10, doc_id="a10"),
        doc("Betastan closed the border.", at=12, doc_id="b12"),
        doc("Alphaland closed the border, an earlier report says.", at=8, doc_id="a08"),  # late, within lateness
    )
    plain = [o for o in out if isinstance(o, Detection) and o.rule == "plain-closure" and o.group == {"country": "A"}]
    assert [d.revises is None for d in plain] == [True, False]  # the late report made the first alert a08's
    assert plain[1].revises == plain[0].id
    both = [o for o in out if isinstance(o, Detection) and o.rule == "both-closed"]
    assert len(both) == 2 and both[1].revises == both[0].id
    assert plain[1].id in {e.event_id for e in both[1].evidence}
    assert not any(isinstance(o, Retraction) for o in out)


def test_a_retracted_input_retracts_the_derived_alert() -> None:
    # A retraction of an input alert (a late report showed it would not have been raised) withdraws its
    # observation: the alert built on it is retracted in turn.
    from watchfloor.stream_processors.engine.compose import compose

    engine = engine_for(COMPOSED)
    state = engine.initial_state()
    out: list[Detection | Retraction] = []
    for d in (
        doc("Alphaland closed the border.", at=0, doc_id="a"),
        doc("Betastan closed the border.", at=5, doc_id="b"),
    ):
        state, outs = engine.process_document(state, d)
        out += [o for o in outs if isinstance(o, Detection | Retraction)]
    alpha = next(
        o for o in out if isinstance(o, Detection) and o.rule == "plain-closure" and o.group == {"country": "A"}
    )
    both = next(o for o in out if isinstance(o, Detection) and o.rule == "both-closed")
    retraction = Retraction(
        alert_id=alpha.id, rule="plain-closure", group={"country": "A"}, reason="test", revision=1, at=alpha.fired_at
    )
    got = compose(engine.correlator, state, [retraction])
    assert got[0] is retraction
    assert [(type(o).__name__, getattr(o, "alert_id", None)) for o in got[1:]] == [("Retraction", both.id)]
    # Fed again, the same alert makes the derived alert again (a new event: it was withdrawn).
    again = compose(engine.correlator, state, [alpha])
    assert [o.rule for o in again[1:] if isinstance(o, Detection)] == ["both-closed"]


def test_composition_errors(tmp_path: Path) -> None:
    base = COMPOSED
    text = Path(base).read_text(encoding="utf-8")
    cases = {
        "unknown": (
            "pattern: {any: {detection: still-closed}}",
            "pattern: {any: {detection: nope}}",
            "unknown detection 'nope'",
        ),
        "own": (
            "pattern: {any: {detection: still-closed}}",
            "pattern: {any: {detection: still-closed-alert}}",
            "cannot take its own alerts",
        ),
        "where": (
            "{detection: plain-closure, where: {country: A}}",
            "{detection: plain-closure, where: {port: A}}",
            "groups by no 'port'",
        ),
        "both": (
            "pattern: {any: {detection: still-closed}}",
            "pattern: {any: {detection: still-closed, signal: closed}}",
            "either a signal or a detection",
        ),
    }
    for name, (old, new, message) in cases.items():
        p = tmp_path / f"{name}.yaml"
        assert old in text, name
        p.write_text(text.replace(old, new, 1), encoding="utf-8")
        try:
            load_rules([str(p)])
        except RuleLoadError as e:
            assert message in str(e), (name, str(e))
        else:
            raise AssertionError(f"{name}: no error")
    # A circle of detections.
    loop = text.replace(
        "  - id: closure-confirmed\n",
        "  - id: loop-a\n    title: a\n    pattern: {any: {detection: loop-b}}\n"
        "  - id: loop-b\n    title: b\n    pattern: {any: {detection: loop-a}}\n  - id: closure-confirmed\n",
    )
    p = tmp_path / "loop.yaml"
    p.write_text(loop, encoding="utf-8")
    try:
        load_rules([str(p)])
    except RuleLoadError as e:
        assert "feed each other" in str(e)
    else:
        raise AssertionError("no error for a loop")


def test_a_partition_correlator_runs_composed_packs_given_the_correlate_partitions() -> None:
    import pytest

    from watchfloor.stream_processors.kafka.partition import PartitionCorrelator

    with pytest.raises(ValueError, match="detections over detections need the number of correlate partitions"):
        PartitionCorrelator(engine_for(COMPOSED), 3)
    with pytest.raises(ValueError, match="'still-closed-alert' needs one correlator state per level"):
        PartitionCorrelator(engine_for(COMPOSED), 3, correlate_partitions=3, levels=False)
    assert PartitionCorrelator(engine_for(COMPOSED), 3, correlate_partitions=3).levels  # (over an absence's alerts)
    workers = str(DATA / "rules" / "composed_workers.yaml")  # the same without it
    assert PartitionCorrelator(engine_for(workers), 3, correlate_partitions=3).composes


def test_alerts_raised_by_a_sweep_feed_derived_detections() -> None:
    # An absence fires when event time passes its window (a sweep, not a signal): its derived alert follows.
    out = run(doc("Alphaland closed the border.", at=0, doc_id="c"), until=100)
    assert rules(out)[-2:] == ["still-closed", "still-closed-alert"]


def test_a_group_key_an_input_detection_does_not_carry_says_what_it_carries(tmp_path: Path) -> None:
    # Audit F8: a detection over another detection's alerts grouped by a key those alerts do not carry was told to
    # "add it under the signal's 'capture'": its input is a detection, whose alerts carry their group keys only.
    text = Path(COMPOSED).read_text(encoding="utf-8")

    def problem(new_text: str) -> str:
        p = tmp_path / "pack.yaml"
        p.write_text(new_text, encoding="utf-8")
        try:
            load_rules([str(p)])
        except RuleLoadError as e:
            return str(e)
        raise AssertionError("no error")

    old = "    pattern: {any: {detection: closure, confidence: confirmed}}\n    group_by: [country]\n"
    assert old in text
    # Its input groups by country only, and its signals capture no port: group the input by it (and capture it).
    got = problem(text.replace(old, old.replace("[country]", "[port]")))
    assert "group_by 'port': the alerts of detection 'closure' carry its group keys only, 'country'" in got, got
    assert "group 'closure' by 'port' (its signals must capture it too)" in got, got
    assert "or group this detection by 'country' or 'source'" in got, got
    assert "under the signal's 'capture'" not in got, got
    # An input without group_by, whose signals capture the key: group the input by it.
    ungrouped = text.replace(
        '  - id: plain-closure\n    title: "{country} closed its border"\n    pattern: {any: closed}\n'
        "    group_by: [country]\n",
        '  - id: plain-closure\n    title: "a border closed"\n    pattern: {any: closed}\n',
    ).replace(
        "        - {detection: plain-closure, where: {country: A}}\n"
        "        - {detection: plain-closure, where: {country: B}}\n",
        "        - {detection: plain-closure}\n        - {detection: closure}\n",
    ) + (
        '  - id: closures-by-country\n    title: "{country}: closures"\n'
        "    pattern: {any: {detection: plain-closure}}\n    group_by: [country]\n"
    )
    got = problem(ungrouped)
    assert "group_by 'country': the alerts of detection 'plain-closure' carry no group keys (it has no group_by)" in got
    assert "add 'country' to the group_by of 'plain-closure' (its signals capture it)" in got, got
    assert "or group this detection by 'source'" in got, got
    # A signal input still says to capture it.
    got = problem(
        text.replace(
            "    pattern: {any: closed}\n    group_by: [country]\n",
            "    pattern: {any: closed}\n    group_by: [port]\n",
            1,
        )
    )
    assert "signal 'closed' captures no 'port' (add it under the signal's 'capture', or group by 'source')" in got
    # Over a detection that is itself over detections: its inputs must group by the key in turn.
    got = problem(
        text + '  - id: lasting\n    title: "{port}: lasts"\n    pattern: {any: {detection: still-closed-alert}}\n'
        "    group_by: [port]\n"
    )
    assert "group 'still-closed-alert' by 'port' (its input detections must group by it too)" in got, got
