"""Audit 4, F3: a title's placeholder for a capture the alert's evidence lacks. `rules check` accepts
`{NAME}` and `{NAME_suffix}` for each capture of the detection's signals (docs/rules.md, "Titles"), but only
`place` and the group_by names had a default: "Truce agreed (Hamas){mediator_suffix}" showed the braces in
every alert whose reports named no mediator. Check and render now agree, over signals and over detections."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors.rulefile import load_rules

from .engine_helpers import Timeline, doc, engine_for

PACK = """\
version: 2
name: truce
language: en
entities:
  ISR: {name: Israel, kind: country, aliases: [Israel]}
  HAMAS: {name: Hamas, kind: organization, aliases: [Hamas]}
  QAT: {name: Qatar, kind: country, aliases: [Qatar]}
  GAZA: {name: Gaza, kind: place, aliases: [Gaza]}
signals:
  truce_agreed:
    match: {all: [{any: [agree, agreed]}, {any: [truce]}]}
    near: 6
    capture:
      party: {entities: [ISR, HAMAS]}
      mediator: {entities: [QAT]}
      place: {kind: place}
  truce_collapsed:
    match: {any: ["truce collapses"]}
    capture:
      party: {entities: [ISR, HAMAS]}
detections:
  - id: truce-agreed
    title: "Truce agreed ({party}){mediator_suffix}"
    severity: medium
    pattern: {any: truce_agreed}
    group_by: [party]
  - id: truce-agreed-plain
    title: "Truce agreed{mediator_suffix} [{mediator}]{place_suffix} [{place}]"
    severity: medium
    pattern: {any: truce_agreed}
  - id: collapse
    title: "Truce collapsed{party_suffix}"
    severity: high
    pattern: {any: truce_collapsed}
  - id: agreed-then-collapsed
    title: "Agreed{party_suffix}, then collapsed{place_suffix} [{party}] [{place}]"
    severity: critical
    pattern:
      sequence: [{detection: truce-agreed}, {detection: collapse}]
    within: 30d
"""


def _pack(tmp_path: Path, text: str = PACK) -> str:
    path = tmp_path / "truce.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_capture_the_evidence_lacks_leaves_no_braces_in_the_title(tmp_path: Path) -> None:
    tl = Timeline(engine_for(_pack(tmp_path)))
    without = tl.feed(doc("Hamas agreed to a truce.", at=0, doc_id="d1"))
    titles = {d.rule: d.title for d in without}
    assert titles["truce-agreed"] == "Truce agreed (Hamas)"
    assert titles["truce-agreed-plain"] == "Truce agreed [] []"
    tl2 = Timeline(engine_for(_pack(tmp_path)))
    with_ = tl2.feed(doc("In Qatar, Hamas agreed to a truce in Gaza.", at=0, doc_id="d2"))
    titles = {d.rule: d.title for d in with_}
    assert titles["truce-agreed"] == "Truce agreed (Hamas) (Qatar)"
    assert titles["truce-agreed-plain"] == "Truce agreed (Qatar) [Qatar] (Gaza) [Gaza]"


def test_over_detections_the_inputs_group_values_fill_the_title_and_place_is_empty(tmp_path: Path) -> None:
    # An input alert's group values act as its captures: `party` (truce-agreed groups by it) fills the title;
    # `place` is no group of an input, so it is empty, as it is for a report that names no place.
    tl = Timeline(engine_for(_pack(tmp_path)))
    tl.feed(doc("Hamas agreed to a truce.", at=0, doc_id="d1"))
    tl.feed(doc("The truce collapses.", at=5, doc_id="d2"))
    [derived] = [d for d in tl.detections if d.rule == "agreed-then-collapsed"]
    assert derived.title == "Agreed (Hamas), then collapsed [Hamas] []"
    assert "{" not in derived.title


@pytest.mark.parametrize(
    ("title", "unknown"),
    [
        ("Truce{region_suffix}", "region_suffix"),  # no signal captures it
        ("Truce ({mediator_id})", "mediator_id"),  # `_id` is a group_by name's only
        ("Truce{party_id}", "party_id"),  # party is captured, not grouped by
    ],
)
def test_check_refuses_what_no_signal_or_group_can_fill(tmp_path: Path, title: str, unknown: str) -> None:
    text = PACK.replace('"Truce agreed{mediator_suffix} [{mediator}]{place_suffix} [{place}]"', f'"{title}"')
    with pytest.raises(Exception, match=r"unknown placeholder \{" + unknown + r"\}"):
        load_rules([_pack(tmp_path, text)])


@pytest.mark.parametrize(
    "title",
    ["Agreed{region_suffix}", "Agreed ({mediator})", "Agreed{party_id}"],
)
def test_check_refuses_over_detections_what_the_inputs_do_not_group_by(tmp_path: Path, title: str) -> None:
    # The input alerts carry their group values only: the reports' other captures (mediator) are not theirs,
    # and `_id` belongs to the derived detection's own group_by.
    text = PACK.replace('"Agreed{party_suffix}, then collapsed{place_suffix} [{party}] [{place}]"', f'"{title}"')
    with pytest.raises(Exception, match="unknown placeholder"):
        load_rules([_pack(tmp_path, text)])


def test_check_accepts_every_capture_and_its_suffix(tmp_path: Path) -> None:
    # The pack above: mediator, place and party with and without `_suffix`, over signals and detections.
    _loaded, rules = load_rules([_pack(tmp_path)])
    ids = [d.id for d in rules.detections]
    assert ids == ["truce-agreed", "truce-agreed-plain", "collapse", "agreed-then-collapsed"]


COUNTED = """\
version: 2
name: exodus
language: en
entities:
  ARM: {name: Armenia, kind: country, aliases: [Armenia]}
signals:
  crossed:
    match: {any: ["crossed into Armenia"]}
detections:
  - id: exodus
    title: "Exodus: {reports} reports{reports_suffix}"
    severity: high
    pattern: {count: {signal: crossed, at_least: 3, distinct: document}}
    within: 2d
"""


def test_a_count_alert_says_how_many_reports_it_rests_on(tmp_path: Path) -> None:
    # Outside trial 28, F9: `{count}` was an unknown placeholder, and a `count` alert could not say how many it counted.
    tl = Timeline(engine_for(_pack(tmp_path, COUNTED)))
    out = [
        d
        for i in range(4)
        for d in tl.feed(doc(f"Refugees crossed into Armenia (report {i}).", at=i, doc_id=f"r{i}", source=f"S{i}"))
    ]
    assert [d.title for d in out] == ["Exodus: 3 reports (3)"]


def test_rules_check_offers_reports_and_still_refuses_count(tmp_path: Path) -> None:
    pack = _pack(tmp_path, COUNTED.replace("{reports} reports{reports_suffix}", "{count} reports"))
    with pytest.raises(Exception, match=r"unknown placeholder \{count\}.*\{reports\} is how many reports the alert"):
        load_rules([pack])
