"""Rule-pack diffs (outside audit): an alert whose title, attributes or quoted sentence changed is "changed",
saying from what to what, not "unchanged" because its id, severity, confirmation and time stayed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from watchfloor.scoring import AlertRef, diff_alerts

T = datetime(2025, 6, 3, 8, 0, tzinfo=UTC)


def ref(**kw: object) -> AlertRef:
    base = AlertRef(
        id="a1",
        rule="ships-sighted",
        group={},
        severity="medium",
        confidence=None,
        fired_at=T,
        evidence=("d-1", "d-2"),
        title="Warships sighted (Port Alma)",
        attributes={"place": ("Port Alma",)},
        evidence_sentences=("Warships were seen off Port Alma.", "Two frigates docked."),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_the_same_alert_is_unchanged() -> None:
    d = diff_alerts([ref()], [ref()])
    assert (d.unchanged, d.changed) == (1, [])


def test_title_and_attributes_are_changes_said_from_what_to_what() -> None:
    d = diff_alerts([ref()], [ref(title="Warships sighted", attributes={})])
    assert d.unchanged == 0
    (c,) = d.changed
    assert c.fields == ("title", "attributes")
    assert c.describe() == [
        "title 'Warships sighted (Port Alma)' -> 'Warships sighted'",
        "attributes.place Port Alma -> none",
    ]
    assert c.to_json()["details"] == c.describe()
    assert c.to_json()["before"]["attributes"] == {"place": ["Port Alma"]}


def test_another_sentence_of_the_same_report_is_a_change_of_evidence() -> None:
    after = ref(evidence_sentences=("Warships were seen off Port Alma.", "A frigate left the harbour."))
    (c,) = diff_alerts([ref()], [after]).changed
    assert c.fields == ("sentence",)
    assert c.describe() == ["evidence quoted by another sentence: d-2"]


def test_a_baseline_without_sentences_compares_the_rest() -> None:
    (c,) = diff_alerts([ref(evidence_sentences=())], [ref(severity="high")]).changed
    assert c.fields == ("severity",)
    assert c.describe() == ["severity medium -> high"]


def test_added_reports_are_named() -> None:
    (c,) = diff_alerts([ref()], [ref(id="a2", evidence=("d-1", "d-3"), evidence_sentences=("x", "y"))]).changed
    assert "evidence" in c.fields
    assert "evidence 2 -> 2 items (-d-2; +d-3)" in c.describe()


def test_another_id_with_the_same_ten_shown_is_other_evidence() -> None:
    # Twelve reports each, ten shown alike: the ids (which hash all twelve) differ, so the reports do.
    shown = tuple(f"d-{i}" for i in range(2, 12))
    before = ref(id="w1", evidence=shown, evidence_sentences=(), all_evidence=("d-0", "d-1", *shown))
    after = ref(id="w2", evidence=shown, evidence_sentences=(), all_evidence=("d-0", "d-12", *shown))
    (c,) = diff_alerts([before], [after]).changed
    assert c.fields == ("evidence",)
    assert c.describe() == ["evidence 12 -> 12 items (-d-1; +d-12)"]


def test_a_baseline_without_every_report_is_compared_on_the_shown_ones() -> None:
    # Review finding 5: a baseline RESULT.json written before evidence_ids (10 shown of 12, the rest unknown)
    # against a run that lists all 12: the two unshown ones are not "added".
    shown = tuple(f"d-{i}" for i in range(2, 12))
    before = ref(id="w1", evidence=shown, evidence_sentences=(), evidence_total=12)
    after = ref(id="w2", evidence=shown, evidence_sentences=(), all_evidence=("d-0", "d-1", *shown))
    (c,) = diff_alerts([before], [after]).changed
    (line,) = c.describe()
    assert line.startswith("evidence 10 -> 10 items"), line
    assert "d-0" not in line and "d-1," not in line and "+" not in line, line
    # a baseline of fewer than ten shown shows them all: its every report is known
    small = ref(id="w0", evidence=("d-0", "d-1", "d-2"), evidence_sentences=())
    (c,) = diff_alerts([small], [after]).changed
    assert c.describe()[0].startswith("evidence 3 -> 12 items (+d-3, d-4"), c.describe()


def test_an_evidence_change_one_way_names_only_that_side() -> None:
    """Reports only gone (or only added) read as such, without an empty other side ("-d-2; +none": trial 51, L7)."""
    one = ref(id="a2", evidence=("d-1",), evidence_sentences=("Warships were seen off Port Alma.",))
    (c,) = diff_alerts([ref()], [one]).changed
    assert "evidence 2 -> 1 items (-d-2)" in c.describe(), c.describe()
    (c,) = diff_alerts([one], [ref()]).changed
    assert "evidence 1 -> 2 items (+d-2)" in c.describe(), c.describe()


def test_thousands_of_changed_reports_are_counted_beyond_the_first_ten() -> None:
    was = tuple(f"old-{i}" for i in range(5000))
    now = tuple(f"new-{i}" for i in range(5000))
    before = ref(id="w1", evidence=("x", *was[:9]), evidence_sentences=(), all_evidence=("x", *was))
    after = ref(id="w2", evidence=("x", *now[:9]), evidence_sentences=(), all_evidence=("x", *now))
    (c,) = diff_alerts([before], [after]).changed
    (line,) = c.describe()
    assert line.startswith("evidence 5001 -> 5001 items (-old-0, old-1"), line[:80]
    assert "old-9 … and 4990 more; +new-0" in line and line.endswith("new-9 … and 4990 more)"), line[-80:]
    assert len(line) < 400


def test_a_confirmation_gained_reads_none_not_python_none() -> None:
    # outside trial 53, LOW-1: "confidence None -> unconfirmed"
    (c,) = diff_alerts([ref()], [ref(confidence="unconfirmed")]).changed
    assert c.describe() == ["confidence none -> unconfirmed"]
