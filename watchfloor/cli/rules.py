"""The `watchfloor rules` commands: check and test rule packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import ConfigOpt, app_config, out, rules_app


def _rule_specs(paths: list[str] | None, config: Path | None) -> list[str]:
    if paths:
        return paths
    return list(app_config(config).rules)


@rules_app.command("check")
def rules_check(
    paths: Annotated[list[str] | None, typer.Argument(help="Rule files or directories (default: from config).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Validate rule packs. Errors print as FILE:LINE:COL: message (exit 1); warnings as FILE:LINE:COL: warning:
    message (exit 0), e.g. a cue that can never apply."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules, warning_problems

    try:
        loaded, compiled = load_rules(_rule_specs(paths, config))
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p))
        raise typer.Exit(1) from None
    for w in warning_problems(loaded, compiled):
        typer.echo(str(w))
    out.print(
        f"ok: {len(loaded)} pack(s), {len(compiled.entity_names)} entities, {len(compiled.signals)} signals, "
        f"{len(compiled.detections)} detections",
        highlight=False,
    )


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[str] | None, typer.Argument(help="Rule files or directories (default: from config).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Run the inline examples of each detection; exit 1 if any fails."""
    from watchfloor.stream_processors.examples import run_examples
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules

    try:
        loaded, compiled = load_rules(_rule_specs(paths, config))
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p))
        raise typer.Exit(1) from None
    results = run_examples([lp.pack for lp in loaded], compiled)
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
        tail = "" if r.passed else f" — {r.message}"
        out.print(f"{mark} {r.detection}: {r.name}{tail}", highlight=False)
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed", highlight=False)
    if failed:
        raise typer.Exit(1)


@rules_app.command("migrate")
def rules_migrate(
    path: Annotated[Path, typer.Argument(help="A version 1 rule pack.")],
    write: Annotated[bool, typer.Option("--write", "-w", help="Rewrite the file in place (else print it).")] = False,
) -> None:
    """Rewrite a version 1 pack as version 2 with `morphology: exact` (same behaviour); check the result."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_pack_text, migrate_text

    try:
        text = path.read_text(encoding="utf-8")
        new = migrate_text(text)
        load_pack_text(new, str(path))
    except RuleLoadError as e:
        for p in e.problems:
            typer.echo(str(p))
        raise typer.Exit(1) from None
    except OSError as e:
        typer.echo(f"{path}:0:0: cannot read: {e.strerror}")
        raise typer.Exit(1) from None
    if not write:
        typer.echo(new, nl=False)
        return
    if new != text:
        path.write_text(new, encoding="utf-8")
    out.print(f"{path}: version 2" + (" (unchanged)" if new == text else ", morphology: exact"), highlight=False)
