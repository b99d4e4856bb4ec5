"""No test patches a module global of watchfloor (monkeypatch.setattr on a package module, class or function)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# The package's top-level names (watchfloor/{alerts,stream_processors,producers,schemas} are links to the top ones).
PACKAGE = {"watchfloor", "alerts", "stream_processors", "producers", "schemas"}
PATCHES = {"setattr", "delattr"}  # MonkeyPatch's methods that replace or remove an attribute

# (test file, patched target) -> why it is still patched. Each wants a seam the test can reach through the CLI, which
# these tests drive in-process; remove an entry once its test passes the value instead (a stale entry fails below).
ALLOWED: dict[tuple[str, str], str] = {
    # `backtest` on the CLI with FullEvidence's cap lowered to 4 (its `max_kept`): no CLI option carries it.
    (
        "functional/test_backtest_shown.py",
        "watchfloor.scoring.evidence.MAX_KEPT",
    ): "FullEvidence(max_kept=) under the CLI",
    # `store prune` on the CLI interrupted (KeyboardInterrupt) at its third batch of 100: the store is opened by URL
    # under the CLI, so no store of the test's can stand in for it.
    (
        "functional/test_store_prune.py",
        "watchfloor.stream_processors.stores.sql.SqlStore.strip_documents",
    ): "a Ctrl-C at a given batch under the CLI",
}


def _imported(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted name it was imported as, for every import in the file (also inside functions)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    names[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.expr, names: dict[str, str]) -> str | None:
    """The dotted name of `mod.attr.attr` with its root resolved through the file's imports; None when the root is
    no imported name (a local object: the test's own)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in names:
        return None
    return ".".join([names[node.id], *reversed(parts)])


def patched_globals(root: Path = TESTS) -> list[tuple[str, int, str]]:
    """(test file relative to `root`, line, target) of every monkeypatch of a package global in the files there."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = _imported(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in PATCHES or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                target: str | None = first.value  # monkeypatch.setattr("pkg.module.NAME", value)
            else:
                base = _dotted(first, names)
                name = node.args[1] if len(node.args) > 1 else None
                attr = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else "?"
                target = None if base is None else f"{base}.{attr}"
            if target is not None and target.split(".")[0] in PACKAGE:
                found.append((path.relative_to(root).as_posix(), node.lineno, target))
    return found


def test_no_test_patches_a_module_global_of_the_package() -> None:
    found = patched_globals()
    bad = [f"tests/{f}:{line}: monkeypatch of {t}" for f, line, t in found if (f, t) not in ALLOWED]
    assert not bad, (
        "tests patch module globals of watchfloor (pass the value as a parameter of the constructor or function "
        "that uses it instead, or inject through a real seam):\n" + "\n".join(bad)
    )
    stale = sorted(set(ALLOWED) - {(f, t) for f, _line, t in found})
    assert not stale, f"allowed patches no test makes any more (remove them from ALLOWED): {stale}"


def test_the_scan_sees_each_way_of_naming_a_target(tmp_path: Path) -> None:
    """The guard itself: a module alias, a class from a module, a dotted string, an import inside a function; not a
    stdlib module (also reached through a package module's import), nor a test's own object."""
    (tmp_path / "test_x.py").write_text(
        "import os\n"
        "from watchfloor.alerts import intake\n"
        "def test(monkeypatch, thing):\n"
        "    from watchfloor.stream_processors.stores.sql import SqlStore\n"
        "    monkeypatch.setattr(intake, 'COMPACT_MIN', 1)\n"
        "    monkeypatch.setattr(SqlStore, 'strip_documents', None)\n"
        "    monkeypatch.setattr('watchfloor.alerts.dispatcher._COUNT_PAGE', 2)\n"
        "    monkeypatch.delattr(intake, 'BACKFILL_TAKES')\n"
        "    monkeypatch.setattr(os, '_exit', None)\n"
        "    monkeypatch.setenv('WATCHFLOOR_X', '1')\n"
        "    monkeypatch.setattr(thing, 'x', 1)\n",
        encoding="utf-8",
    )
    assert patched_globals(tmp_path) == [
        ("test_x.py", 5, "watchfloor.alerts.intake.COMPACT_MIN"),
        ("test_x.py", 6, "watchfloor.stream_processors.stores.sql.SqlStore.strip_documents"),
        ("test_x.py", 7, "watchfloor.alerts.dispatcher._COUNT_PAGE"),
        ("test_x.py", 8, "watchfloor.alerts.intake.BACKFILL_TAKES"),
    ]
