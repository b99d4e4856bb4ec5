"""Detections over an absence's alerts and chains of detections over detections, one watermark per level of
derivation (stream_processors.kafka.partition, `levels=True`), without a broker.

The topology of test_partition_compose (random interleavings, re-sent records, a JSON round trip of the state after
every record), each correlate partition forwarding the low of each level below the top (`to_forward_levels`): the
alerts that stand equal the embedded runner's for `composed.yaml` (an `any` over an absence), an `all_of` and a
`sequence` over the absence, and a chain of three levels. With one forwarded watermark for every level (the bound
before, kept in `Mutant`) they do not.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from watchfloor.schemas.events import Detection, Document, Event, Retraction, detection_event, retraction_event
from watchfloor.stream_processors.current import current_alerts
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.kafka.codec import WATERMARK
from watchfloor.stream_processors.kafka.partition import FROM_CORRELATE, PartitionCorrelator, forwarded_watermark

from .engine_helpers import DATA, T0, doc
from .test_partition_compose import N, documents, documents_queues, embedded, engine, key, part

COMPOSED = DATA / "rules" / "composed.yaml"  # with `still-closed-alert`: an `any` over an absence's alerts
OVER_ABSENCE = """
version: 2
name: over-absence
settings: {lateness: 2d}
detections:
  - id: lasting-then-reopened
    title: "{country} reopened after a lasting closure"
    pattern: {sequence: [{detection: still-closed}, reopened]}
    group_by: [country]
    within: 3d
  - id: both-lasting
    title: both closures last
    severity: high
    pattern:
      all_of:
        - {detection: still-closed, where: {country: A}}
        - {detection: still-closed, where: {country: B}}
    within: 3d
"""
CHAIN = """
version: 2
name: chain
settings: {lateness: 2d}
detections:
  - id: both-closed-again
    title: both borders closed, then one again
    pattern: {sequence: [{detection: both-closed}, {detection: plain-closure}]}
    within: 3d
  - id: lasting-both
    title: a lasting closure while both are closed
    pattern: {all_of: [{detection: still-closed-alert}, {detection: both-closed-again}]}
    within: 4d
"""


class Mutant(PartitionCorrelator):
    """The bound before: every level above the documents' no further than the level 0 lows forwarded (one forwarded
    watermark for all levels), as the workers bound detections over detections."""

    def level_lows(self, st: dict[str, Any], partition: int = 0) -> list[float | None]:
        lows = super().level_lows(st, partition)
        told = [v[0] for p, v in st["src"].items() if p.startswith(FROM_CORRELATE) and "/" not in p]
        cand = lows[0]
        if cand is not None and (len(told) < self.correlate_partitions or None in told):
            cand = None
        elif cand is not None:
            cand = min(cand, *told)
        applied = st.get("lows", {})
        above = [applied.get(str(k)) for k in range(1, self.top + 1)]
        return [lows[0]] + [was if cand is None else max(cand, was if was is not None else cand) for was in above]


def run_levels(
    eng: Engine, pc: PartitionCorrelator, docs: list[Document], seed: int, hold: bool = True
) -> list[Detection]:
    """The alerts that stand after the partitions took their input in one random interleaving. `hold=False`: the
    alert changes are sent without the step their partition had swept when it raised them (`stamp_of`)."""
    rng = random.Random(seed)
    inbox = documents_queues(eng, docs)
    raw = {c: orjson.dumps(pc.new_state()) for c in range(N)}
    history: dict[int, list[Detection | Retraction]] = {c: [] for c in range(N)}
    offset = dict.fromkeys(range(N), 0)
    while True:
        ready = [(c, u) for c in range(N) for u, q in inbox[c].items() if q]
        if not ready:
            break
        c, u = rng.choice(ready)
        ev, origin, *stamp = inbox[c][u].popleft()
        if rng.random() < 0.15:
            inbox[c][u].appendleft((ev, origin, *stamp))  # delivered again (at least once): the state must drop it
        at = offset[c]
        offset[c] += 1
        st: dict[str, Any] = pc.restore(orjson.loads(raw[c]))
        if ev.type == WATERMARK:
            outs = pc.on_watermark(st, ev, c)
        elif u[0] == "c":
            outs = pc.on_alert(st, ev, origin, swept=stamp[0] if hold else None)
        else:
            outs = pc.on_signal(st, ev, origin)
        for k, o in enumerate(outs):
            if not isinstance(o, Detection | Retraction):
                continue
            history[c].append(o)
            dev = detection_event(o) if isinstance(o, Detection) else retraction_event(o)
            for j, (_det, gkey) in enumerate(pc.alert_routes(o)):
                routed = Event(id=dev.id, type=dev.type, time=dev.time, key=gkey, payload=dev.payload)
                inbox[part(gkey)][("c", c)].append((routed, [c, at, k, j], pc.stamp_of(o)))  # type: ignore[arg-type]
        for level, told in pc.to_forward_levels(st):
            for target in range(N):
                inbox[target][("c", c)].append((forwarded_watermark(c, told, level), None))
        raw[c] = orjson.dumps(st)
    standing: list[Detection] = []
    for c in range(N):
        standing += current_alerts(history[c]).values()
    return standing


def packs(tmp_path: Path) -> list[str]:
    over, chain = tmp_path / "over.yaml", tmp_path / "chain.yaml"
    over.write_text(OVER_ABSENCE, encoding="utf-8")
    chain.write_text(CHAIN, encoding="utf-8")
    return [str(COMPOSED), str(over), str(chain)]


@pytest.mark.parametrize("seed", range(6))
def test_any_arrival_order_gives_the_embedded_alerts_over_absences_and_chains(seed: int, tmp_path: Path) -> None:
    specs = packs(tmp_path)
    docs = documents(seed)
    want = sorted(map(key, embedded(specs, docs)))
    rules = {k[1] for k in want}
    assert {"still-closed-alert", "both-closed", "both-closed-again"} <= rules, rules
    eng = engine(specs)
    pc = PartitionCorrelator(eng, N, correlate_partitions=N, levels=True)
    assert pc.top == 3
    for run in range(3):
        assert sorted(map(key, run_levels(eng, pc, docs, seed * 10 + run))) == want


def differing_runs(specs: list[str], pc: PartitionCorrelator) -> int:
    differed = 0
    for seed in range(6):
        docs = documents(seed)
        want = sorted(map(key, embedded(specs, docs)))
        differed += sum(sorted(map(key, run_levels(pc.engine, pc, docs, seed * 10 + r))) != want for r in range(3))
    return differed


def test_one_forwarded_watermark_for_every_level_gives_other_alerts(tmp_path: Path) -> None:
    """The mutation removing the per-level bound: most interleavings differ from the embedded runner (15 of 18)."""
    specs = packs(tmp_path)
    assert differing_runs(specs, Mutant(engine(specs), N, correlate_partitions=N, levels=True)) > 0


def edge_documents(alphaland_at: float = 72.0) -> list[Document]:
    """Betastan's closure lasts from 00:12 on day 0, Alphaland's from 00:00 on day 3: the step at which Alphaland's
    absence alert is raised is the one whose sweep drops Betastan's from `both-lasting` (a 3-day window)."""
    docs = [
        doc("Betastan closed the border, officials said.", at=0.2, doc_id="x"),
        doc("Alphaland closed the border, officials said.", at=alphaland_at, doc_id="y"),
    ]
    docs += [doc(f"Weather report number {i}.", at=1 + i * 1.5, doc_id=f"f{i}") for i in range(140)]
    return sorted(docs, key=lambda d: d.published_at)


def test_an_alert_fed_before_its_step_was_swept_here_gives_other_alerts(tmp_path: Path) -> None:
    """The mutation feeding an alert change on arrival, not after this level's sweep of the step its partition had
    swept when it raised it (`stamp_of`): the derived group still holds the observation `watchfloor run` had
    dropped at that step, and pairs with it."""
    specs = packs(tmp_path)
    pc = PartitionCorrelator(engine(specs), N, correlate_partitions=N, levels=True)
    docs = edge_documents()
    want = sorted(map(key, embedded(specs, docs)))
    assert "both-lasting" not in {k[1] for k in want}
    for run in range(4):
        assert sorted(map(key, run_levels(pc.engine, pc, docs, run))) == want
    assert sum(sorted(map(key, run_levels(pc.engine, pc, docs, run, hold=False))) != want for run in range(4)) > 0


def standing_after(eng: Engine, docs: list[Document], hours: list[float]) -> list[tuple[Any, ...]]:
    """The alerts that stand after the documents' signals, then the watermark moved to each of `hours` in turn."""
    cs = Engine.initial_state()
    outs: list[Detection | Retraction] = []
    for d in docs:
        for sig in eng.extract(d):
            outs += eng.correlator.on_signal(cs, sig, at=d.published_at.timestamp())
    for h in hours:
        outs += eng.correlator.advance_to(cs, (T0 + timedelta(hours=h)).timestamp())
    return sorted(map(key, current_alerts(outs).values()))


@pytest.mark.parametrize("step_sweeps", [True, False])
def test_over_an_absence_one_state_gives_the_same_alerts_whatever_steps_its_watermark_jumps(
    tmp_path: Path, step_sweeps: bool
) -> None:
    """An absence's alert is raised at the first step past its window, and fed on after that step's sweep of the
    groups over it, also when the watermark jumped past that step (`Correlator.step_sweeps`): the alerts are those
    of a watermark moved an hour at a time. Swept once at the step it lands in, Betastan's lasting closure was
    dropped from `both-lasting` before Alphaland's, raised by the same sweep, was fed on."""
    eng = engine(packs(tmp_path))
    eng.correlator.step_sweeps = step_sweeps
    docs = [d for d in edge_documents(alphaland_at=70.0) if d.id in ("x", "y")]
    hourly = standing_after(eng, docs, [float(h) for h in range(200)])
    assert "both-lasting" in {k[1] for k in hourly}
    # Betastan's absence alert raised (its window passed at hour 64), then a jump past the step that raises Alphaland's
    assert (standing_after(eng, docs, [80.0, 199.0]) == hourly) is step_sweeps


MASSED = DATA / "rules" / "massed.yaml"  # beside COMPOSED: a detection over its absence's alerts and another's


def first_jump_documents() -> list[Document]:
    """Troops massed at 00:00 on day 0, Alphaland's closure from day 3 (its absence alert 12 h later), and a report
    on day 7.5 that moves the watermark past the troops' alert's window (5 d) and the lateness (2 d)."""
    return [
        doc("Troops massed near the frontier.", at=0.0, doc_id="m"),
        doc("Alphaland closed the border, officials said.", at=72.0, doc_id="y"),
        doc("A quiet day of weather.", at=180.0, doc_id="w"),
    ]


def test_a_first_jump_of_the_watermark_meets_the_alerts_a_step_by_step_replay_meets(tmp_path: Path) -> None:
    """Outside trial 84, F3: a state never swept was swept once at the watermark's first jump, dropping the troops'
    alert from `closed-while-massed` in the sweep that raised the absence's alert it waits for (a first batch of
    `watchfloor run`, a first worker batch). It is swept from its first step with anything to do now."""
    specs = [str(COMPOSED), str(MASSED)]
    eng = engine(specs)
    docs = first_jump_documents()
    want = sorted(map(key, embedded(specs, docs)))  # document by document
    assert "closed-while-massed" in {k[1] for k in want}, want
    assert standing_after(eng, docs, [180.0]) == want  # every signal first, then one jump
    pc = PartitionCorrelator(eng, N, correlate_partitions=N, levels=True)
    for run in range(4):
        assert sorted(map(key, run_levels(eng, pc, docs, run))) == want
