"""Correlate: signals -> detections over event-time windows, per detection and group. State is plain JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from watchfloor.schemas.events import SEVERITY_RANK, DeadLetter, Detection, Evidence, Severity, Signal, stable_id
from watchfloor.schemas.fast import trusted_maker

from .compiler import CompiledDetection, CompiledRef, CompiledRules

State = dict[str, Any]
"""{"wm": max event time seen (epoch s) or None, "g": {group key: group state}}.

Group state: {"o": [[t, ref index, source, document id, evidence]], "lf": last fired t, "ls": last
severity rank, "p": [[t, evidence]] (absence: firsts still waiting)}. Only JSON types, so the same state
lives in a SQL checkpoint, a Faust table or memory."""

MAX_EVIDENCE = 10
EXPIRY_STEP = 3600.0  # seconds of event time between sweeps of expired windows
SEVERITIES = ("low", "medium", "high", "critical")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_make_evidence = trusted_maker(
    Evidence,
    {
        "event_id": "e",
        "signal": "s",
        "source": "s",
        "url": None,
        "published_at": _EPOCH,
        "sentence": "",
        "modality": "asserted",
    },
)
_make_detection = trusted_maker(
    Detection,
    {
        "id": "i",
        "rule": "r",
        "title": "t",
        "severity": "low",
        "tags": (),
        "group": {},
        "fired_at": _EPOCH,
        "confidence": None,
        "attributes": {},
        "evidence": (),
        "description": "",
        "revises": None,
        "revision": 0,
    },
)


def new_state() -> State:
    return {"wm": None, "g": {}}


def _evidence(sig: Signal) -> dict[str, Any]:
    return {
        "event_id": sig.document_id,
        "signal": sig.name,
        "source": sig.source,
        "url": sig.url,
        "published_at": sig.published_at.isoformat(),
        "sentence": sig.sentence,
        "modality": sig.modality,
        "captures": dict(sig.captures),
        "places": list(sig.places),
    }


def _ref_matches(ref: CompiledRef, sig: Signal) -> bool:
    if ref.signal != sig.name or sig.modality not in ref.modalities:
        return False
    return all(sig.captures.get(k) == v for k, v in ref.where)


def _group_key(detection_id: str, group: dict[str, str]) -> str:
    return detection_id + "\x1f" + "\x1f".join(f"{k}={v}" for k, v in group.items())


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Correlator:
    """Applies detections to signals. Mutates and returns the state it is given; never reads a clock."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.lateness = rules.lateness.total_seconds()
        self._by_id = {d.id: d for d in rules.detections}

    # -- signals -------------------------------------------------------------------------------
    def routes(self, sig: Signal) -> list[tuple[str, str]]:
        """(detection id, group key) pairs this signal feeds: the partitioning key in distributed mode,
        so that everything one detection groups on is correlated in one place."""
        out: list[tuple[str, str]] = []
        for det in self.rules.detections_by_signal.get(sig.name, ()):
            if any(_ref_matches(ref, sig) for ref in det.refs):
                group = self._group(det, sig)
                if group is not None:
                    out.append((det.id, _group_key(det.id, group)))
        return out

    def on_signal(self, state: State, sig: Signal, only: str | None = None) -> list[Detection | DeadLetter]:
        """Correlate one signal. `only` restricts it to one detection id (a partitioned runtime sends
        each (detection, group) to its own partition)."""
        out: list[Detection | DeadLetter] = []
        t = sig.published_at.timestamp()
        wm = state["wm"]
        if wm is not None and t < wm - self.lateness:
            behind = timedelta(seconds=int(wm - t))
            out.append(
                DeadLetter(
                    origin=f"document:{sig.document_id}",
                    reason=(
                        f"late signal {sig.name!r}: published {sig.published_at.isoformat()}, {behind} behind the "
                        f"newest event; allowed lateness is {self.rules.lateness}"
                    ),
                    raw=sig.sentence[:500],
                    stage="correlate",
                )
            )
            return out
        for det in self.rules.detections_by_signal.get(sig.name, ()):
            if only is not None and det.id != only:
                continue
            for ri, ref in enumerate(det.refs):
                if not _ref_matches(ref, sig):
                    continue
                group = self._group(det, sig)
                if group is None:
                    continue
                fired = self._observe(state, det, group, ri, sig, t)
                if fired is not None:
                    out.append(fired)
        if wm is None or t > wm:
            state["wm"] = t
            out.extend(self._maybe_expire(state))
        return out

    def advance(self, state: State, until: datetime) -> list[Detection | DeadLetter]:
        """Move the watermark forward without a signal (end of a replay, or a quiet clock tick)."""
        t = until.timestamp()
        if state["wm"] is None or t > state["wm"]:
            state["wm"] = t
        return list(self._expire(state))

    def note_time(self, state: State, when: datetime) -> list[Detection | DeadLetter]:
        """Every event moves event time forward, even one that gives no signal."""
        return self.note_timestamp(state, when.timestamp())

    def note_timestamp(self, state: State, t: float) -> list[Detection | DeadLetter]:
        """note_time with the time as a POSIX timestamp."""
        if state["wm"] is None or t > state["wm"]:
            state["wm"] = t
            return self._maybe_expire(state)
        return []

    def note_timestamps(self, state: State, times: Iterable[float]) -> list[Detection | DeadLetter]:
        """note_timestamp for each time in turn, in one tight loop (a backtest's documents that no rule
        can match are most of it): exactly the same sweeps at the same event times."""
        out: list[Detection | DeadLetter] = []
        wm = state["wm"]
        xp = state.get("xp", float("-inf"))
        for t in times:
            if wm is None or t > wm:
                wm = t
                if wm - xp >= EXPIRY_STEP:
                    state["wm"] = wm
                    out.extend(self._expire(state))
                    xp = state["xp"]
        state["wm"] = wm
        return out

    def _maybe_expire(self, state: State) -> list[Detection | DeadLetter]:
        # Sweeping every group on every event would cost O(groups) per event; sweep once per
        # EXPIRY_STEP of event time instead. Fired_at comes from the window itself, so alerts are the
        # same whichever event triggers the sweep.
        if state["wm"] - state.get("xp", float("-inf")) < EXPIRY_STEP:
            return []
        return self._expire(state)

    # -- internals ------------------------------------------------------------------------------
    def _group(self, det: CompiledDetection, sig: Signal) -> dict[str, str] | None:
        group: dict[str, str] = {}
        for g in det.group_by:
            value = sig.source if g == "source" else sig.captures.get(g)
            if value is None:
                return None  # the signal cannot say which group it belongs to
            group[g] = value
        return group

    def _observe(
        self, state: State, det: CompiledDetection, group: dict[str, str], ri: int, sig: Signal, t: float
    ) -> Detection | None:
        gkey = _group_key(det.id, group)
        gs = state["g"].setdefault(gkey, {"o": [], "lf": None, "ls": -1, "p": []})
        kind = det.kind
        if kind == "any" and det.definition.corroborate is None:
            # Needs no history: throttle before building anything (most repeats of a story stop here).
            lf = gs["lf"]
            if (
                lf is not None
                and abs(t - lf) < det.realert.total_seconds()
                and (SEVERITY_RANK[det.definition.severity] <= gs["ls"])
            ):
                return None
            return self._fire(det, gs, group, t, [_evidence(sig)], sig.published_at)
        ev = _evidence(sig)
        if kind == "absence":
            if ri == 0:
                gs["p"].append([t, ev])
            else:
                within = det.within.total_seconds() if det.within else 0.0
                gs["p"] = [p for p in gs["p"] if not (p[0] <= t <= p[0] + within)]
            return None
        obs = gs["o"]
        if not any(o[4]["event_id"] == ev["event_id"] and o[1] == ri for o in obs):
            obs.append([t, ri, sig.source, sig.document_id, ev])
        chosen = self._evaluate(det, obs, ri, t, ev)
        if chosen is None:
            return None
        return self._fire(det, gs, group, t, chosen, sig.published_at)

    def _evaluate(
        self, det: CompiledDetection, obs: list[list[Any]], ri: int, t: float, ev: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        kind = det.kind
        within = det.within.total_seconds() if det.within else 0.0
        if kind == "any":
            return [ev]
        if kind == "count":
            cp = det.definition.pattern.count
            assert cp is not None
            best: list[list[Any]] = []
            # Windows of length `within` that contain t: try each observed start in [t - within, t].
            for start in sorted({o[0] for o in obs if t - within <= o[0] <= t}):
                inside = [o for o in obs if start <= o[0] <= start + within]
                if cp.distinct == "source":
                    inside = list({o[2]: o for o in sorted(inside, key=lambda o: o[0])}.values())
                elif cp.distinct == "document":
                    inside = list({o[3]: o for o in sorted(inside, key=lambda o: o[0])}.values())
                if len(inside) > len(best):
                    best = inside
            if len(best) >= cp.at_least:
                return [o[4] for o in sorted(best, key=lambda o: o[0])]
            return None
        if kind == "all_of":
            chosen = {ri: (t, ev)}
            for k in range(len(det.refs)):
                if k == ri:
                    continue
                cands = [o for o in obs if o[1] == k]
                if not cands:
                    return None
                o = min(cands, key=lambda o: abs(o[0] - t))
                chosen[k] = (o[0], o[4])
            times = [c[0] for c in chosen.values()]
            if max(times) - min(times) > within:
                return None
            return [chosen[k][1] for k in sorted(chosen)]
        if kind == "sequence":
            chain: dict[int, tuple[float, dict[str, Any]]] = {ri: (t, ev)}
            bound = t
            for k in range(ri - 1, -1, -1):  # latest possible predecessors
                cands = [o for o in obs if o[1] == k and o[0] < bound]
                if not cands:
                    return None
                o = max(cands, key=lambda o: o[0])
                chain[k] = (o[0], o[4])
                bound = o[0]
            bound = t
            for k in range(ri + 1, len(det.refs)):  # earliest possible successors
                cands = [o for o in obs if o[1] == k and o[0] > bound]
                if not cands:
                    return None
                o = min(cands, key=lambda o: o[0])
                chain[k] = (o[0], o[4])
                bound = o[0]
            times = [c[0] for c in chain.values()]
            if max(times) - min(times) > within:
                return None
            return [chain[k][1] for k in sorted(chain)]
        raise AssertionError(kind)

    def _fire(
        self,
        det: CompiledDetection,
        gs: dict[str, Any],
        group: dict[str, str],
        t: float,
        evidence: list[dict[str, Any]],
        fired_at: datetime,
    ) -> Detection | None:
        d = det.definition
        severity: Severity = d.severity
        confidence: Literal["confirmed", "unconfirmed"] | None = None
        if d.corroborate is not None:
            cw = d.corroborate.within.total_seconds()
            field = 2 if d.corroborate.distinct == "source" else 3
            best: dict[str, list[Any]] = {}
            for lo, hi in ((t - cw, t), (t, t + cw)):
                distinct = {o[field]: o for o in gs["o"] if lo <= o[0] <= hi}
                if len(distinct) > len(best):
                    best = distinct
            if len(best) >= d.corroborate.at_least:
                severity = d.corroborate.severity
                confidence = "confirmed"
                seen = {e["event_id"] for e in evidence}
                for o in sorted(best.values(), key=lambda o: o[0]):
                    if o[4]["event_id"] not in seen:
                        evidence.append(o[4])
                        seen.add(o[4]["event_id"])
            else:
                confidence = "unconfirmed"
        rank = SEVERITY_RANK[severity]
        if gs["lf"] is not None and abs(t - gs["lf"]) < det.realert.total_seconds() and rank <= gs["ls"]:
            return None  # throttled: this group fired recently at this severity or higher
        gs["lf"] = t if gs["lf"] is None else max(t, gs["lf"])
        gs["ls"] = rank
        return self._detection(det, group, fired_at, severity, confidence, evidence)

    def _detection(
        self,
        det: CompiledDetection,
        group: dict[str, str],
        fired_at: datetime,
        severity: Severity,
        confidence: Literal["confirmed", "unconfirmed"] | None,
        evidence: list[dict[str, Any]],
    ) -> Detection:
        names = self.rules.entity_names
        evidence = evidence[:MAX_EVIDENCE]
        attributes: dict[str, list[str]] = {}
        for e in evidence:
            for cname, value in e["captures"].items():
                if cname not in group:
                    attributes.setdefault(cname, [])
                    if value not in attributes[cname]:
                        attributes[cname].append(value)
            for p in e["places"]:
                attributes.setdefault("place", [])
                if p not in attributes["place"]:
                    attributes["place"].append(p)
        fields = _Missing()
        for k, v in group.items():
            fields[k] = names.get(v, v)
            fields[k + "_id"] = v
        for k, vals in attributes.items():
            fields.setdefault(k, ", ".join(names.get(v, v) for v in vals))
        for k in list(fields):
            fields.setdefault(k + "_suffix", f" ({fields[k]})")
        for cname in ("place", *det.definition.group_by):
            fields.setdefault(cname + "_suffix", "")
        gkey = "|".join(f"{k}={v}" for k, v in group.items())
        alert_id = stable_id(det.id, gkey, *sorted(e["event_id"] for e in evidence), length=20)
        return _make_detection(
            {
                "id": alert_id,
                "rule": det.id,
                "title": det.definition.title.format_map(fields),
                "severity": severity,
                "tags": tuple(det.definition.tags),
                "group": dict(group),
                "fired_at": fired_at,
                "confidence": confidence,
                "attributes": {k: [names.get(v, v) for v in vals] for k, vals in attributes.items()},
                "evidence": tuple(
                    _make_evidence(
                        {
                            "event_id": e["event_id"],
                            "signal": e["signal"],
                            "source": e["source"],
                            "url": e["url"],
                            "published_at": datetime.fromisoformat(e["published_at"]),
                            "sentence": e["sentence"],
                            "modality": e["modality"],
                        }
                    )
                    for e in evidence
                ),
                "description": det.definition.description,
                "revises": None,
                "revision": 0,
            }
        )

    def _expire(self, state: State) -> list[Detection | DeadLetter]:
        """Fire absences whose window closed, and drop state no window can use any more."""
        out: list[Detection | DeadLetter] = []
        wm = state["wm"]
        if wm is None:
            return out
        state["xp"] = wm
        closed_before = wm - self.lateness
        groups: dict[str, Any] = state["g"]
        for gkey in list(groups):
            gs = groups[gkey]
            det = self._by_id.get(gkey.split("\x1f", 1)[0])
            if det is None:
                del groups[gkey]
                continue
            within = det.within.total_seconds() if det.within else 0.0
            if gs["p"]:
                keep = []
                for p in sorted(gs["p"], key=lambda p: p[0]):
                    if p[0] + within < closed_before:
                        group = self._group_from_key(gkey)
                        fired_at = datetime.fromtimestamp(p[0] + within, UTC)
                        got = self._fire(det, gs, group, p[0] + within, [p[1]], fired_at)
                        if got is not None:
                            out.append(got)
                    else:
                        keep.append(p)
                gs["p"] = keep
            horizon = within
            if det.definition.corroborate is not None:
                horizon = max(horizon, det.definition.corroborate.within.total_seconds())
            if gs["o"]:
                gs["o"] = [o for o in gs["o"] if o[0] >= closed_before - horizon]
            if (
                not gs["o"]
                and not gs["p"]
                and (gs["lf"] is None or gs["lf"] < closed_before - det.realert.total_seconds())
            ):
                del groups[gkey]
        return out

    @staticmethod
    def _group_from_key(gkey: str) -> dict[str, str]:
        parts = gkey.split("\x1f")[1:]
        return dict(p.split("=", 1) for p in parts if p)
