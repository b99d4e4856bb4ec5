"""`--expect` files are checked when read, before any replay: a mistyped key, an entry that is not a
mapping, a group that is not a mapping, an unknown rule id or a YAML syntax error is a TruthError naming
FILE:LINE:COL (outside audit: `{rul: ...}` passed as "expectations met", the others were tracebacks)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchfloor.schemas.events import Detection, Evidence
from watchfloor.scoring import TruthError
from watchfloor.scoring.expectations import check_expectations, load_expectations
from watchfloor.scoring.truth import RuleVocabulary

RULES = ["port-closed", "port-reopened"]
T = datetime(2025, 5, 2, 9, 0, tzinfo=UTC)


def det(rule: str, ids: list[str], severity: str = "medium", **group: str) -> Detection:
    return Detection(
        id=f"{rule}-{'-'.join(ids)}",
        rule=rule,
        title=rule,
        severity=severity,
        group=group,
        fired_at=T,
        evidence=tuple(
            Evidence(event_id=i, signal="closure", source="wire", published_at=T, sentence="The port shut.")
            for i in ids
        ),
    )


def write(tmp_path: Path, text: str, name: str = "expect.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "text,where,message",
    [
        ("must_fire:\n  - {rul: port-closed}\n", "2:6", "unknown key 'rul' in a must_fire entry"),
        ("must_fire:\n  - port-closed\n", "2:5", "must_fire entry 'port-closed': write a mapping"),
        (
            "must_fire: {rule: port-closed}\n",
            "1:12",
            "must_fire is a list of entries, e.g. '- {rule: treaty-ratified}', not a mapping",
        ),
        ("must_fire:\n  - {rule: port-closed, group: HARBOUR}\n", "2:32", "group must be a mapping"),
        ("must_fire:\n  - {rule: port-shut}\n", "2:12", "unknown rule 'port-shut'"),
        ("must_fire:\n  - {rule: port-closed, severity: huge}\n", "2:35", "unknown severity 'huge'"),
        ("must_fire:\n  - {rule: port-closed\n", "3:1", "YAML syntax"),
        # a control character is a ruamel ReaderError, no MarkedYAMLError (review finding 4: was a traceback)
        ("must_fire:\n  - {rule: port-closed\x07}\n", "2:23", "unacceptable character #x0007"),
        ("mustfire:\n  - {rule: port-closed}\n", "1:1", "unknown key 'mustfire' in expectations"),
        ("must_not_fire:\n  - {}\n", "2:5", "empty must_not_fire entry"),
        ("description: nothing\n", "1:1", "nothing to check"),
    ],
)
def test_a_wrong_expectations_file_names_file_line_and_column(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    p = write(tmp_path, text)
    with pytest.raises(TruthError) as e:
        load_expectations(p, RULES)
    assert str(e.value).startswith(f"{p}:{where}: "), str(e.value)
    assert message in str(e.value)


def test_json_expectations_are_checked_too(tmp_path: Path) -> None:
    p = write(tmp_path, '{"must_fire": [{"rule": "port-closed", "group": "HARBOUR"}]}', name="expect.json")
    with pytest.raises(TruthError, match="group must be a mapping"):
        load_expectations(p, RULES)
    p = write(tmp_path, '{"must_fire": [', name="broken.json")
    with pytest.raises(TruthError, match=r"broken.json:1:\d+: JSON syntax"):
        load_expectations(p, RULES)


def test_valid_expectations_match_alerts_on_every_key_they_give(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "description: the port story\n"
        "must_fire:\n"
        "  - {rule: port-closed, group: {port: NORTH}, event_id: d-2}\n"
        "  - {rule: port-reopened, severity: high}\n"
        "must_not_fire:\n"
        "  - {event_id: d-9}\n",
    )
    exp = load_expectations(p, RULES)
    alerts = [det("port-closed", ["d-1", "d-2"], port="NORTH"), det("port-reopened", ["d-3"], severity="high")]
    assert check_expectations(exp, alerts) == []
    alerts.append(det("port-reopened", ["d-9"]))
    alerts.pop(0)
    got = [(f.kind, f.expectation) for f in check_expectations(exp, alerts)]
    assert got == [
        ("missing", {"rule": "port-closed", "group": {"port": "NORTH"}, "event_id": "d-2"}),
        ("unexpected", {"event_id": "d-9"}),
    ]


def test_event_id_matches_a_report_beyond_the_ten_an_alert_shows() -> None:
    alert = det("port-closed", [f"d-{i}" for i in range(10)])
    spec = {"must_fire": [{"rule": "port-closed", "event_id": "d-12"}]}
    assert [f.kind for f in check_expectations(spec, [alert])] == ["missing"]
    every = {alert.id: [f"d-{i}" for i in range(14)]}
    assert check_expectations(spec, [alert], every) == []


def test_a_mapping_given_directly_is_checked_as_a_file_is() -> None:
    with pytest.raises(TruthError, match="unknown key 'rul'"):
        check_expectations({"must_fire": [{"rul": "port-closed"}]}, [])


# Research-analyst audit (HIGH-3): a must_not_fire entry that can never match passed as "expectations met" — a
# misspelt group key, an entity name for an id, an event id not in the replay, a key the rule has no group for.
VOCAB = RuleVocabulary(
    {"port-closed": frozenset({"port", "place"}), "port-reopened": frozenset({"place"})},
    names={"HRB": "Harbourtown"},
)


@pytest.mark.parametrize(
    "entry,where,message",
    [
        (
            "{rule: port-closed, group: {prot: HRB}}",
            "2:33",
            "port-closed's alerts carry no 'prot' (they can carry: place, port)",
        ),
        ("{rule: port-reopened, group: {port: HRB}}", "2:35", "port-reopened's alerts carry no 'port'"),
        ("{group: {harbour: HRB}}", "2:14", "no loaded rule's alerts carry 'harbour' (they can carry: place, port)"),
    ],
)
def test_a_group_name_no_alert_of_the_rule_carries_is_an_error(
    tmp_path: Path, entry: str, where: str, message: str
) -> None:
    path = write(tmp_path, f"must_not_fire:\n  - {entry}\n")
    with pytest.raises(TruthError) as e:
        load_expectations(path, VOCAB)
    assert str(e.value).startswith(f"{path}:{where}: ") and message in str(e.value), str(e.value)


def test_a_group_value_matches_by_entity_id_or_name_and_in_the_captures(tmp_path: Path) -> None:
    alert = det("port-closed", ["d-1"], port="HRB")
    for value in ("HRB", "Harbourtown", "harbourtown"):
        spec = load_expectations(
            write(tmp_path, f"must_not_fire:\n  - {{rule: port-closed, group: {{port: {value}}}}}\n"), VOCAB
        )
        assert [f.kind for f in check_expectations(spec, [alert])] == ["unexpected"], value
    placed = alert.model_copy(update={"attributes": {"place": ("Harbourtown",)}})
    spec = load_expectations(write(tmp_path, "must_fire:\n  - {rule: port-closed, group: {place: HRB}}\n"), VOCAB)
    assert check_expectations(spec, [placed]) == []


def test_an_event_id_not_among_the_replayed_documents_fails_in_either_section(tmp_path: Path) -> None:
    alert = det("port-closed", ["d-1"])
    text = "must_fire:\n  - {event_id: 'd-1 '}\nmust_not_fire:\n  - {event_id: d-9}\n  - {event_id: d-2}\n"
    spec = load_expectations(write(tmp_path, text), VOCAB)
    failures = check_expectations(spec, [alert], replayed={"d-2"})
    assert [(f.kind, f.expectation) for f in failures] == [
        ("missing", {"event_id": "d-1 "}),
        ("never matches", {"event_id": "d-9"}),
    ]
    assert "'d-1 ' is not among the replayed documents" in failures[0].detail
    # d-2 was replayed and no alert rests on it: met. Without knowing what was replayed nothing changes.
    assert [f.kind for f in check_expectations(spec, [alert])] == ["missing"]


def test_a_group_value_a_closed_capture_can_never_take_is_an_error(tmp_path: Path) -> None:
    """Re-check of the analyst audit (N3): `{party: RSU}` (party is PRK or RUS) and `{place: Kurks}` passed as
    "expectations met". A value outside a capture's closed set (its entities, or every place) is an error; an id
    or a name, case aside, is fine."""
    from watchfloor.scoring.truth import load_timeline, rule_vocabulary
    from watchfloor.stream_processors.rulefile import load_rules

    vocab = rule_vocabulary(load_rules(["builtin:dprk_russia"])[1])
    for entry, message in (
        ("{rule: treaty-ratified, group: {party: RSU}}", "treaty-ratified's party is one of PRK (North Korea), RUS"),
        ("{rule: troops-deployed, group: {place: Kurks}}", "troops-deployed's place is one of"),
    ):
        with pytest.raises(TruthError, match=re.escape(message)):
            load_expectations(write(tmp_path, f"must_not_fire:\n  - {entry}\n"), vocab)
    for fine in ("{party: rus}", "{party: Russia}"):
        load_expectations(write(tmp_path, f"must_not_fire:\n  - {{rule: treaty-ratified, group: {fine}}}\n"), vocab)
    timeline = tmp_path / "timeline.csv"
    timeline.write_text("event,time,rule,group\nDuma,2024-10-24T00:00:00+00:00,treaty-ratified,party=RSU\n")
    with pytest.raises(TruthError, match=r"timeline.csv:2: column 'group': treaty-ratified's party is one of"):
        load_timeline(timeline, vocab)


def test_a_group_value_may_be_any_alias_of_its_entity_as_in_a_where(tmp_path: Path) -> None:
    """Outside trial: `{place: Kursk Oblast}` was refused with "(did you mean Kursk oblast?)", though a
    subscription's `where` takes it. Expectations and timelines now compare values in every spelling of the
    entity they name (id, name or gazetteer alias, folded), as routing does, when loaded and when matched."""
    from watchfloor.scoring.truth import load_timeline, rule_vocabulary
    from watchfloor.stream_processors.rulefile import load_rules

    vocab = rule_vocabulary(load_rules(["builtin:dprk_russia"])[1])
    kursk = Detection(
        id="te-1",
        rule="troop-engagement",
        title="North Korean troops in combat (Kursk)",
        severity="high",
        group={"place": "KURSK"},
        attributes={"place": ("Kursk",)},
        fired_at=T,
        evidence=(Evidence(event_id="k-1", signal="combat", source="wire", published_at=T, sentence="Troops fought."),),
    )
    for alias in ("Kursk Oblast", "Курская область", "KURSK  REGION"):
        spec = load_expectations(
            write(tmp_path, f"must_fire:\n  - {{rule: troop-engagement, group: {{place: {alias}}}}}\n"), vocab
        )
        assert check_expectations(spec, [kursk]) == [], alias
    donbass = load_expectations(
        write(tmp_path, "must_not_fire:\n  - {rule: troop-engagement, group: {place: Donbass}}\n"), vocab
    )
    assert check_expectations(donbass, [kursk]) == []  # another entity's alias: no match
    timeline = tmp_path / "timeline.csv"
    timeline.write_text(
        "event,time,rule,group\ncombat,2024-12-17T09:00:00+00:00,troop-engagement,place=Курская область\n",
        encoding="utf-8",
    )
    event = load_timeline(timeline, vocab).events[0]
    tl = load_timeline(timeline, vocab)
    assert event.matches_alert(kursk.group, kursk.attributes, tl.names)
    assert not event.matches_alert({"place": "DONBAS"}, {"place": ("Donbas",)}, tl.names)
