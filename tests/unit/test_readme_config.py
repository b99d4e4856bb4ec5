"""The README's example config is what a newcomer copies first: it must load as shown (a walk of the docs found
its `serve:` section, every key of it commented out, refused as "Input should be a valid dictionary")."""

from __future__ import annotations

from pathlib import Path

from watchfloor.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_config_loads_as_shown(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("### Config", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block.lstrip().startswith("store:") and "\nserve:" in block
    path = tmp_path / "watchfloor.yaml"
    path.write_text(block, encoding="utf-8")
    cfg = load_config(path)
    assert [c.name for c in cfg.channels] == ["desk", "console", "archive", "pager"]
    assert cfg.serve.admin_token_env is None and cfg.health.source_failing.total_seconds() == 1800
