"""The backtest's result as CSV files for a spreadsheet: alerts, labelled items, scores, timeline, baseline diff."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchfloor.scoring import Labels

ENCODING = "utf-8-sig"
"""UTF-8 with a byte order mark: without one, Excel (the spreadsheet analysts open a .csv in by double-clicking)
reads the file in the machine's legacy code page and garbles every non-ASCII title (Cyrillic, Korean, the en
dash of 'DPRK–Russia'). Excel's own "CSV UTF-8" writes the mark; LibreOffice, Google Sheets and Python's
`encoding="utf-8-sig"` read it as such."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP, CSV Injection): a cell of text starting so is
written after a single quote, shown as text and never run."""

ALERT_COLUMNS = (
    "alert_id",
    "rule",
    "title",
    "severity",
    "confidence",
    "group",
    "attributes",
    "fired_at",
    "evidence_total",
    "first_event_id",
    "first_url",
    "first_source",
    "first_published_at",
)
ALERT_SCORE_COLUMNS = ("verdict", "positives", "lead_time_s")
"""alerts.csv's columns after ALERT_COLUMNS, with labels only."""

LABEL_COLUMNS = (
    "id",
    "label_key",
    "labels",
    "event",
    "group",
    "positive",
    "rule",
    "rule_labels",
    "status",
    "time",
    "time_from",
    "alert",
    "fired_at",
    "lead_time_s",
    "cited_by",
    "why",
)
SCORE_COLUMNS = (
    "run",
    "scope",
    "rule",
    "positives",
    "alerts",
    "true_alerts",
    "repeat_alerts",
    "tp",
    "covered",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
    "events",
    "events_caught",
    "event_recall",
    "items",
    "items_caught",
    "item_recall",
    "lead_time_min_s",
    "lead_time_median_s",
    "lead_time_max_s",
    "event_lead_time_median_s",
    # 95 % Wilson intervals of precision and recall (scores: precision_interval, recall_interval)
    "precision_low",
    "precision_high",
    "recall_low",
    "recall_high",
)
DIFF_COLUMNS = (
    "change",
    "rule",
    "group",
    "alert_before",
    "alert_after",
    "fired_at_before",
    "fired_at_after",
    "severity_before",
    "severity_after",
    "title_before",
    "title_after",
    "changes",
    "details",
    # what the scores made of each side (true, repeat, false, unscored), with labels: the terminal, JSON and HTML
    # said it, no CSV did (outside trial 63, MED-3: a removed baseline alert's verdict was in no CSV)
    "verdict_before",
    "verdict_after",
)
TIMELINE_COLUMNS = (
    "event",
    "rule",
    "group",
    "time",
    "status",
    "alert",
    "fired_at",
    "lead_time_s",
    "false_alert",
    "earlier_false_alert",
)
FILES = ("alerts.csv", "labels.csv", "scores.csv", "timeline.csv", "diff.csv")
"""Every file --csv may write; one this run does not write is removed, so a directory never mixes two runs."""


def cell(value: Any) -> Any:
    """A value as its CSV cell: empty for None, true/false, numbers as they are, and text that a spreadsheet
    would take for a formula neutralised (FORMULA_STARTS): titles, sources, URLs and ids come from articles."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def utc(value: Any) -> str | None:
    """An ISO 8601 time of the JSON result, in UTC (as the terminal shows times)."""
    if not value:
        return None
    return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()


def pairs(values: Mapping[str, Any]) -> str:
    """`party=RUS;place=KURSK`, as a timeline's group is written; several values of one name joined by `|`."""
    return ";".join(
        f"{k}={'|'.join(map(str, v)) if isinstance(v, list | tuple) else v}" for k, v in sorted(values.items())
    )


def unwritable_dir(path: Path) -> str | None:
    """Why the CSV files cannot be written in `path` (created when missing), or None: checked before the replay."""
    if path.exists():
        if not path.is_dir():
            return "not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return "not writable"
        for name in FILES:
            f = path / name
            if f.is_dir():
                return f"{f} is a directory"
            if f.exists() and not os.access(f, os.W_OK):
                return f"{f} is not writable"
        return None
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return f"no such directory {parent}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    return None


def write_backtest_csv(
    directory: Path, result: Mapping[str, Any], labels: Labels | None = None, replayed: Iterable[str] = ()
) -> list[Path]:
    """alerts.csv, scores.csv and, with labels, labels.csv, with a timeline, timeline.csv, and with a baseline,
    diff.csv into `directory` (made if missing), every row from the JSON result `result` (what --json writes), so
    the two agree cell for cell. `labels`: the labels as scored (keyed by document id); `replayed`: the labelled
    document ids among the replayed events (Truth.seen): labels.csv has a row for each, negatives too. Returns the
    files written."""
    directory.mkdir(exist_ok=True)
    scores = result.get("scores")
    with_labels = labels is not None and scores is not None
    tables: dict[str, tuple[Sequence[str], list[list[Any]]]] = {
        "alerts.csv": (
            (*ALERT_COLUMNS, *ALERT_SCORE_COLUMNS) if with_labels else ALERT_COLUMNS,
            alert_rows(result.get("alerts", []), scores if with_labels else None),
        ),
    }
    if with_labels and labels is not None and scores is not None:
        tables["labels.csv"] = (LABEL_COLUMNS, label_rows(labels, set(replayed), scores))
    if scores is not None and scores.get("per_rule"):
        base = (result.get("baseline") or {}).get("scores")
        tables["scores.csv"] = (SCORE_COLUMNS, score_rows(scores, base))
    if scores is not None and scores.get("timeline"):
        tables["timeline.csv"] = (TIMELINE_COLUMNS, timeline_rows(scores["timeline"]))
    if "diff" in result:
        tables["diff.csv"] = (DIFF_COLUMNS, diff_rows(result["diff"]))
    written: list[Path] = []
    for name in FILES:
        path = directory / name
        if name not in tables:
            path.unlink(missing_ok=True)  # a previous run's: it would not match these
            continue
        header, rows = tables[name]
        # newline="": the csv module ends each row with CRLF itself (RFC 4180) and quotes line breaks in cells.
        with path.open("w", encoding=ENCODING, newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows([cell(v) for v in row] for row in rows)
        written.append(path)
    return written


def alert_rows(alerts: Iterable[Mapping[str, Any]], scores: Mapping[str, Any] | None) -> list[list[Any]]:
    """One row per alert that stands, in the JSON's order; with `scores`, the verdict the scores gave it, the
    positives of its rule it rests on (as the labels file names them, space-separated) and the lead time of the
    earliest positive it was the first alert to catch (scores.events)."""
    verdicts: dict[str, Mapping[str, Any]] = {}
    key_of: dict[str, str] = {}
    first: dict[str, Mapping[str, Any]] = {}
    if scores is not None:
        verdicts = {v["id"]: v for v in scores.get("verdicts", [])}
        for e in scores.get("events", []):
            key_of[e["id"]] = e["label_key"]
            if e["status"] == "tp" and e["alert"] is not None and e["time"] is not None:
                was = first.get(e["alert"])
                if was is None or datetime.fromisoformat(e["time"]) < datetime.fromisoformat(was["time"]):
                    first[e["alert"]] = e
    rows: list[list[Any]] = []
    for a in alerts:
        ev = a.get("evidence") or [{}]
        head = ev[0]
        row = [
            a["id"],
            a["rule"],
            a.get("title"),
            a.get("severity"),
            a.get("confidence"),
            pairs(a.get("group") or {}),
            pairs(a.get("attributes") or {}),
            utc(a["fired_at"]),
            a.get("evidence_total", len(ev)),
            head.get("event_id"),
            head.get("url"),
            head.get("source"),
            utc(head.get("published_at")),
        ]
        if scores is not None:
            v = verdicts.get(a["id"], {})
            caught = first.get(a["id"])
            row += [
                v.get("verdict"),
                " ".join(key_of.get(p, p) for p in v.get("positives", [])),
                caught["lead_time_s"] if caught is not None else None,
            ]
        rows.append(row)
    return rows


def label_rows(labels: Labels, replayed: set[str], scores: Mapping[str, Any]) -> list[list[Any]]:
    """One row per labelled item among the replayed events and rule it is a positive of (scores.events), in the
    labels file's order; a negative, or an item no label of which maps to a rule, one row with no rule."""
    outcomes: dict[str, list[Mapping[str, Any]]] = {}
    for e in scores.get("events", []):
        outcomes.setdefault(e["id"], []).append(e)
    rows: list[list[Any]] = []
    for item in sorted(labels.items.values(), key=lambda it: (it.line, it.id)):
        if item.id not in replayed:
            continue  # not scored (a warning names them)
        own = [item.id, item.label_key, ";".join(sorted(item.labels)), item.event, item.group_text or None]
        mine = sorted(outcomes.get(item.id, []), key=lambda e: str(e["rule"]))
        if not mine:
            rows.append([*own, False, *[None] * (len(LABEL_COLUMNS) - len(own) - 1)])
            continue
        for e in mine:
            rows.append(
                [
                    *own,
                    True,
                    e["rule"],
                    ";".join(e["labels"]),
                    e["status"],
                    utc(e["time"]),
                    e["time_from"],
                    e["alert"],
                    utc(e["fired_at"]),
                    e["lead_time_s"],
                    " ".join(e.get("cited_by") or []),
                    e.get("why"),
                ]
            )
    return rows


def score_rows(scores: Mapping[str, Any], baseline: Mapping[str, Any] | None = None) -> list[list[Any]]:
    """Each scored rule and the overall row, as the JSON's `scores` gives them (`run` "current"); with a scored
    baseline, its rows after them (`run` "baseline")."""
    rows: list[list[Any]] = []
    for run, s in (("current", scores), ("baseline", baseline)):
        if s is None:
            continue
        entries = [("rule", r, c) for r, c in sorted(s.get("per_rule", {}).items())]
        # a rule of the map the run's packs do not have (a baseline's, beside a candidate that adds it): a row with
        # no numbers, not one of zeros and misses
        entries += [("rule", r, {}) for r in s.get("absent_rules") or ()]
        entries.sort(key=lambda e: str(e[1]))
        entries.append(("overall", None, s["overall"]))
        for scope, rule, c in entries:
            lead = c.get("lead_time_s") or {}
            rows.append(
                [
                    run,
                    scope,
                    rule,
                    *(c.get(k) for k in SCORE_COLUMNS[3:-8]),
                    lead.get("min"),
                    lead.get("median"),
                    lead.get("max"),
                    (c.get("event_lead_time_s") or {}).get("median"),
                    *(c.get("precision_interval") or (None, None)),
                    *(c.get("recall_interval") or (None, None)),
                ]
            )
    return rows


def timeline_rows(timeline: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """One row per expected event of `--timeline`, as the JSON's `scores.timeline` gives it: found (by which alert,
    when, how early) or missed. Its misses are in no other file: scores.csv's event columns count the labels'
    `event` column, not the timeline."""
    return [
        [
            t["event"],
            t["rule"],
            pairs(t.get("group") or {}),
            utc(t["time"]),
            t["status"],
            t.get("alert"),
            utc(t.get("fired_at")),
            t.get("lead_time_s"),
            bool(t.get("false_alert")),
            utc(t.get("earlier_false_alert")),
        ]
        for t in timeline
    ]


def diff_rows(diff: Mapping[str, Any]) -> list[list[Any]]:
    """One row per alert added, removed or changed against the baseline (unchanged ones are only counted)."""
    rows: list[list[Any]] = []

    def row(change: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, what: Any = None) -> None:
        either = after if after is not None else before
        assert either is not None
        b, a = before or {}, after or {}
        rows.append(
            [
                change,
                either["rule"],
                pairs(either.get("group") or {}),
                b.get("id"),
                a.get("id"),
                utc(b.get("fired_at")),
                utc(a.get("fired_at")),
                b.get("severity"),
                a.get("severity"),
                b.get("title"),
                a.get("title"),
                ";".join(what["changes"]) if what else None,
                "; ".join(what["details"]) if what else None,
                b.get("verdict"),
                a.get("verdict"),
            ]
        )

    for a in diff.get("added", []):
        row("added", None, a)
    for b in diff.get("removed", []):
        row("removed", b, None)
    for c in diff.get("changed", []):
        row("changed", c["before"], c["after"], c)
    return rows
