"""How a near miss's reasons read (outside trial 34): one clause per detection, each starting with its own
detection's name, so a detection's reason is never read as the one before it; and what a sequence's reason says of
an opening step its alert told later: the report that completed it is another document, named as such, and no
quiet window is applied to a report that came before the alert (the sequence fired: nothing was held back)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.engine_helpers import doc
from watchfloor.schemas.events import Detection
from watchfloor.scoring.near_misses import NearMissCollector, Reason, reason_lines
from watchfloor.stream_processors.engine import Engine
from watchfloor.stream_processors.rulefile import load_rules


def test_a_detail_that_opens_with_its_detection_is_kept_as_it_is() -> None:
    throttled = "river-flood alerted at 2025-03-01T00:00+00:00 (high); quiet for 2d (until 2025-03-03T00:00+00:00)"
    assert Reason("realert", throttled, "river-flood").clause() == throttled
    grouped = "road-closed for region=NORTH alerted at 2025-03-01T00:00+00:00; quiet for 6h"
    assert Reason("realert", grouped, "road-closed").clause() == grouped
    needs = "road-closed needs region=NORTH; the sentence gives region=SOUTH"
    assert Reason("capture", needs, "road-closed").clause() == needs
    by = "road-closed groups by region; the sentence names no region"
    assert Reason("group", by, "road-closed").clause() == by


def test_a_detail_that_does_not_open_with_its_detection_gets_its_name_before_it() -> None:
    hedged = Reason("modality", "the signal is hedged (cue 'might'); river-flood takes asserted", "river-flood")
    assert hedged.clause() == "river-flood: the signal is hedged (cue 'might'); river-flood takes asserted"
    waiting = Reason("sequence", "waiting for levee_breach to follow", "flood-then-breach")
    assert waiting.clause() == "flood-then-breach: waiting for levee_breach to follow"
    # A step may bear the detection's name: "rainfall must come first" is no reason that opens with the name.
    first = Reason("sequence", "rainfall must come first, within 1d", "rainfall")
    assert first.clause() == "rainfall: rainfall must come first, within 1d"


def test_a_reason_of_no_detection_is_as_it_is() -> None:
    assert (
        Reason("unused", "no detection uses the signal 'drought'").clause() == "no detection uses the signal 'drought'"
    )


def test_one_line_per_detection_each_starting_with_its_name() -> None:
    reasons = [
        Reason(
            "realert",
            "river-flood alerted at 2025-03-01T06:00+00:00 (high); quiet for 2d (until 2025-03-03T06:00+00:00) "
            "unless more severe; corroboration: met (3 distinct sources within 1d, 2 needed; then high, confirmed)",
            "river-flood",
        ),
        Reason("sequence", "waiting for levee_breach to follow", "flood-then-breach"),
    ]
    lines = reason_lines(reasons)
    assert len(lines) == 2
    assert lines[0].startswith("river-flood alerted at") and "flood-then-breach" not in lines[0]
    assert lines[1] == "flood-then-breach: waiting for levee_breach to follow"


PACK = """\
version: 2
name: flood-reasons
signals:
  flooding:
    match: {any: [flooding]}
  waters_receded:
    match: {any: ["waters receded"]}
detections:
  - id: river-flood
    title: river flood
    severity: medium
    pattern: {any: flooding}
    realert: 2d
    corroborate: {distinct: source, at_least: 2, within: 1d, severity: high}
  - id: flood-passed
    title: flood came and went
    severity: high
    pattern: {sequence: [flooding, waters_receded]}
    within: 3d
"""


def collect(tmp_path: Path, docs: list) -> tuple[NearMissCollector, list[Detection]]:
    p = tmp_path / "pack.yaml"
    p.write_text(PACK, encoding="utf-8")
    _loaded, rules = load_rules([str(p)])
    engine = Engine(rules)
    collector = NearMissCollector(rules)
    state = engine.initial_state()
    fired: list[Detection] = []
    for d in docs:
        state, outputs = engine.process_document(state, d)
        collector.on_outputs(outputs)
        fired += [o for o in outputs if isinstance(o, Detection)]
    return collector, fired


def test_an_opening_step_the_sequence_told_later_names_the_other_document_and_no_throttle(tmp_path: Path) -> None:
    docs = [
        doc("Flooding reached the lower town.", at=0, source="Valley News", doc_id="f-1"),
        doc("Flooding closed the bridge road.", at=1, source="Hill Radio", doc_id="f-2"),
        doc("Farmers moved cattle as flooding spread.", at=2, source="Plain Post", doc_id="f-3"),
        doc("Flooding kept the school shut.", at=10, source="Valley News", doc_id="f-4"),
        # 19 hours after f-3, one sentence with both steps: the sequence fires on this document
        doc("After the flooding the waters receded overnight.", at=21, source="River Times", doc_id="f-5"),
    ]
    collector, fired = collect(tmp_path, docs)
    passed = [d for d in fired if d.rule == "flood-passed"]
    assert len(passed) == 1 and [e.event_id for e in passed[0].evidence] == ["f-4", "f-5"]
    near = {m.signal.document_id: m for m in collector.near_misses() if m.signal.name == "flooding"}
    reasons = {r.detection: r for r in near["f-3"].reasons}
    seq = reasons["flood-passed"]
    assert seq.kind == "sequence"
    assert seq.detail == (
        "waiting for waters_receded to follow at this report's time (what `rules explain` says of it); it followed "
        "later in the stream: flood-passed fired at 2025-03-01T21:00+00:00 on that document (f-5), citing a later "
        "report of this step (f-4): the alert told this one too"
    )
    assert "held back" not in seq.detail and "quiet for" not in seq.detail and "this document" not in seq.detail
    assert [line.split(" ")[0] for line in reason_lines(near["f-3"].reasons)] == ["river-flood", "flood-passed:"]
    # the steps it told uncited are its repeats; the report it cites for the step and the one it fired on are not
    assert sorted(collector.repeats[passed[0].id]) == ["f-1", "f-2", "f-3"]


def test_a_document_an_alert_fired_on_is_not_a_repeat_of_it(tmp_path: Path) -> None:
    """Two sentences of one report give the signal: the alert fires on the first and cites the report; the second
    is "the same alert", nothing the throttle held back from the desk."""
    collector, fired = collect(tmp_path, [doc("Flooding reached the lower town. Flooding also cut the railway.")])
    (alert,) = fired
    assert alert.rule == "river-flood" and alert.id not in collector.repeats
