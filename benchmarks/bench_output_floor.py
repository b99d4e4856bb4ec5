"""The output floor of issue 12's scale targets: what building the engine's outputs alone costs per article."""

# Usage (WATCHFLOOR_DATA=/work/shared/data; one benchmark at a time under flock /tmp/wf-bench.lock):
#
#     .venv/bin/python benchmarks/bench_output_floor.py --items 3000 --json /tmp/output_floor.json
#     .venv/bin/python benchmarks/bench_output_floor.py --with-e          # also 100,000 rules (~1 GB, slow)
#
# Same documents and generated packs as bench_engine.py: (a) the bundled pack, (b) bundled + 1,000 rules,
# (d) bundled + 10,000 (and (e) + 100,000). Per run, CPU µs per article (time.process_time, median of reps,
# interleaved):
#   engine   Engine.process_document over the documents, as bench_engine.py times it;
#   floor    the same run's Signals and Detections built again and nothing else, as the engine builds
#            them: a Signal from a 14-field dict by trusted_maker with its SHA-256 id (extract.py), a
#            Detection by evidence.build_detection (its id, attributes, title, Evidence models), from field
#            values captured in an untimed first run (the evidence records as the correlator keeps them);
#   observed floor, and for each signal that feeds a detection the record the correlator keeps of it (its
#            evidence record by evidence.EvidenceOf, and the observation item): state, not output, but
#            made once per hit whatever the rules do with it;
#   ids      only the ids of those outputs (SHA-256, as above);
#   mirror   the same outputs built by this file's own copy of build_detection with the same pydantic
#            models: the like-for-like baseline of the two lighter representations below (in a native build,
#            build_detection is compiled and the copy is not);
#   slots    the same fields as slotted dataclasses, the same SHA-256 ids;
#   tuple    the same fields as plain tuples, ids by BLAKE2b over the same bytes (as many hex digits as
#            the SHA-256 ids keep).
# Bounds on the target ratio (d)/(b) (and (e)/(b)), each an upper bound under its assumption:
#   outputs only   floor_b / floor_d: everything but the outputs free at both scales;
#   F              (F + floor_b) / (F + floor_d), F = (a)'s engine time: a per-article cost that does not
#                  grow with the rules (the bundled pack's time), the rest free;
#   keep (b)       engine_b / (engine_b - floor_b + floor_d): all of (b)'s non-output work kept as it is
#                  today and none added by 10x the rules (the most generous reading).

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b, sha256
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
import bench_engine as be

from watchfloor.schemas.events import Detection, Document, Retraction, Signal, shown_evidence, stable_id
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.engine.evidence import (
    MAX_EVIDENCE,
    EvidenceOf,
    _make_detection,
    _make_evidence,
    _title_fields,
    build_detection,
)
from watchfloor.stream_processors.engine.extract import signal_maker
from watchfloor.stream_processors.engine.patterns import (
    E_CAPTURES,
    E_ID,
    E_MODALITY,
    E_PLACES,
    E_PUBLISHED,
    E_SENTENCE,
    E_SIGNAL,
    E_SOURCE,
    E_URL,
    EvidenceRecord,
)
from watchfloor.stream_processors.rulefile import load_rules

TARGETS = {"d": 0.40, "e": 0.10}
VARIANTS = ("engine", "floor", "observed", "ids", "mirror", "slots", "tuple")


# ---------------------------------------------------------------------------------------------------
# The lighter representations: the same fields, no pydantic.
@dataclass(slots=True)
class LightSignal:
    id: str
    name: str
    document_id: str
    source: str
    url: str | None
    published_at: datetime
    sentence: str
    sentence_index: int
    modality: str
    cue: str | None
    entities: tuple[str, ...]
    places: tuple[str, ...]
    captures: dict[str, str]
    story: str | None


@dataclass(slots=True)
class LightEvidence:
    event_id: str
    signal: str
    source: str
    url: str | None
    published_at: datetime
    sentence: str
    modality: str


@dataclass(slots=True)
class LightDetection:
    id: str
    rule: str
    title: str
    severity: str
    tags: tuple[str, ...]
    group: dict[str, str]
    fired_at: datetime
    confidence: str | None
    attributes: dict[str, list[str]]
    evidence: tuple[Any, ...]
    description: str
    revises: str | None
    revision: int
    evidence_total: int


def blake_id(*parts: str, length: int = 24) -> str:
    """stable_id's bytes hashed by BLAKE2b: `length` hex digits, as many as the SHA-256 ids keep."""
    return blake2b("\x1f".join(parts).encode("utf-8"), digest_size=length // 2).hexdigest()


# A signal's captured fields: (document_id, name, source, url, published_at, sentence, sentence_index,
# modality, cue, entities, places, captures, story, its timestamp, whether it feeds a detection); a detection's:
# build_detection's arguments.
SigRec = tuple[Any, ...]
DetRec = tuple[Any, ...]
DocRecs = tuple[list[SigRec], list[DetRec]]


def mirror_detection(
    names: dict[str, str],
    det: Any,
    plan: Any,
    group: dict[str, str],
    fired_at: datetime,
    severity: str,
    confidence: str | None,
    evidence: list[EvidenceRecord],
    own: int | None,
    kind: str,
) -> Any:
    """evidence.build_detection, step for step, with the outputs made as `kind`: pydantic (as the engine),
    slotted dataclasses, or tuples (those with BLAKE2b ids)."""
    everything = [e[E_ID] for e in evidence]
    total = len(everything)
    if total > 1:
        everything.sort()
        if total > MAX_EVIDENCE:
            evidence = shown_evidence(evidence, MAX_EVIDENCE, own)
    attributes: dict[str, list[str]] = {}
    for e in evidence:
        captured = e[E_CAPTURES]
        if captured:
            for cname, value in zip(captured[::2], captured[1::2], strict=True):
                if cname not in group:
                    seen = attributes.setdefault(cname, [])
                    if value not in seen:
                        seen.append(value)
        if e[E_PLACES]:
            seen = attributes.setdefault("place", [])
            for p in e[E_PLACES]:
                if p not in seen:
                    seen.append(p)
    title = plan.title
    if title is None:
        title = det.definition.title.format_map(_title_fields(names, det, group, attributes))
    gkey = "|".join(f"{k}={v}" for k, v in group.items()) if group else ""
    attrs = {k: [names.get(v, v) for v in vals] for k, vals in attributes.items()} if attributes else {}
    if kind == "tuple":
        return (
            blake_id(det.id, gkey, *everything, length=20),
            det.id,
            title,
            severity,
            plan.tags,
            dict(group),
            fired_at,
            confidence,
            attrs,
            tuple(
                [
                    (
                        e[E_ID],
                        e[E_SIGNAL],
                        e[E_SOURCE],
                        e[E_URL],
                        datetime.fromisoformat(e[E_PUBLISHED]),
                        e[E_SENTENCE],
                        e[E_MODALITY],
                    )
                    for e in evidence
                ]
            ),
            det.definition.description,
            None,
            0,
            total,
        )
    alert_id = stable_id(det.id, gkey, *everything, length=20)
    if kind == "slots":
        return LightDetection(
            alert_id,
            det.id,
            title,
            severity,
            plan.tags,
            dict(group),
            fired_at,
            confidence,
            attrs,
            tuple(
                [
                    LightEvidence(
                        e[E_ID],
                        e[E_SIGNAL],
                        e[E_SOURCE],
                        e[E_URL],
                        datetime.fromisoformat(e[E_PUBLISHED]),
                        e[E_SENTENCE],
                        e[E_MODALITY],
                    )
                    for e in evidence
                ]
            ),
            det.definition.description,
            None,
            0,
            total,
        )
    return _make_detection(
        {
            "id": alert_id,
            "rule": det.id,
            "title": title,
            "severity": severity,
            "tags": plan.tags,
            "group": dict(group),
            "fired_at": fired_at,
            "confidence": confidence,
            "attributes": attrs,
            "evidence": tuple(
                [
                    _make_evidence(
                        {
                            "event_id": e[E_ID],
                            "signal": e[E_SIGNAL],
                            "source": e[E_SOURCE],
                            "url": e[E_URL],
                            "published_at": datetime.fromisoformat(e[E_PUBLISHED]),
                            "sentence": e[E_SENTENCE],
                            "modality": e[E_MODALITY],
                        }
                    )
                    for e in evidence
                ]
            ),
            "description": det.definition.description,
            "revises": None,
            "revision": 0,
            "evidence_total": total,
        }
    )


# ---------------------------------------------------------------------------------------------------
def capture(engine: Engine, docs: list[Document]) -> tuple[list[DocRecs], dict[str, Any]]:
    """One untimed run of the engine: per document, the field values of its signals and the arguments that
    rebuild its detections; and how many of them the floor rebuilds identically (checked here, once)."""
    corr = engine.correlator
    names = engine.rules.entity_names
    routed = engine.rules.detections_by_signal
    make_signal = signal_maker()
    evidence_of = EvidenceOf()
    # The correlator's evidence record of each signal, by what a Detection's Evidence names of it.
    records: dict[tuple[str, str, str], EvidenceRecord] = {}
    per_doc: list[DocRecs] = []
    counts = {"signals": 0, "detections": 0, "retractions": 0, "other": 0, "same_signals": 0, "same_detections": 0}
    state = engine.initial_state()
    for doc in docs:
        state, outs = engine.process_document(state, doc)
        sigs: list[SigRec] = []
        dets: list[DetRec] = []
        for o in outs:
            if isinstance(o, Signal):
                counts["signals"] += 1
                sigs.append(
                    (
                        o.document_id,
                        o.name,
                        o.source,
                        o.url,
                        o.published_at,
                        o.sentence,
                        o.sentence_index,
                        o.modality,
                        o.cue,
                        o.entities,
                        o.places,
                        o.captures,
                        o.story,
                        o.published_at.timestamp(),
                        o.name in routed,
                    )
                )
                ts = o.published_at.timestamp()
                records.setdefault((o.document_id, o.name, o.sentence), evidence_of(o, ts, ts))
                again = _signal(make_signal, sigs[-1])
                counts["same_signals"] += again == o
            elif isinstance(o, Detection):
                counts["detections"] += 1
                evidence = [
                    records.get((e.event_id, e.signal, e.sentence))
                    or (  # not a signal's (a detection over detections): as the Evidence says
                        e.event_id,
                        e.signal,
                        e.source,
                        e.url,
                        e.published_at.isoformat(),
                        e.sentence,
                        e.modality,
                        (),
                        (),
                        None,
                        None,
                    )
                    for e in o.evidence
                ]
                det = corr.by_id[o.rule]
                rec = (names, det, corr.plans[o.rule], dict(o.group), o.fired_at, o.severity, o.confidence, evidence)
                dets.append(rec)
                counts["same_detections"] += build_detection(*rec) == o
            elif isinstance(o, Retraction):
                counts["retractions"] += 1
            else:
                counts["other"] += 1
        per_doc.append((sigs, dets))
    return per_doc, counts


def _signal(make: Callable[[dict[str, Any]], Signal], r: SigRec) -> Signal:
    """A Signal as extract.py makes one (the same dict, the same id)."""
    doc_id, name, index = r[0], r[1], r[6]
    return make(
        {
            "id": sha256(f"{doc_id}\x1f{name}\x1f{index}".encode()).hexdigest()[:24],
            "name": name,
            "document_id": doc_id,
            "source": r[2],
            "url": r[3],
            "published_at": r[4],
            "sentence": r[5],
            "sentence_index": index,
            "modality": r[7],
            "cue": r[8],
            "entities": r[9],
            "places": r[10],
            "captures": r[11],
            "story": r[12],
        }
    )


def floor_loops(per_doc: list[DocRecs]) -> dict[str, Callable[[Callable[[int], None]], None]]:
    """The timed loops over the captured outputs, by variant; each takes a progress callback."""
    make_signal = signal_maker()

    def floor(adv: Callable[[int], None]) -> None:
        make = make_signal
        for i, (sigs, dets) in enumerate(per_doc):
            outputs: list[Any] = []
            for r in sigs:
                doc_id, name, index = r[0], r[1], r[6]
                outputs.append(
                    make(
                        {
                            "id": sha256(f"{doc_id}\x1f{name}\x1f{index}".encode()).hexdigest()[:24],
                            "name": name,
                            "document_id": doc_id,
                            "source": r[2],
                            "url": r[3],
                            "published_at": r[4],
                            "sentence": r[5],
                            "sentence_index": index,
                            "modality": r[7],
                            "cue": r[8],
                            "entities": r[9],
                            "places": r[10],
                            "captures": r[11],
                            "story": r[12],
                        }
                    )
                )
            for d in dets:
                outputs.append(build_detection(*d))
            if i % 1000 == 999:
                adv(1000)

    def observed(adv: Callable[[int], None]) -> None:
        make = make_signal
        evidence_of = EvidenceOf()
        for i, (sigs, dets) in enumerate(per_doc):
            outputs: list[Any] = []
            for r in sigs:
                doc_id, name, index = r[0], r[1], r[6]
                sig = make(
                    {
                        "id": sha256(f"{doc_id}\x1f{name}\x1f{index}".encode()).hexdigest()[:24],
                        "name": name,
                        "document_id": doc_id,
                        "source": r[2],
                        "url": r[3],
                        "published_at": r[4],
                        "sentence": r[5],
                        "sentence_index": index,
                        "modality": r[7],
                        "cue": r[8],
                        "entities": r[9],
                        "places": r[10],
                        "captures": r[11],
                        "story": r[12],
                    }
                )
                outputs.append(sig)
                if r[14]:  # as Correlator.on_signal: the evidence record once, an item per observation
                    t = r[13]
                    ev = evidence_of(sig, t, t)
                    outputs.append((t, doc_id, index, name, 0, sig.source, ev, 0))
            for d in dets:
                outputs.append(build_detection(*d))
            if i % 1000 == 999:
                adv(1000)

    def ids(adv: Callable[[int], None]) -> None:
        for i, (sigs, dets) in enumerate(per_doc):
            outputs: list[Any] = []
            for r in sigs:
                outputs.append(sha256(f"{r[0]}\x1f{r[1]}\x1f{r[6]}".encode()).hexdigest()[:24])
            for d in dets:
                group, evidence = d[3], d[7]
                everything = sorted(e[E_ID] for e in evidence)
                gkey = "|".join(f"{k}={v}" for k, v in group.items()) if group else ""
                outputs.append(stable_id(d[1].id, gkey, *everything, length=20))
            if i % 1000 == 999:
                adv(1000)

    def mirror(adv: Callable[[int], None]) -> None:
        make = make_signal
        for i, (sigs, dets) in enumerate(per_doc):
            outputs: list[Any] = []
            for r in sigs:
                doc_id, name, index = r[0], r[1], r[6]
                outputs.append(
                    make(
                        {
                            "id": sha256(f"{doc_id}\x1f{name}\x1f{index}".encode()).hexdigest()[:24],
                            "name": name,
                            "document_id": doc_id,
                            "source": r[2],
                            "url": r[3],
                            "published_at": r[4],
                            "sentence": r[5],
                            "sentence_index": index,
                            "modality": r[7],
                            "cue": r[8],
                            "entities": r[9],
                            "places": r[10],
                            "captures": r[11],
                            "story": r[12],
                        }
                    )
                )
            for d in dets:
                outputs.append(mirror_detection(*d, None, "pydantic"))
            if i % 1000 == 999:
                adv(1000)

    def slots(adv: Callable[[int], None]) -> None:
        for i, (sigs, dets) in enumerate(per_doc):
            outputs: list[Any] = []
            for r in sigs:
                doc_id, name, index = r[0], r[1], r[6]
                outputs.append(
                    LightSignal(
                        sha256(f"{doc_id}\x1f{name}\x1f{index}".encode()).hexdigest()[:24],
                        name,
                        doc_id,
                        r[2],
                        r[3],
                        r[4],
                        r[5],
                        index,
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                        r[11],
                        r[12],
                    )
                )
            for d in dets:
                outputs.append(mirror_detection(*d, None, "slots"))
            if i % 1000 == 999:
                adv(1000)

    def tuples(adv: Callable[[int], None]) -> None:
        for i, (sigs, dets) in enumerate(per_doc):
            outputs: list[Any] = []
            for r in sigs:
                doc_id, name, index = r[0], r[1], r[6]
                outputs.append(
                    (
                        blake2b(f"{doc_id}\x1f{name}\x1f{index}".encode(), digest_size=12).hexdigest(),
                        name,
                        doc_id,
                        r[2],
                        r[3],
                        r[4],
                        r[5],
                        index,
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                        r[11],
                        r[12],
                    )
                )
            for d in dets:
                outputs.append(mirror_detection(*d, None, "tuple"))
            if i % 1000 == 999:
                adv(1000)

    return {"floor": floor, "observed": observed, "ids": ids, "mirror": mirror, "slots": slots, "tuple": tuples}


# ---------------------------------------------------------------------------------------------------
def bounds(R: dict[str, Any], key: str, goal: float, variant: str = "floor") -> dict[str, float]:
    """The ratio key/(b) measured, and its upper bounds with the outputs built as `variant` (see the top);
    and the room the target leaves for everything but the outputs at `key`, against that work today."""
    a, b, x = R["a"]["us"], R["b"]["us"], R[key]["us"]
    fa, fb, fx = a[variant], b[variant], x[variant]
    # With a lighter representation, the engine's own time would fall by what the outputs save ("observed"
    # is the engine's own representation, with more of its per-hit work counted).
    base = "observed" if variant == "observed" else "floor"
    eb = b["engine"] - b[base] + fb
    ea = a["engine"] - a[base] + fa
    return {
        "measured": b["engine"] / x["engine"],
        "outputs_only": fb / fx,
        "F": (ea + fb) / (ea + fx),
        "F_without_a_outputs": (ea - fa + fb) / (ea - fa + fx),
        "keep_b": eb / (eb - fb + fx),
        "other_work_allowed_us": eb / goal - fx,
        "other_work_b_us": eb - fb,
        "other_work_now_us": x["engine"] - x[base],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=3000, help="first N items of 2023 in event-time order")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of every measurement (median reported)")
    ap.add_argument("--with-e", action="store_true", help="also (e): bundled + 100,000 rules (~10 s compile, ~1 GB)")
    ap.add_argument("--e-reps", type=int, default=1, help="repetitions of (e)'s engine run")
    ap.add_argument("--seed", type=int, default=2023)
    ap.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() after the untimed set-up: the collector then never walks the captured outputs (nor the "
        "compiled rules) during the timed loops",
    )
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    console = c.console
    console.print(
        f"[bold]bench_output_floor[/bold]: {args.items:,} items, engine {c.engine_kind()}, reps {args.reps}"
        + (", collector frozen after set-up" if args.freeze else ""),
        highlight=False,
    )
    scales = {"a": 0, "b": 1000, "d": 10_000}
    if args.with_e:
        scales["e"] = 100_000
    with console.status("loading documents and generating rules (not timed)"):
        docs, vocab_docs = be.load_documents(args.items, 20_000)
        rules = be.generate_rules(vocab_docs, max(scales.values()), 4, args.seed)
    n = len(docs)
    tmp = Path(tempfile.mkdtemp(prefix="watchfloor-output-floor-"))
    engines: dict[str, Engine] = {}
    loops: dict[str, dict[str, Callable[[Callable[[int], None]], None]]] = {}
    R: dict[str, Any] = {}
    for key, k in scales.items():
        with console.status(f"({key}) compiling {k:,} generated rules and capturing the outputs (not timed)"):
            sources = ["builtin:dprk_russia"]
            if k:
                path = tmp / f"{key}.json"
                be.write_pack(rules[:k], path)
                sources.append(str(path))
            _loaded, compiled = load_rules(sources)
            engines[key] = Engine(compiled)
            per_doc, counts = capture(engines[key], docs)
            loops[key] = floor_loops(per_doc)
        R[key] = {"rules": k, **counts, "samples": {v: [] for v in VARIANTS}}
        console.print(f"({key}) {k:,} rules: {counts}", highlight=False)

    if args.freeze:
        gc.collect()
        gc.freeze()

    def engine_loop(e: Engine) -> Callable[[Callable[[int], None]], None]:
        def run(adv: Callable[[int], None]) -> None:
            be.run_engine(e, docs, adv)

        return run

    with c.progress() as prog:
        for rep in range(args.reps):
            for key in scales:
                for v in VARIANTS:
                    if v == "engine" and key == "e" and rep >= args.e_reps:
                        continue
                    fn = engine_loop(engines[key]) if v == "engine" else loops[key][v]
                    task = prog.add_task(f"rep {rep + 1}/{args.reps} ({key}) {v}", total=n)
                    gc.collect()
                    t0 = time.process_time()
                    fn(lambda k, task=task: prog.advance(task, k))
                    R[key]["samples"][v].append((time.process_time() - t0) / n * 1e6)
                    prog.remove_task(task)

    for key in scales:
        r = R[key]
        r["us"] = {v: c.median(r["samples"][v]) for v in VARIANTS}
        r["signals_per_article"] = r["signals"] / n
        r["detections_per_article"] = r["detections"] / n
        r["c_floor_us_per_signal"] = r["us"]["floor"] / r["signals"] * n if r["signals"] else None
        r["c_floor_us_per_output"] = (
            r["us"]["floor"] / (r["signals"] + r["detections"]) * n if r["signals"] + r["detections"] else None
        )
    out: dict[str, Any] = {
        "benchmark": "output_floor",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": c.machine(),
        "items": n,
        "gc_frozen_after_setup": args.freeze,
        "runs": R,
        "bounds": {},
    }
    for key in TARGETS:
        if key in R:
            out["bounds"][key] = {
                "target": TARGETS[key],
                **{v: bounds(R, key, TARGETS[key], v) for v in ("floor", "observed", "slots", "tuple")},
            }

    from rich.table import Table

    show = c.Console(width=170)
    table = Table(title=f"outputs vs engine, CPU µs per article, {n:,} items, engine {c.engine_kind()} (median)")
    for col in ("run", "signals/art", "detections/art", *VARIANTS, "floor/engine", "floor µs/signal"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for key in scales:
        r = R[key]
        us = r["us"]
        table.add_row(
            f"({key}) bundled + {r['rules']:,}" if r["rules"] else "(a) bundled",
            f"{r['signals_per_article']:.2f}",
            f"{r['detections_per_article']:.2f}",
            *(f"{us[v]:,.1f}" for v in VARIANTS),
            f"{us['floor'] / us['engine']:.1%}",
            f"{r['c_floor_us_per_signal']:.2f}" if r["c_floor_us_per_signal"] else "",
        )
    show.print(table)
    for key, bd in out["bounds"].items():
        goal = bd["target"]
        for v in ("floor", "observed", "slots", "tuple"):
            b = bd[v]
            show.print(
                f"({key})/(b) target {goal:.0%}, outputs as {v}: measured {b['measured']:.1%}; upper bounds: "
                f"outputs only {b['outputs_only']:.1%}, F {b['F']:.1%} (F - (a)'s outputs "
                f"{b['F_without_a_outputs']:.1%}), keep (b) {b['keep_b']:.1%} -> "
                f"{'not ruled out' if b['keep_b'] >= goal else 'ruled out'} by the outputs",
                highlight=False,
            )
        for v in ("floor", "observed"):
            b = bd[v]
            show.print(
                f"({key}) at {goal:.0%} of (b), everything but the {v} work may cost "
                f"{b['other_work_allowed_us']:,.1f} µs/article: it costs {b['other_work_b_us']:,.1f} at (b) and "
                f"{b['other_work_now_us']:,.1f} at ({key}) today",
                highlight=False,
            )
    for key in scales:
        r = R[key]
        show.print(
            f"({key}) rebuilt identically: signals {r['same_signals']:,}/{r['signals']:,}, detections "
            f"{r['same_detections']:,}/{r['detections']:,}; retractions {r['retractions']}, other {r['other']}",
            highlight=False,
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
