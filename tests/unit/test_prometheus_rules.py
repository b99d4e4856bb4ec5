"""deploy/prometheus-rules.yaml names only metrics watchfloor exports (trial 42, MED-3: no alerting rules shipped, so
a failing channel or a stalled pipeline was invisible to /healthz for 30 minutes). The exported names are read from
the code that exports them (web/metrics.py's metric families, with the suffixes the exposition adds), so a metric
renamed or removed there fails here instead of leaving a rule that never fires. promtool is not needed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus-rules.yaml"
METRICS = REPO / "watchfloor" / "web" / "metrics.py"

# The names a family's samples take in the text exposition (prometheus_client): a counter's `_total`, a histogram's
# buckets, sum and count.
SUFFIXES = {
    "CounterMetricFamily": ("_total",),
    "GaugeMetricFamily": ("",),
    "HistogramMetricFamily": ("_bucket", "_sum", "_count"),
}


def exported() -> set[str]:
    tree = ast.parse(METRICS.read_text(encoding="utf-8"))
    loops = [n for n in ast.walk(tree) if isinstance(n, ast.For)]
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        kind = getattr(node.func, "id", None)
        if kind not in SUFFIXES:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            bases = [first.value]
        elif isinstance(first, ast.Name):  # a family per row of a `for status, name, what in ((...), ...)` loop
            bases = [name for loop in loops if node in set(ast.walk(loop)) for name in _loop_values(loop, first.id)]
            assert bases, f"line {node.lineno}: a metric name this test cannot read"
        else:
            continue
        names.update(base + suffix for base in bases for suffix in SUFFIXES[kind])
    return names


def _loop_values(loop: ast.For, var: str) -> list[str]:
    """The string values `var` takes in `for (…, var, …) in ((…), (…))` over literal rows; [] for any other loop."""
    if not isinstance(loop.target, ast.Tuple) or not isinstance(loop.iter, ast.Tuple):
        return []
    at = [i for i, t in enumerate(loop.target.elts) if isinstance(t, ast.Name) and t.id == var]
    if not at:
        return []
    return [
        row.elts[at[0]].value
        for row in loop.iter.elts
        if isinstance(row, ast.Tuple)
        and isinstance(row.elts[at[0]], ast.Constant)
        and isinstance(row.elts[at[0]].value, str)
    ]


def rules() -> list[dict[str, object]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [r for g in doc["groups"] for r in g["rules"]]


def test_the_exported_names_are_read_from_the_code() -> None:
    names = exported()
    # (the reading itself: names the README and the trial used)
    assert {
        "watchfloor_store_up",
        "watchfloor_deliveries_total",
        "watchfloor_last_cycle_age_seconds",
        "watchfloor_pipeline_stale_after_seconds",
        "watchfloor_run_first_cycle_pending_seconds",
        "watchfloor_detection_to_delivery_seconds_bucket",
        "watchfloor_deliveries_expired",  # (named in a loop over the ledger's gauges)
    } <= names
    assert "watchfloor_deliveries" not in names  # a counter is exposed with _total only


def test_every_rule_uses_only_metrics_that_are_exported() -> None:
    names = exported()
    for rule in rules():
        expr = str(rule["expr"])
        used = set(re.findall(r"\bwatchfloor_[a-z0-9_]+", expr))
        assert used, rule
        assert used <= names, f"{rule['alert']}: {sorted(used - names)} not exported"


def test_the_rules_cover_what_an_on_call_engineer_pages_on() -> None:
    got = {str(r["alert"]): str(r["expr"]) for r in rules()}
    for rule in got.values():
        assert rule.strip()
    assert all(isinstance(r.get("labels"), dict) and r["labels"].get("severity") for r in rules())  # type: ignore[union-attr]
    exprs = " ".join(got.values())
    for needed in (
        "watchfloor_store_up == 0",
        "watchfloor_last_cycle_age_seconds > watchfloor_pipeline_stale_after_seconds",
        # a live `run` killed before its first cycle ended recorded no cycle age (trial 50, MED-3)
        "watchfloor_run_first_cycle_pending_seconds > watchfloor_pipeline_stale_after_seconds",
        'watchfloor_deliveries_total{status="failed"}',
        "watchfloor_delivery_oldest_outstanding_seconds",
        "watchfloor_channel_pause_remaining_seconds",
    ):
        assert needed in exprs, needed
    assert len(got) == len(rules())  # no alert name twice


def test_the_readme_names_the_file_next_to_metrics() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "deploy/prometheus-rules.yaml" in readme
