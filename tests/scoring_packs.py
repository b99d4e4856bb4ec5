"""Rule packs the scoring and explain tests share (our own words): a flood watch whose count of 12 distinct
documents rests on more reports than an alert shows, and a busy count for the evidence search and pruning."""

from __future__ import annotations


def flood_pack(lateness: str = "12h") -> str:
    """Levee breaches reported widely: a count of 12 distinct documents within 30d, quiet 30d after."""
    return f"""
version: 1
name: test-flood-watch
settings: {{lateness: {lateness}}}
signals:
  levee_breach:
    match: {{all: [levee, {{any: ["breach*", "gave way"]}}]}}
    near: 6
detections:
  - id: breaches-widespread
    title: levee breaches reported widely
    severity: high
    pattern: {{count: {{signal: levee_breach, at_least: 12, distinct: document}}}}
    within: 30d
    realert: 30d
"""


def busy_pack(within: str) -> str:
    """A count of 12 distinct documents over one signal, within `within`, lateness 1h."""
    return f"""
version: 1
name: test-busy
settings: {{lateness: 1h}}
signals:
  levee_breach:
    match: {{all: [levee, breach]}}
detections:
  - id: windowed
    title: breaches
    severity: high
    pattern: {{count: {{signal: levee_breach, at_least: 12, distinct: document}}}}
    within: {within}
"""
