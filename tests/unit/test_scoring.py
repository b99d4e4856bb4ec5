"""Scoring is pure: labels, label maps and timelines read with FILE:LINE errors; TP/FP/FN, precision, recall,
F1 and lead times on small hand-made timelines; rule-pack diffs; quality gates; invariants under hypothesis."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from watchfloor.scoring import (
    AlertRef,
    Counts,
    LabelledItem,
    LabelMap,
    Labels,
    TruthError,
    check_thresholds,
    diff_alerts,
    evaluate_timeline,
    format_lead,
    label_map_from_packs,
    load_label_map,
    load_labels,
    load_timeline,
    lost_true_positives,
    parse_fail_under,
    score,
    score_delta,
)
from watchfloor.scoring.diff import comparison_warnings

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RULES = {"border-closed", "border-reopened", "envoy-expelled"}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def alert(
    aid: str, rule: str, evidence: list[str], hours: float = 0.0, severity: str = "medium", **group: str
) -> AlertRef:
    return AlertRef(
        id=aid,
        rule=rule,
        group=group,
        severity=severity,
        confidence=None,
        fired_at=at(hours),
        evidence=tuple(evidence),
        evidence_times=tuple(at(hours) for _ in evidence),
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# -- reading ground truth ---------------------------------------------------------------------------


def test_labels_csv_with_extra_columns_several_labels_and_negatives(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "labels.csv",
        "id,published_at,label,title,time\n"
        "n1,2025-03-01T10:00:00+00:00,BORDER_CLOSED,Alphaland shuts its border,\n"
        "n2,2025-03-01T11:00:00+00:00,NONE,A market report,\n"
        "n3,2025-03-01T12:00:00+00:00,BORDER_CLOSED;ENVOY_EXPELLED,Two things,2025-03-01T09:00:00Z\n"
        "n3,2025-03-01T12:00:00+00:00,BORDER_REOPENED,the same item again,\n"
        "\n",
    )
    labels = load_labels(p)
    assert labels.items["n1"] == LabelledItem("n1", frozenset({"BORDER_CLOSED"}), None, 2)
    assert labels.items["n2"].labels == frozenset()
    assert labels.items["n3"].labels == {"BORDER_CLOSED", "ENVOY_EXPELLED", "BORDER_REOPENED"}
    assert labels.items["n3"].time == datetime(2025, 3, 1, 9, tzinfo=UTC)
    assert set(labels.positives()) == {"n1", "n3"}


def test_a_labels_file_from_a_semicolon_locale_spreadsheet_is_read(tmp_path: Path) -> None:
    """Excel in a Russian, German or French locale saves "CSV UTF-8" with ';' between cells (and the byte order mark),
    quoting a cell that holds ';' (outside trial 57, LOW-4: such a file was refused)."""
    p = tmp_path / "labels.csv"
    text = 'id;label;event\r\nn1;POW_EXCHANGE;обмен-1\r\nn2;NONE;\r\nn3;"POW_EXCHANGE;STRIKE";обмен-2\r\n'
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    labels = load_labels(p)
    assert labels.items["n1"].labels == {"POW_EXCHANGE"} and labels.items["n1"].event == "обмен-1"
    assert labels.items["n2"].labels == frozenset()
    assert labels.items["n3"].labels == {"POW_EXCHANGE", "STRIKE"}


def test_the_labels_csv_a_backtest_writes_reads_back_as_labels(tmp_path: Path) -> None:
    """`backtest --csv` names its column `labels` (one row per label key): `--labels` takes that file as it is."""
    from watchfloor.report_csv import LABEL_COLUMNS

    assert "labels" in LABEL_COLUMNS and "label" not in LABEL_COLUMNS
    rows = [
        {"id": "n1", "label_key": "n1", "labels": "BORDER_CLOSED", "event": "closure", "time": "2025-03-01T10:00:00Z"},
        {"id": "n2", "label_key": "n2", "labels": "", "event": "", "time": ""},
    ]
    text = ",".join(LABEL_COLUMNS) + "\n" + "".join(",".join(r.get(c, "") for c in LABEL_COLUMNS) + "\n" for r in rows)
    labels = load_labels(write(tmp_path, "labels.csv", text))
    assert labels.items["n1"].labels == {"BORDER_CLOSED"} and labels.items["n1"].event == "closure"
    assert labels.items["n2"].labels == frozenset() and set(labels.positives()) == {"n1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "labels.csv:1: empty labels file"),
        ("id,title\nn1,x\n", "labels.csv:1: a labels file needs the column label"),
        (
            "id\tlabel\nn1\tA\n",
            "labels.csv:1: a labels file needs the columns id, label (header has: id\tlabel); "
            "the header is one column with '\\t' in it: write the file comma-separated",
        ),
        ("id,label,time\nn1,A,yesterday\n", "labels.csv:2: column 'time': not an ISO-8601 timestamp"),
        ("id,label,time\nn1,A,2025-03-01T09:00:00\n", "labels.csv:2: column 'time': timestamp has no UTC offset"),
        ("id,label\n,A\n", "labels.csv:2: empty id"),
        ("id,label\nn1,A,extra\n", "labels.csv:2: 3 cells, but the header names 2 columns"),
        ("id,label\n", "labels.csv: no labelled rows"),
    ],
)
def test_labels_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path, "labels.csv", text)
    with pytest.raises(TruthError) as e:
        load_labels(p)
    assert str(e.value).startswith(str(tmp_path / message.split(":", 1)[0])), str(e.value)
    assert message.split(":", 1)[1] in str(e.value)


def test_missing_labels_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TruthError, match="no such labels file"):
        load_labels(tmp_path / "nope.csv")


def test_label_map_yaml(tmp_path: Path) -> None:
    p = write(tmp_path, "map.yaml", "# truth -> rules\nBORDER_CLOSED: border-closed\nENVOY: [envoy-expelled]\n")
    m = load_label_map(p, RULES)
    assert m.rules_by_label == {"BORDER_CLOSED": ("border-closed",), "ENVOY": ("envoy-expelled",)}
    assert m.labels_by_rule() == {"border-closed": {"BORDER_CLOSED"}, "envoy-expelled": {"ENVOY"}}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("A: border-closed\nB: [envoy-expelled, no-such-rule]\n", "2:21", "unknown rule 'no-such-rule'"),
        ("A: {x: 1}\n", "1:1", "give a rule id or a list of rule ids"),
        ("- A\n", "1:1", "a label map is a mapping"),
        ("A: [border-closed\n", "2:1", "YAML syntax"),
        ("A: border-closed\nB: envoy\x07\n", "2:9", "YAML syntax: unacceptable character #x0007"),
    ],
)
def test_label_map_errors_name_line_and_column(tmp_path: Path, text: str, where: str, message: str) -> None:
    p = write(tmp_path, "map.yaml", text)
    with pytest.raises(TruthError) as e:
        load_label_map(p, RULES)
    assert str(e.value).startswith(f"{p}:{where}: "), str(e.value)
    assert message in str(e.value)


def test_label_map_from_packs_inverts_detection_labels() -> None:
    m = label_map_from_packs({"border-closed": ["CLOSED"], "border-reopened": ["CLOSED", "OPEN"], "x": []})
    assert m.rules_by_label == {"CLOSED": ("border-closed", "border-reopened"), "OPEN": ("border-reopened",)}


def test_timeline_csv(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "timeline.csv",
        "event,time,rule,group\n"
        "closure,2025-03-01T12:00:00+00:00,border-closed,\n"
        "reopening,2025-03-02T12:00:00+00:00,border-reopened,side=ALPHA\n"
        "expulsion,2025-03-03T12:00:00+00:00,envoy-expelled,BETA\n",
    )
    tl = load_timeline(p, RULES)
    assert [(e.event, e.rule, e.group, e.any_group_value) for e in tl.events] == [
        ("closure", "border-closed", {}, None),
        ("reopening", "border-reopened", {"side": "ALPHA"}, None),
        ("expulsion", "envoy-expelled", {}, "BETA"),
    ]
    bad = write(tmp_path, "bad.csv", "event,time,rule\nclosure,2025-03-01T12:00:00+00:00,border-shut\n")
    with pytest.raises(TruthError, match=r"bad.csv:2: unknown rule 'border-shut'"):
        load_timeline(bad, RULES)


# -- scores on a small timeline ---------------------------------------------------------------------


def small_truth() -> tuple[Labels, LabelMap, dict[str, datetime]]:
    labels = Labels(
        "labels.csv",
        {
            "a": LabelledItem("a", frozenset({"CLOSED"})),
            "b": LabelledItem("b", frozenset({"CLOSED"})),
            "c": LabelledItem("c", frozenset({"EXPELLED"}), time=at(-2)),
            "d": LabelledItem("d", frozenset()),
            "z": LabelledItem("z", frozenset({"CLOSED"})),  # never among the events
        },
    )
    label_map = LabelMap("map.yaml", {"CLOSED": ("border-closed",), "EXPELLED": ("envoy-expelled",)})
    seen = {"a": at(0), "b": at(5), "c": at(1), "d": at(2)}
    return labels, label_map, seen


def test_precision_is_a_share_of_alerts_not_of_items() -> None:
    """Research-analyst audit (HIGH-1): one `count` alert on 12 labelled reports and 3 false alerts read as
    precision 12 / 15 = 0.80, though 3 of the 4 alerts the desk got were false. Now 1 / 4."""
    items = {f"w{i}": LabelledItem(f"w{i}", frozenset({"CLOSED"})) for i in range(12)}
    labels = Labels("labels.csv", items)
    label_map = LabelMap("map.yaml", {"CLOSED": ("border-closed",)})
    alerts = [
        alert("WAVE", "border-closed", list(items), hours=1),
        *(alert(f"F{k}", "border-closed", [f"noise-{k}"], hours=2 + k) for k in range(3)),
    ]
    c = score(alerts, labels, label_map).per_rule["border-closed"]
    assert (c.alerts, c.true_alerts, c.fp, c.tp, c.fn) == (4, 1, 3, 12, 0)
    assert c.precision == 0.25 and c.recall == 1.0


def test_a_repeat_held_back_by_a_true_alert_is_covered_by_a_false_one_missed() -> None:
    """Research-analyst audit (HIGH-2): the `realert` throttle kept repeats out of every alert's evidence, and
    each counted as missed, so a pack scored better the more it flooded the desk. A labelled report a true alert's
    realert held back (its repeats: NearMissCollector) is covered: caught, with no lead time of its own. Held back
    by a false alert it stays missed: the desk was told something else."""
    labels = Labels(
        "labels.csv",
        {k: LabelledItem(k, frozenset({"CLOSED"})) for k in ("first", "again", "later", "real")},
    )
    label_map = LabelMap("map.yaml", {"CLOSED": ("border-closed",)})
    true_alert = replace(alert("T", "border-closed", ["first"], hours=0), repeats=("again", "later"))
    false_alert = replace(alert("F", "border-closed", ["rumour"], hours=10), repeats=("real",))
    s = score([true_alert, false_alert], labels, label_map)
    c = s.per_rule["border-closed"]
    assert (c.tp, c.covered, c.fn, c.fp, c.alerts) == (3, 2, 1, 1, 2)
    assert c.recall == 0.75 and c.precision == 0.5
    status = {o.item: (o.status, o.alert) for o in s.outcomes}
    assert status == {"first": ("tp", "T"), "again": ("covered", "T"), "later": ("covered", "T"), "real": ("fn", None)}
    assert c.lead_times == [0.0]  # only the cited report's
    # A result file keeps them (`repeat_ids`), so a --baseline RESULT.json is scored alike.
    assert true_alert.brief()["repeat_ids"] == ["again", "later"]
    as_written = {"id": "T", "rule": "border-closed", "fired_at": at(0).isoformat(), "repeat_ids": ["again", "later"]}
    assert AlertRef.from_json(as_written).repeats == ("again", "later")


def test_scores_per_rule_and_overall() -> None:
    labels, label_map, seen = small_truth()
    alerts = [
        alert("A1", "border-closed", ["a"], hours=1),  # catches a, an hour after it was published
        alert("A2", "border-closed", ["d"], hours=2),  # cites only a negative: false positive
        alert("A3", "envoy-expelled", ["x", "c"], hours=3),  # catches c (label time 2 h before c was seen)
        alert("A4", "border-reopened", ["a"], hours=4),  # no label maps to this rule: not scored
    ]
    s = score(alerts, labels, label_map, seen=seen)
    closed, expelled = s.per_rule["border-closed"], s.per_rule["envoy-expelled"]
    assert (closed.tp, closed.fp, closed.fn, closed.alerts, closed.positives) == (1, 1, 1, 2, 2)
    assert (closed.precision, closed.recall, closed.f1) == (0.5, 0.5, 0.5)
    assert (expelled.tp, expelled.fp, expelled.fn) == (1, 0, 0)
    assert (expelled.precision, expelled.recall, expelled.f1) == (1.0, 1.0, 1.0)
    o = s.overall
    assert (o.tp, o.fp, o.fn) == (2, 1, 1)
    assert o.precision == pytest.approx(2 / 3) and o.recall == pytest.approx(2 / 3)
    assert s.unscored_rules == {"border-reopened": 1}
    assert s.ignored_items == ["z"]
    assert [a.id for a in s.false_positives] == ["A2"]
    outcomes = {(x.item, x.rule): x for x in s.outcomes}
    assert outcomes["a", "border-closed"].status == "tp"
    assert outcomes["a", "border-closed"].lead_time_s == 3600.0  # from the item's published_at
    assert outcomes["a", "border-closed"].time_from == "published_at"
    assert outcomes["b", "border-closed"].status == "fn" and outcomes["b", "border-closed"].time == at(5)
    assert outcomes["c", "envoy-expelled"].lead_time_s == 5 * 3600.0  # from the label's own time
    assert outcomes["c", "envoy-expelled"].time_from == "label"
    data = s.to_json()
    assert data["per_rule"]["border-closed"] == {
        "tp": 1,
        "fp": 1,
        "fn": 1,
        "covered": 0,
        "true_alerts": 1,
        "repeat_alerts": 0,
        "events": 2,
        "events_caught": 1,
        "event_recall": 0.5,
        "items": 2,
        "items_caught": 1,
        "item_recall": 0.5,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "alerts": 2,
        "positives": 2,
        "lead_time_s": {"min": 3600.0, "median": 3600.0, "max": 3600.0},
        "event_lead_time_s": None,  # no `event` column
        "precision_interval": [0.0945, 0.9055],  # 1 of 2, 95 % Wilson
        "recall_interval": [0.0945, 0.9055],
        "item_recall_interval": [0.0945, 0.9055],
    }
    assert set(data) >= {"per_rule", "overall", "events", "false_positives"}


def test_undefined_scores_are_none_not_zero() -> None:
    labels, label_map, seen = small_truth()
    s = score([], labels, label_map, seen=seen)
    c = s.per_rule["border-closed"]
    assert (c.tp, c.fn, c.precision, c.recall, c.f1) == (0, 2, None, 0.0, None)


def test_the_first_alert_that_cites_an_item_gives_its_lead_time() -> None:
    labels, label_map, seen = small_truth()
    alerts = [alert("late", "border-closed", ["a", "b"], hours=30), alert("early", "border-closed", ["a"], hours=2)]
    s = score(alerts, labels, label_map, seen=seen)
    by = {(x.item, x.rule): x for x in s.outcomes}
    assert (by["a", "border-closed"].alert, by["a", "border-closed"].lead_time_s) == ("early", 2 * 3600.0)
    assert (by["b", "border-closed"].alert, by["b", "border-closed"].lead_time_s) == ("late", 25 * 3600.0)


def test_without_seen_every_labelled_item_counts() -> None:
    labels, label_map, _seen = small_truth()
    s = score([alert("A1", "border-closed", ["a"])], labels, label_map)
    assert s.per_rule["border-closed"].fn == 2  # b and z
    assert s.ignored_items == []


def test_timeline_found_missed_and_how_early(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "t.csv",
        "event,time,rule,group\n"
        f"closure,{at(3).isoformat()},border-closed,\n"
        f"reopening,{at(0).isoformat()},border-reopened,side=ALPHA\n"
        f"expulsion,{at(0).isoformat()},envoy-expelled,\n",
    )
    tl = load_timeline(p, RULES)
    alerts = [
        alert("c1", "border-closed", ["a"], hours=1),
        alert("c2", "border-closed", ["b"], hours=2),
        alert("r1", "border-reopened", ["e"], hours=1, side="BETA"),
        alert("x1", "envoy-expelled", ["f"], hours=24 * 9),  # outside the 7-day window
    ]
    got = evaluate_timeline(tl, alerts, timedelta(days=7))
    assert [(o.event, o.status, o.alert, o.lead_time_s) for o in got] == [
        ("closure", "found", "c1", -2 * 3600.0),  # the first warning, two hours before the event
        ("reopening", "missed", None, None),  # an alert of the rule, but for the other side
        ("expulsion", "missed", None, None),
    ]


def test_format_lead() -> None:
    assert format_lead(None) == "—"
    assert format_lead(10) == "at once"
    assert format_lead(-5400) == "1h 30m before"
    assert format_lead(93784) == "1d 2h after"


# -- diffs and gates --------------------------------------------------------------------------------


def test_diff_added_removed_changed() -> None:
    base = [
        alert("same", "border-closed", ["a"], hours=1),
        alert("sev", "envoy-expelled", ["c"], hours=2),
        alert("grow", "border-closed", ["b"], hours=3, side="ALPHA"),
        alert("gone", "border-reopened", ["e"], hours=4),
    ]
    new = [
        alert("same", "border-closed", ["a"], hours=1),
        alert("sev", "envoy-expelled", ["c"], hours=2, severity="high"),  # same id, raised severity
        alert("grown", "border-closed", ["b", "f"], hours=3, side="ALPHA"),  # overlapping evidence
        alert("other-side", "border-closed", ["b"], hours=3, side="BETA"),  # another group: added
        alert("fresh", "border-closed", ["g"], hours=5),
    ]
    d = diff_alerts(base, new)
    assert d.unchanged == 1
    assert [a.id for a in d.added] == ["other-side", "fresh"]
    assert [a.id for a in d.removed] == ["gone"]
    assert [(c.before.id, c.after.id, c.fields) for c in d.changed] == [
        ("sev", "sev", ("severity",)),
        ("grow", "grown", ("evidence",)),
    ]
    data = d.to_json()
    assert set(data) == {"added", "removed", "changed", "unchanged"}
    assert data["changed"][0]["before"]["severity"] == "medium" and data["changed"][0]["after"]["severity"] == "high"


def test_score_delta_and_lost_true_positives() -> None:
    labels, label_map, seen = small_truth()
    before = score(
        [alert("A1", "border-closed", ["a"]), alert("B1", "border-closed", ["b"])], labels, label_map, seen=seen
    )
    after = score(
        [alert("A1", "border-closed", ["a"]), alert("C1", "envoy-expelled", ["c"])], labels, label_map, seen=seen
    )
    assert lost_true_positives(before, after) == [("b", "border-closed")]
    delta = score_delta(before, after)
    assert delta["per_rule"]["border-closed"]["recall"] == {"before": 1.0, "after": 0.5, "change": -0.5}
    assert delta["lost_true_positives"] == [{"id": "b", "label_key": "b", "rule": "border-closed"}]
    assert delta["new_true_positives"] == [{"id": "c", "label_key": "c", "rule": "envoy-expelled"}]


def test_fail_under_parsing_and_checking() -> None:
    th = parse_fail_under("precision=0.9, recall=0.5,border-closed:f1=0.6")
    assert [(t.metric, t.minimum, t.rule) for t in th] == [
        ("precision", 0.9, None),
        ("recall", 0.5, None),
        ("f1", 0.6, "border-closed"),
    ]
    labels, label_map, seen = small_truth()
    s = score([alert("A1", "border-closed", ["a"]), alert("A2", "border-closed", ["d"])], labels, label_map, seen=seen)
    failures = check_thresholds(s, th)
    assert failures == [
        "precision = 0.500 < 0.9",
        "recall = 0.333 < 0.5",
        "border-closed:f1 = 0.500 < 0.6",
    ]
    assert check_thresholds(s, parse_fail_under("envoy-expelled:precision=0.1")) == [
        "envoy-expelled:precision is undefined (nothing to divide by), required ≥ 0.1"
    ]
    for bad in ("precision", "speed=1", "recall=x", "recall=2", ""):
        with pytest.raises(ValueError):
            parse_fail_under(bad)


# -- invariants -------------------------------------------------------------------------------------

ITEMS = [f"i{k}" for k in range(8)]
LABELS = ["CLOSED", "OPEN", "EXPELLED"]
MAP = LabelMap(
    "m", {"CLOSED": ("border-closed",), "OPEN": ("border-reopened",), "EXPELLED": ("envoy-expelled", "border-closed")}
)

labels_st = st.dictionaries(st.sampled_from(ITEMS), st.frozensets(st.sampled_from(LABELS), max_size=2), min_size=1).map(
    lambda d: Labels("l", {k: LabelledItem(k, v) for k, v in d.items()})
)
# Ids as the engine makes them (rule, group and evidence hashed): the same id is the same alert.
alert_st = st.builds(
    lambda rule, ev, h, side, sev: alert(
        f"{rule}|{side}|{'+'.join(sorted(ev))}", rule, ev, hours=h, side=side, severity=sev
    ),
    st.sampled_from(sorted(RULES)),
    st.lists(st.sampled_from([*ITEMS, "other"]), min_size=1, max_size=3, unique=True),
    st.integers(0, 100),
    st.sampled_from(["ALPHA", "BETA"]),
    st.sampled_from(["medium", "high"]),
)
alerts_st = st.lists(alert_st, max_size=12, unique_by=lambda a: a.id)


@settings(max_examples=200, deadline=None)
@given(labels_st, alerts_st)
def test_score_invariants(labels: Labels, alerts: list[AlertRef]) -> None:
    s = score(alerts, labels, MAP)
    for rule, c in s.per_rule.items():
        assert c.tp + c.fn == c.positives
        assert c.fp <= c.alerts == sum(1 for a in alerts if a.rule == rule)
        for v in (c.precision, c.recall, c.f1):
            assert v is None or 0.0 <= v <= 1.0
        if c.f1 is not None and c.precision is not None and c.recall is not None:
            assert min(c.precision, c.recall) - 1e-12 <= c.f1 <= max(c.precision, c.recall) + 1e-12
    for m in ("tp", "fp", "fn", "alerts", "positives"):
        assert getattr(s.overall, m) == sum(getattr(c, m) for c in s.per_rule.values())
    assert len(s.outcomes) == s.overall.positives


@settings(max_examples=200, deadline=None)
@given(labels_st, alerts_st, alert_st)
def test_another_alert_never_loses_a_true_positive(labels: Labels, alerts: list[AlertRef], extra: AlertRef) -> None:
    before = score(alerts, labels, MAP)
    after = score([*alerts, extra.__class__(**{**extra.__dict__, "id": "extra"})], labels, MAP)
    assert lost_true_positives(before, after) == []
    for rule in before.per_rule:
        assert after.per_rule[rule].tp >= before.per_rule[rule].tp
        assert after.per_rule[rule].fn <= before.per_rule[rule].fn


@settings(max_examples=200, deadline=None)
@given(alerts_st, alerts_st)
def test_diff_accounts_for_every_alert(base: list[AlertRef], new: list[AlertRef]) -> None:
    d = diff_alerts(base, new)
    assert len(d.added) + len(d.changed) + d.unchanged == len(new)
    assert len(d.removed) + len(d.changed) + d.unchanged == len(base)
    for c in d.changed:
        assert c.fields and c.before.rule == c.after.rule and dict(c.before.group) == dict(c.after.group)
        assert set(c.before.evidence) & set(c.after.evidence)
    same = diff_alerts(new, new)
    assert (same.added, same.removed, same.changed, same.unchanged) == ([], [], [], len(new))


def test_an_expected_event_found_by_a_false_alert_says_so() -> None:
    """Research-analyst audit (LOW-1): "truce takes effect … alerted a day early" was found by an alert citing a
    sentence that the truce *will* begin, which the scores counted false; the table read as an early warning."""
    from watchfloor.evaluation import Truth
    from watchfloor.scoring.truth import ExpectedEvent, Timeline

    labels = Labels("labels.csv", {"a": LabelledItem("a", frozenset({"CLOSED"}))})
    label_map = LabelMap("map.yaml", {"CLOSED": ("border-closed",)})
    timeline = Timeline(
        "timeline.csv",
        [ExpectedEvent("closure", at(5), "border-closed"), ExpectedEvent("closure 2", at(50), "border-closed")],
    )
    alerts = [alert("EARLY", "border-closed", ["rumour"], hours=1), alert("REAL", "border-closed", ["a"], hours=49)]
    s = Truth(labels, label_map, timeline, seen={"a": at(48)}).score(alerts, timedelta(days=1))
    assert s is not None
    found = {t.event: (t.alert, t.false_alert) for t in s.timeline}
    assert found == {"closure": ("EARLY", True), "closure 2": ("REAL", False)}
    assert s.to_json()["timeline"][0]["false_alert"] is True and "false_alert" not in s.to_json()["timeline"][1]


def test_a_true_alert_finds_an_event_before_an_earlier_false_one() -> None:
    """Outside trial 47 (M3): "two US hostages freed 20 Oct 19:00 → alerted 16 Oct 17:37, -4d1h, by a false alert",
    though a true alert of the same rule fired on 20 Oct at 16:55 and no other event used it. The earliest true
    alert that fits an event finds it, and the table says a false one came earlier; a false alert finds an event only
    when no true one fits it."""
    from watchfloor.evaluation import Truth
    from watchfloor.scoring.truth import ExpectedEvent, Timeline

    labels = Labels("labels.csv", {"a": LabelledItem("a", frozenset({"FREED"})), "b": LabelledItem("b", frozenset())})
    label_map = LabelMap("map.yaml", {"FREED": ("hostages-released",)})
    timeline = Timeline(
        "timeline.csv",
        [
            ExpectedEvent("two hostages freed", at(100), "hostages-released"),
            ExpectedEvent("no true alert for it", at(300), "hostages-released"),
        ],
    )
    alerts = [
        alert("PLEA", "hostages-released", ["b"], hours=2),  # a plea for release, four days early: false
        alert("REAL", "hostages-released", ["a"], hours=98),  # the release itself, two hours before the event time
        alert("REAL2", "hostages-released", ["a"], hours=99),  # later true ones do not replace the first
        alert("WISH", "hostages-released", ["b"], hours=290),
        alert("WISH2", "hostages-released", ["b"], hours=295),
    ]
    s = Truth(labels, label_map, timeline, seen={"a": at(97), "b": at(1)}).score(alerts, timedelta(days=7))
    assert s is not None
    got = {t.event: (t.alert, t.false_alert, t.earlier_false_at) for t in s.timeline}
    assert got == {
        "two hostages freed": ("REAL", False, at(2)),
        # only false alerts fit it (REAL2 is 8d 9h away): the earliest of them, said to be false
        "no true alert for it": ("WISH", True, None),
    }
    rows = s.to_json()["timeline"]
    assert rows[0]["earlier_false_alert"] == at(2).isoformat() and "false_alert" not in rows[0]
    assert rows[1]["false_alert"] is True and "earlier_false_alert" not in rows[1]
    from watchfloor.report import _timeline_events_section

    html = _timeline_events_section({"scores": {"timeline": rows}})
    assert f"found (earlier false alert at {at(2):%Y-%m-%d %H:%M} UTC)" in html and "found by a false alert<" in html


def test_with_events_flooding_and_over_throttling_both_cost() -> None:
    """Re-check of the analyst audit (N2): two distinct strike waves of five reports and a false report. Without
    a notion of story, flooding (one alert a report) scored a better precision than one alert a wave, and a
    30-day realert that never told the second wave kept recall 1.00 (it was 'covered'). With an `event` column in
    the labels, an alert that only retells a told event is a repeat (no news: not a true alert), and a held-back
    report is covered only by an alert of its own event: the sensible pack scores best."""
    items = {
        f"{w}{i}": LabelledItem(f"{w}{i}", frozenset({"STRIKE"}), event=f"wave {w}") for w in "ab" for i in range(5)
    }
    items["film"] = LabelledItem("film", frozenset())
    labels = Labels("labels.csv", items)
    label_map = LabelMap("map.yaml", {"STRIKE": ("strike",)})
    false = alert("F", "strike", ["film"], hours=100)
    flood = [alert(k, "strike", [k], hours=n) for n, k in enumerate(sorted(k for k in items if k != "film"))]
    sensible = [
        replace(alert("A", "strike", ["a0"], hours=0), repeats=("a1", "a2", "a3", "a4")),
        replace(alert("B", "strike", ["b0"], hours=50), repeats=("b1", "b2", "b3", "b4")),
    ]
    throttled = [
        replace(alert("A", "strike", ["a0"], hours=0), repeats=("a1", "a2", "a3", "a4", *(f"b{i}" for i in range(5))))
    ]

    def scored(alerts: list[AlertRef]) -> Counts:
        return score([*alerts, false], labels, label_map).per_rule["strike"]

    f, s, t = scored(flood), scored(sensible), scored(throttled)
    assert (f.alerts, f.repeat_alerts, f.true_alerts, f.fp) == (11, 8, 2, 1)
    assert (s.alerts, s.repeat_alerts, s.true_alerts, s.covered) == (3, 0, 2, 8)
    assert (t.alerts, t.true_alerts, t.covered, t.fn, t.events_caught, t.events) == (2, 1, 4, 5, 1, 2)
    assert s.precision == pytest.approx(2 / 3) and f.precision == pytest.approx(2 / 11) and t.precision == 0.5
    assert (s.recall, f.recall, t.recall) == (1.0, 1.0, 0.5)
    assert (s.event_recall, f.event_recall, t.event_recall) == (1.0, 1.0, 0.5)
    assert s.f1 is not None and f.f1 is not None and t.f1 is not None and s.f1 > max(f.f1, t.f1)


def test_each_alert_has_the_verdict_the_counts_gave_it() -> None:
    """The scores say of every alert what they counted it as (true, false, repeat, unscored) and which positives
    of its rule it rests on: what --csv's alerts.csv and the JSON's `scores.verdicts` write, never worked out
    again apart from the counts."""
    items = {k: LabelledItem(k, frozenset({"STRIKE"}), event="wave") for k in ("a0", "a1")}
    labels = Labels("labels.csv", {**items, "film": LabelledItem("film", frozenset())})
    label_map = LabelMap("map.yaml", {"STRIKE": ("strike",)})
    alerts = [
        alert("A", "strike", ["x", "a0"], hours=0),
        alert("B", "strike", ["a1"], hours=1),  # the same wave again: a repeat
        alert("F", "strike", ["film"], hours=2),
        alert("U", "other", ["a0"], hours=3),  # no label maps to its rule
    ]
    s = score(alerts, labels, label_map)
    got = [(v.alert, v.verdict, v.positives) for v in s.verdicts]
    assert got == [("A", "true", ("a0",)), ("B", "repeat", ("a1",)), ("F", "false", ()), ("U", "unscored", ())]
    c = s.per_rule["strike"]
    assert (c.true_alerts, c.repeat_alerts, c.fp) == (1, 1, 1)
    assert s.to_json()["verdicts"][1] == {"id": "B", "rule": "strike", "verdict": "repeat", "positives": ["a1"]}


def test_an_escalation_is_news_whatever_the_group_told_of_other_events_before() -> None:
    """Outside trial 51, H1: a rule without group_by escalates each story (medium unconfirmed, then high confirmed).
    The first story's high alert must not make the second story's escalation a repeat: the verdicts are those of
    a replay that starts at the second story, so they do not depend on how much of the year is replayed."""
    items = {k: LabelledItem(k, frozenset({"SWAP"}), event=k[0]) for k in ("a0", "a1", "b0", "b1")}
    labels = Labels("labels.csv", items)
    label_map = LabelMap("map.yaml", {"SWAP": ("swap",)})
    year = [
        alert("A1", "swap", ["a0"], hours=0, severity="medium"),
        alert("A2", "swap", ["a1"], hours=1, severity="high"),  # story a confirmed: news
        alert("A3", "swap", ["a1"], hours=20, severity="high"),  # story a told again, no higher: a repeat
        alert("B1", "swap", ["b0"], hours=200, severity="medium"),
        alert("B2", "swap", ["b1"], hours=201, severity="high"),  # story b confirmed: news, as in a replay from b
    ]
    whole = {v.alert: v.verdict for v in score(year, labels, label_map).verdicts}
    assert whole == {"A1": "true", "A2": "true", "A3": "repeat", "B1": "true", "B2": "true"}
    later = {v.alert: v.verdict for v in score(year[3:], labels, label_map).verdicts}
    assert later == {k: whole[k] for k in later}


def two_rules_one_label() -> tuple[Labels, LabelMap, list[AlertRef], list[AlertRef]]:
    """Outside trial 53, HIGH-1: a candidate adds `mutiny-over`, answering STANDDOWN, which `stand-down` already
    answers. Three labelled items of two events; the baseline catches m1 and s1, the candidate s2 too."""
    labels = Labels(
        "labels.csv",
        {
            "m1": LabelledItem("m1", frozenset({"MUTINY"}), event="mutiny"),
            "s1": LabelledItem("s1", frozenset({"STANDDOWN"}), event="standdown"),
            "s2": LabelledItem("s2", frozenset({"STANDDOWN"}), event="standdown"),
        },
    )
    label_map = LabelMap("map.yaml", {"MUTINY": ("mutiny",), "STANDDOWN": ("stand-down", "mutiny-over")})
    base = [alert("M", "mutiny", ["m1"], hours=0), alert("SD", "stand-down", ["s1"], hours=1)]
    return labels, label_map, base, [*base, alert("MO", "mutiny-over", ["s1", "s2"], hours=2)]


def test_overall_counts_each_labelled_item_and_each_event_once() -> None:
    labels, label_map, base, cand = two_rules_one_label()
    before, after = score(base, labels, label_map), score(cand, labels, label_map)
    # (item, rule) pairs: s1 and s2 count for two rules each; the baseline is scored 0 of 2 for mutiny-over
    assert (after.overall.positives, after.overall.tp, before.overall.tp) == (5, 4, 2)
    # each item once, caught by any rule its labels map to: the map does not change it
    assert (after.overall.items, after.overall.items_caught, before.overall.items_caught) == (3, 3, 2)
    assert after.overall.item_recall == 1.0 and before.overall.item_recall == pytest.approx(2 / 3)
    # two events, each once (was 3 of 3: standdown once per rule)
    assert (after.overall.events, after.overall.events_caught) == (2, 2)
    assert (before.overall.events, before.overall.events_caught) == (2, 2)
    assert score_delta(before, after)["overall"]["item_recall"]["change"] == pytest.approx(1 / 3)
    gate = parse_fail_under("item_recall=0.9")
    assert check_thresholds(after, gate) == [] and check_thresholds(before, gate) != []


def test_a_comparison_says_what_its_overall_cannot_tell() -> None:
    labels, label_map, base, cand = two_rules_one_label()
    # each run with its own packs' map: the baseline has no mutiny-over, so 3 positives against 5
    base_map = LabelMap("packs", {"MUTINY": ("mutiny",), "STANDDOWN": ("stand-down",)})
    before, after = score(base, labels, base_map), score(cand, labels, label_map)
    (warning,) = comparison_warnings(before, after)
    assert "positives differ (3 in the baseline, 5 here)" in warning and "per item" in warning
    assert comparison_warnings(score(base, labels, label_map), after) == []
    # HIGH-2: without an `event` column a re-alert is a true alert; the comparison says so
    no_events = Labels("labels.csv", {k: replace(v, event=None) for k, v in labels.items.items()})
    got = comparison_warnings(score(base, no_events, label_map), score(cand, no_events, label_map))
    assert len(got) == 1 and "no `event` column" in got[0] and "precision" in got[0]


def test_the_diff_lists_each_alert_with_its_verdict() -> None:
    """Outside trial 53, MED-4: the added alerts of a flooding candidate (1 true, 6 repeats, 2 false) were listed
    without a verdict; the JSON and the terminal give each its own, an added one's in this run, a removed one's in
    the baseline."""
    from watchfloor.cli._backtest_view import print_diff
    from watchfloor.scoring.diff import with_verdicts

    labels = Labels("labels.csv", {k: LabelledItem(k, frozenset({"CLOSED"}), event="closure") for k in ("a", "b")})
    label_map = LabelMap("map.yaml", {"CLOSED": ("border-closed",)})
    base = [alert("OLD", "border-closed", ["x"], hours=9, place="north")]  # a false alert the candidate drops
    cand = [alert("A", "border-closed", ["a"], hours=0), alert("B", "border-closed", ["b"], hours=6)]
    before, after = score(base, labels, label_map), score(cand, labels, label_map)
    d = diff_alerts(base, cand)
    data = d.to_json()
    with_verdicts(data, before, after)
    assert [(a["id"], a["verdict"]) for a in data["added"]] == [("A", "true"), ("B", "repeat")]
    assert [(a["id"], a["verdict"]) for a in data["removed"]] == [("OLD", "false")]
    screen = io.StringIO()
    print_diff(d, "old.yaml", after, before, console=Console(file=screen, width=200, color_system=None))
    lines = screen.getvalue().splitlines()
    assert lines[1].startswith("  + border-closed medium at") and lines[1].endswith("— true")
    assert lines[2].endswith("— repeat") and lines[3].startswith("  - ") and lines[3].endswith("— false")


def test_the_lead_per_event_is_the_first_alert_of_the_event_not_moved_by_repeats() -> None:
    """Outside trial 53, MED-1: both packs told the mutiny at once; the candidate's re-alerts, citing reports first
    hours later, made its median item lead +4h50m against 0m. Per event, both read the same."""
    items = {k: LabelledItem(k, frozenset({"MUTINY"}), event="mutiny") for k in ("m0", "m1", "m2")}
    items["s0"] = LabelledItem("s0", frozenset({"MUTINY"}), event="standdown", time=at(20))
    labels = Labels("labels.csv", items)
    label_map = LabelMap("map.yaml", {"MUTINY": ("mutiny",)})
    seen = {"m0": at(0), "m1": at(1), "m2": at(2), "s0": at(21)}
    base = [replace(alert("A", "mutiny", ["m0"], hours=0), repeats=("m1", "m2")), alert("S", "mutiny", ["s0"], 21)]
    flood = [alert("A", "mutiny", ["m0"], hours=0), alert("B", "mutiny", ["m1"], 7), alert("C", "mutiny", ["m2"], 13)]
    before = score(base, labels, label_map, seen=seen).overall
    after = score([*flood, alert("S", "mutiny", ["s0"], 21)], labels, label_map, seen=seen).overall
    assert after.lead_times != before.lead_times  # per item, the repeats moved it (0, 6 h, 11 h; 1 h)
    # per event: the mutiny at once, the stand-down an hour after its label's time (late: positive)
    assert before.event_lead_times == after.event_lead_times == [0.0, 3600.0]
    assert after.to_json()["event_lead_time_s"] == {"min": 0.0, "median": 1800.0, "max": 3600.0}
    # without events there is no event lead (each item is its own story; its lead is the item lead)
    no_events = Labels("labels.csv", {k: replace(v, event=None) for k, v in items.items()})
    assert score(flood, no_events, label_map, seen=seen).overall.event_lead_times == []


def test_scores_csv_has_the_item_and_event_columns_the_json_has() -> None:
    # outside trial 53: the CSV agrees with the JSON cell for cell, the per-item recall and the event lead too
    from watchfloor.report_csv import SCORE_COLUMNS, score_rows

    labels, label_map, _base, cand = two_rules_one_label()
    data = score(cand, labels, label_map).to_json()
    overall = dict(zip(SCORE_COLUMNS, score_rows(data)[-1], strict=True))
    assert (overall["items"], overall["items_caught"], overall["item_recall"]) == (3, 3, 1.0)
    assert overall["event_lead_time_median_s"] == data["overall"]["event_lead_time_s"]["median"]
    low, high = data["overall"]["precision_interval"]
    assert (overall["precision_low"], overall["precision_high"]) == (low, high)


@pytest.mark.parametrize(
    ("change", "text"),
    [(-0.004, "-0.004"), (0.0004, "+0.0004"), (-0.28, "-0.28"), (0.005, "+0.01"), (0.19, "+0.19"), (3e-6, "+3.0e-06")],
)
def test_a_change_that_two_decimals_round_to_zero_keeps_its_digits(change: float, text: str) -> None:
    """Outside trial 53, MED-3: a precision 0.004 lower printed "-0.00", which reads as no change."""
    from watchfloor.scoring.scores import signed_change

    assert signed_change(change) == text


def test_the_score_change_table_does_not_print_a_small_change_as_zero() -> None:
    from watchfloor.cli._backtest_view import print_score_change
    from watchfloor.scoring import Scores

    before, after = Counts(alerts=250, fp=249), Counts(alerts=1000, fp=999)  # precision 0.004 -> 0.001: -0.003
    screen = io.StringIO()
    print_score_change(
        Scores({"r": after}, after, [], [], {}),
        Scores({"r": before}, before, [], [], {}),
        console=Console(file=screen, width=200, color_system=None),
    )
    row = next(line for line in screen.getvalue().splitlines() if line.lstrip().startswith("r "))
    assert "-0.003" in row and "-0.00 " not in row, row


@pytest.mark.parametrize(
    ("successes", "n", "interval"),
    [(1, 2, (0.0945, 0.9055)), (0, 10, (0.0, 0.2775)), (10, 10, (0.7225, 1.0)), (2, 9, (0.0632, 0.5474))],
)
def test_wilson_interval_of_known_counts(successes: int, n: int, interval: tuple[float, float]) -> None:
    from watchfloor.scoring.scores import wilson_interval

    got = wilson_interval(successes, n)
    assert got is not None and got == pytest.approx(interval, abs=5e-5)


def test_wilson_interval_of_nothing_is_none_and_the_json_says_it() -> None:
    from watchfloor.scoring.scores import wilson_interval

    assert wilson_interval(0, 0) is None
    assert Counts().to_json()["precision_interval"] is None
    c = Counts(alerts=2, fp=1, tp=1, fn=1, positives=2, items=2, items_caught=1).to_json()
    assert c["precision_interval"] == c["recall_interval"] == c["item_recall_interval"] == [0.0945, 0.9055]


def test_the_change_table_gives_each_rates_counts_and_a_note_when_they_are_few() -> None:
    from watchfloor.cli._backtest_view import print_scores
    from watchfloor.scoring import Scores

    before = Counts(alerts=2, fp=1, tp=1, fn=1, positives=2)  # prec. 1/2, recall 1/2
    after = Counts(alerts=9, fp=7, tp=2, fn=0, positives=2)  # prec. 2/9, recall 2/2
    screen = io.StringIO()
    print_scores(
        Scores({"r": after}, after, [], [], {}),
        Scores({"r": before}, before, [], [], {}),
        console=Console(file=screen, width=220, color_system=None),
    )
    text = screen.getvalue()
    change = text[text.index("change against the baseline") :]
    row = next(line for line in change.splitlines() if line.lstrip().startswith("r "))
    assert "-0.28 1/2→2/9" in row and "+0.50 1/2→2/2" in row, row
    note = " ".join(text[text.index("note: n too small to compare") :].split())
    assert "r prec. 1/2 [0.09, 0.91] → 2/9 [0.06, 0.55]" in note, note


def test_no_small_n_note_when_every_rate_rests_on_ten_or_more() -> None:
    from watchfloor.cli._backtest_view import small_n_note
    from watchfloor.scoring import Scores

    c = Counts(alerts=12, fp=2, tp=10, fn=5, positives=15)
    assert small_n_note(Scores({"r": c}, c, [], [], {})) is None
    few = Counts(alerts=3, fp=1, tp=10, fn=5, positives=15)
    assert small_n_note(Scores({"r": few}, few, [], [], {})) is not None
