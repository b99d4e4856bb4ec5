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


def test_the_readme_email_example_loads_with_every_key(tmp_path: Path) -> None:
    from watchfloor.schemas.config import EmailChannel

    text = README.read_text(encoding="utf-8")
    block = text.split("### Email", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "watchfloor.yaml"
    path.write_text(block, encoding="utf-8")
    [ch] = load_config(path).channels
    assert isinstance(ch, EmailChannel)
    written = {line.split(":", 1)[0].strip() for line in block.splitlines() if line.startswith("    ")}
    keys = {f.alias or name for name, f in EmailChannel.model_fields.items()} - {"type"}
    assert keys <= written | {"name"}, f"not shown in the README: {sorted(keys - written)}"
    assert (ch.tls, ch.smtp_port, ch.password_env) == ("starttls", 587, "WATCHFLOOR_SMTP_PASSWORD")
