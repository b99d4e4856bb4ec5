"""`backtest --from-store` replays with the rules the store's alerts came from: a --config's `rules:` when
--rules is not given, and a line when the rules replayed are not those (outside trial 15, M2: a desk's own pack
replayed with the bundled one, 0 alerts, nothing said). Documents are short items in our own words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

pytestmark = pytest.mark.functional

PACK = Path(__file__).resolve().parents[1] / "data" / "rules" / "world_news.yaml"
runner = CliRunner()
ITEMS = [
    ("wn-1", "2024-03-01T08:00:00+00:00", "Russia launches missiles at Kyiv overnight", "Wire A"),
    ("wn-2", "2024-03-01T09:30:00+00:00", "Ukraine says drones hit a Russian depot", "Wire B"),
    ("wn-3", "2024-03-02T11:00:00+00:00", "Grain prices steady in Chicago", "Wire A"),
]


def desk(tmp_path: Path) -> tuple[Path, str]:
    """A desk whose config names its own pack (not the bundled one), after `run` read its inbox."""
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(
        "".join(
            json.dumps({"type": "news.article", "id": i, "published_at": t, "title": title, "source": src}) + "\n"
            for i, t, title, src in ITEMS
        ),
        encoding="utf-8",
    )
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    cfg = tmp_path / "desk.yaml"
    cfg.write_text(f"store: {store}\nrules: [{PACK}]\nsources:\n  - {{kind: jsonl, path: {inbox}}}\n", encoding="utf-8")
    res = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    return cfg, store


def alerts(tmp_path: Path, *args: str) -> tuple[str, list[str]]:
    out = tmp_path / "bt.json"
    res = runner.invoke(app, ["backtest", "--order", "log", "--json", str(out), *args])
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split()), sorted(a["rule"] for a in json.loads(out.read_text())["alerts"])


def test_from_store_with_config_replays_the_configs_rules(tmp_path: Path) -> None:
    cfg, store = desk(tmp_path)
    said, raised = alerts(tmp_path, "--from-store", store, "--config", str(cfg))
    assert raised and set(raised) <= {"missile", "missile-count"}, said
    assert "note:" not in said, said  # the rules `run` used: nothing to say


def test_from_store_with_other_rules_says_so_and_what_to_pass(tmp_path: Path) -> None:
    _cfg, store = desk(tmp_path)
    said, raised = alerts(tmp_path, "--from-store", store)  # the bundled pack: none of the desk's rules
    assert raised == [], said
    assert "note: the store's alerts name rules that the bundled builtin:dprk_russia" in said, said
    assert "(missile)" in said and "pass its --config" in said, said
    # Every rule id there, and more rules than `run` had: the `rules` checkpoint `run` keeps tells.
    said, _raised = alerts(tmp_path, "--from-store", store, "--rules", str(PACK), "--rules", "builtin:dprk_russia")
    assert f"note: the rules `run` last started with on this store are not --rules {PACK} builtin:dprk_russia" in said
    assert "pass its --config" in said, said
