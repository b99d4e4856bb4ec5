"""No `:=` inside a comprehension of watchfloor rebinds a variable its function set before and reads after: the `:=`
binds in the function's scope (wt-presence3: `status --broker --json`'s `members_not_running` rebound `status`'s
`gone`, so a SIGKILLed produce's record, read from the store, never reached "processes_gone")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "watchfloor"
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _walk_scope(node: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body, without those of the functions and classes defined in it (scopes of their
    own); comprehensions are walked, since a `:=` in them binds in this scope."""
    out: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(node))
    while todo:
        n = todo.pop()
        out.append(n)
        if not isinstance(n, (*FUNCTIONS, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(n))
    return out


def _targets(comp: ast.AST) -> set[str]:
    """The names a comprehension's own `for` clauses bind (local to it)."""
    return {n.id for g in getattr(comp, "generators", ()) for n in ast.walk(g.target) if isinstance(n, ast.Name)}


def leaks(source: str, filename: str = "<source>") -> list[str]:
    """`file:line name` for each `:=` in a comprehension that rebinds a variable of its function: one the function
    binds before it (not by another `:=`, a scratch name) and reads after it."""
    found: list[str] = []
    tree = ast.parse(source, filename)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        nodes = _walk_scope(fn)
        comps = [n for n in nodes if isinstance(n, COMPREHENSIONS)]
        inside = {id(inner) for c in comps for inner in ast.walk(c)}
        scratch = {id(n.target) for n in nodes if isinstance(n, ast.NamedExpr)}
        bound: dict[str, list[int]] = {a.arg: [fn.lineno] for a in fn.args.posonlyargs + fn.args.args}
        for a in fn.args.kwonlyargs:
            bound.setdefault(a.arg, []).append(fn.lineno)
        for n in nodes:
            if id(n) in inside or id(n) in scratch:
                continue
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                bound.setdefault(n.id, []).append(n.lineno)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                bound.setdefault(n.name, []).append(n.lineno)
        # reads of the function's variable: anywhere but in a comprehension whose own `for` binds that name
        own = {id(inner): _targets(c) for c in comps for inner in ast.walk(c)}
        reads: dict[str, list[int]] = {}
        for n in nodes:
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in own.get(id(n), set()):
                reads.setdefault(n.id, []).append(n.lineno)
        for c in comps:
            for w in (x for x in ast.walk(c) if isinstance(x, ast.NamedExpr)):
                name = w.target.id
                before = any(line < w.lineno for line in bound.get(name, ()))
                after = any(line > w.lineno for line in reads.get(name, ()))
                if before and after:
                    found.append(f"{filename}:{w.lineno} {name}")
    return sorted(set(found))


def test_the_check_finds_a_comprehension_rebinding_a_local() -> None:
    source = (
        "def f(groups, seen):\n"
        "    gone = seen\n"
        "    out = {g: gone for g in groups if (gone := [g])}\n"
        "    return out, gone\n"
        "def g(groups):\n"
        "    a = {g: left for g in groups if (left := [g])}\n"
        "    b = [x for g in groups if (x := g)]\n"
        "    for x in groups:\n"
        "        print(x)\n"
        "    return a, b\n"
    )
    assert leaks(source) == ["<source>:3 gone"]


def test_no_comprehension_in_watchfloor_rebinds_a_local_of_its_function() -> None:
    found: list[str] = []
    # (watchfloor/{alerts,stream_processors,producers,schemas} link to the top-level folders: each file read once)
    roots = [PACKAGE] + [d.resolve() for d in PACKAGE.iterdir() if d.is_symlink() and d.is_dir()]
    repo = PACKAGE.parent.resolve()
    for path in sorted({p.resolve() for root in roots for p in root.rglob("*.py")}):
        found += leaks(path.read_text(encoding="utf-8"), str(path.relative_to(repo)))
    assert found == [], found
