"""The `watchfloor rules` commands: check and test rule packs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ._common import ConfigOpt, app_config, counted, end_process, out, rules_app, shown_origin

if TYPE_CHECKING:
    from watchfloor.backtest import ReadReport


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
    message (exit 0), e.g. a cue that can never apply; what could not be checked as FILE:LINE:COL: note: message."""
    from watchfloor.stream_processors.rulefile import (
        RuleLoadError,
        example_problems,
        load_rules,
        shown,
        warning_problems,
    )

    try:
        loaded, compiled = load_rules(_rule_specs(paths, config), every_problem=True)
    except RuleLoadError as e:
        # Everything found at once, in file order: the schema errors, the compile errors of the rest (a pack that
        # does not fit the schema is checked without the parts that do not fit), the examples' problems and the
        # warnings (a file that is no YAML has only its syntax error: nothing past it can be read). The examples of a
        # detection the schema refused are checked too (what of them can be without it; a note says what cannot).
        examples = example_problems(e.loaded, e.mended_all, e.refused_examples)
        for line in shown(sorted([*e.problems, *examples, *e.warnings])):
            typer.echo(line)
        end_process(1)
        raise typer.Exit(1) from None
    from watchfloor.stream_processors.engine.role_check import capture_role_warnings

    bad_examples = example_problems(loaded)
    # A capture that names only what was acted on in the examples (it wants `role: any`): read from the examples'
    # sentences, so here rather than at compile, which reads no example.
    roles = [loaded[w.pack].problem(w) for w in capture_role_warnings([lp.pack for lp in loaded], compiled)]
    for line in shown(sorted([*bad_examples, *warning_problems(loaded, compiled), *roles])):
        typer.echo(line)
    if bad_examples:
        end_process(1)
        raise typer.Exit(1)
    if config is not None and "kafka" in app_config(config).model_fields_set:
        from watchfloor.stream_processors.kafka.partition import needing_levels

        levelled = needing_levels(compiled)
        if levelled:  # what the workers will do with it, and what it costs (outside trial 84, F5)
            out.print(
                f"note: on the Kafka workers, {', '.join(levelled)} (over an absence's alerts, or a chain) make each "
                "correlate partition keep a state and forward a watermark per level of derivation: more correlate "
                "records and agent CPU than a pack without (BENCHMARKS.md, \"Detections over an absence's alerts and "
                'chains in the Kafka workers"; docs/kafka.md, "What runs"); every worker of the group must run '
                "the same release",
                highlight=False,
            )
    out.print(
        # the packs' own entities (entity_kinds), not the CAMEO/FIPS names a GDELT capture adds to entity_names:
        # "261 entities" for a pack that defines none (outside trial 85, F16)
        f"ok: {counted(len(loaded), 'pack')}, {counted(len(compiled.entity_kinds), 'entity', 'entities')}, "
        f"{counted(len(compiled.signals), 'signal')}, {counted(len(compiled.detections), 'detection')}",
        highlight=False,
    )
    end_process(0)  # the compiled rules are not freed object by object: the process ends with them


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[str] | None, typer.Argument(help="Rule files or directories (default: from config).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Run the inline examples of each detection; exit 1 if any fails."""
    from watchfloor.stream_processors.examples import run_examples
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules, shown

    try:
        loaded, compiled = load_rules(_rule_specs(paths, config))
    except RuleLoadError as e:
        for said in shown(e.problems):
            typer.echo(said)
        # Said, not left to be inferred from the missing PASS lines (session 30's candidate): no example ran, those
        # of the sound detections included, since an example is run against the whole of the rules it is written in.
        n = len(e.problems)
        typer.echo(
            f"no example run: the rules do not load ({n} problem{'' if n == 1 else 's'} above); "
            "fix them and run again (`watchfloor rules check` says the same, with the examples' own problems)"
        )
        raise typer.Exit(1) from None
    results = run_examples([lp.pack for lp in loaded], compiled)
    failed = [r for r in results if not r.passed]
    for r in results:
        if r.passed:
            out.print(f"[green]PASS[/green] {escape(f'{r.detection}: {r.name}')}", highlight=False)
            continue
        # A failure starts with its example's place, FILE:LINE:COL, as `rules check` names a problem.
        lp = loaded[r.pack_index]
        line, col = lp.position(r.path)
        place = escape(f"{lp.path}:{line}:{col}:")
        out.print(f"{place} [red]FAIL[/red] {escape(f'{r.detection}: {r.name} — {r.message}')}", highlight=False)
    out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed", highlight=False)
    if failed:
        raise typer.Exit(1)


@rules_app.command("migrate")
def rules_migrate(
    path: Annotated[Path, typer.Argument(help="A version 1 rule pack.")],
    write: Annotated[bool, typer.Option("--write", "-w", help="Rewrite the file in place (else print it).")] = False,
) -> None:
    """Print a version 1 pack rewritten as version 2 with `morphology: exact` (same behaviour), or with --write
    rewrite the file; check the result. A pack that is already version 2 is left as is (a note on stderr)."""
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_pack_text, migrate_text, shown

    try:
        text = path.read_text(encoding="utf-8")
        new = migrate_text(text)
        load_pack_text(new, str(path))
    except RuleLoadError as e:
        for said in shown(e.problems):
            typer.echo(said)
        raise typer.Exit(1) from None
    except OSError as e:
        typer.echo(f"{path}:0:0: cannot read: {e.strerror}")
        raise typer.Exit(1) from None
    if not write:
        typer.echo(new, nl=False)
        if new == text:  # a version 1 pack always changes (its `version`): this one is already version 2
            typer.echo(f"{path}: already version 2: nothing to migrate (printed as is)", err=True)
        return
    if new != text:
        path.write_text(new, encoding="utf-8")
    out.print(
        f"{path}: version 2" + (" (unchanged)" if new == text else ", morphology: exact"), highlight=False, markup=False
    )


def _left_out_lines(report: ReadReport, configured: set[str]) -> list[str]:
    """For each GDELT file some of whose rows its source's filters left out: how many, and for the first ones which
    filter left each out (gdelt.left_out_by), as `backtest` counts them ("0 of 1 rows kept by the source's
    filters"). A file no configured source reads was read with the options' defaults: said, with how to give others."""
    lines: list[str] = []
    for f in report.files:
        if not f.filtered_out:
            continue
        how = (
            "its source's filters"
            if f.path in configured
            else "the GDELT options' defaults (a file named on the command line; --config reads a file of a source "
            "with that source's filters)"
        )
        lines.append(f"note: {f.path}: {counted(f.filtered_out, 'row')} left out by {how}, so not explained:")
        lines += [f"  {shown_origin(origin, line)}: {doc_id}: {why}" for origin, line, doc_id, why in f.left_out]
        if f.filtered_out > len(f.left_out):
            lines.append(f"  … and {f.filtered_out - len(f.left_out):,} more")
    return lines


# Up to this many documents `rules explain` shows near misses by default (a full explanation each: ~1 ms), the
# hard negatives a rule author looks for in a labelled sample; past it (a year of news, where nearly every article
# holds some common phrase) only what the engine's screen lets on, unless asked.
NEAR_MISS_CORPUS = 2_000


@rules_app.command("explain")
def rules_explain(
    files: Annotated[
        list[str] | None, typer.Argument(help="Documents: JSONL (.jsonl/.jsonl.gz), feed files or GDELT exports.")
    ] = None,
    rules: Annotated[list[str] | None, typer.Option("--rules", "-r", help="Rule file/dir (repeatable).")] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--id",
            help="Only this detection id or signal name (repeatable); a detection over detections is explained "
            "through its input detections.",
        ),
    ] = None,
    text: Annotated[
        list[str] | None, typer.Option("--text", "-t", help="Explain this text as a document (repeatable).")
    ] = None,
    title: Annotated[
        str,
        typer.Option(
            help="The title of the --text documents; alone (no --text), a headline to explain: rules read a "
            "title as a headline ('X to VERB' is future there), a --text as a body."
        ),
    ] = "",
    language: Annotated[str | None, typer.Option(help="The language of the --text documents.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Explain every document, also those no signal can match.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=0,
            help="Print at most N documents (default 100 on a terminal view, all with --json; 0: all). "
            "The summary counts them all.",
        ),
    ] = None,
    near_misses: Annotated[
        bool | None,
        typer.Option(
            "--near-misses/--no-near-misses",
            help="Also explain documents where a signal found some of its phrases but not all it needs "
            f"(default: on for up to {NEAR_MISS_CORPUS:,} documents; a year of news is mostly near misses).",
        ),
    ] = None,
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            help="Only this document (repeatable): its id or URL, as a backtest's missed and false lists name it. "
            "The other documents are still read in order (windows, realert, corroboration), not shown.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the explanations as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Explain what the rules read in documents: per sentence the phrases, names and cues found, each
    signal's modality (and why), captures and why a signal did not match; per detection why it fired
    or not (modality, captures, group, lateness, realert, count and corroboration windows). Shown: the
    documents some signal can match (the engine's screen), that made a signal or on which a detection said
    something, and (small corpora) near misses; then a summary of all."""
    import json
    from dataclasses import asdict
    from datetime import UTC, datetime

    from watchfloor.backtest import ReadReport, bulk_load, input_bytes, iter_events
    from watchfloor.schemas.events import Document
    from watchfloor.schemas.inputs import CheckedInput, InputError, parse_document
    from watchfloor.stream_processors.engine import Engine
    from watchfloor.stream_processors.engine.explain_detections import explain_corpus
    from watchfloor.stream_processors.rulefile import RuleLoadError, load_rules, shown

    from ._explain_view import render
    from .backtest import DEAD_LETTERS_SHOWN, config_feeds, config_gdelt_options, progress

    try:
        _loaded, compiled = load_rules(_rule_specs(rules, config))
    except RuleLoadError as e:
        for problem in shown(e.problems):
            typer.echo(problem)
        raise typer.Exit(1) from None
    wanted = set(only) if only else None
    if wanted:
        unknown = wanted - set(compiled.signals) - {d.id for d in compiled.detections}
        if unknown:
            typer.echo(f"error: no detection or signal named {', '.join(sorted(unknown))}", err=True)
            raise typer.Exit(1)
    docs: list[Document | CheckedInput] = []
    now = datetime.now(UTC).isoformat()
    # A headline alone (outside trial 8, L4): `--title "…"` needs no `--text ""` beside it.
    for i, t in enumerate(text or ([""] if title else [])):
        try:
            docs.append(
                parse_document(
                    {
                        "type": "news.article",
                        "id": f"text-{i + 1}",
                        "published_at": now,
                        "source": "text",
                        "title": title,
                        "body": t,
                        "language": language,
                    }
                )
            )
        except InputError as e:
            typer.echo(f"error: --text {i + 1}: {e}", err=True)
            raise typer.Exit(1) from None
    left_out: list[str] = []
    if files:
        # With a config, a file of its sources is read as `backtest --config` and `run` read it: a GDELT source's
        # filters (root_only: false), a source's identity (outside trial 85, F17: read with the defaults, a row the
        # desk's source keeps was "no documents in it").
        cfg = app_config(config) if config is not None else None
        feeds, notes = config_feeds(cfg, files) if cfg is not None else ({}, [])
        gdelt_options, filtered = config_gdelt_options(cfg, files) if cfg is not None else ({}, [])
        for note in notes + filtered:
            typer.echo(note, err=True)
        report = ReadReport()
        with progress("bytes") as prog, bulk_load():
            task = prog.add_task("reading", total=input_bytes(files))
            read = iter_events(
                files,
                report=report,
                on_bytes=lambda n: prog.advance(task, n),
                feeds=feeds,
                gdelt_options=gdelt_options,
            )
            for d in read:
                if isinstance(d, Document | CheckedInput):  # (no gate: no bare event times)
                    docs.append(d)
        for err_line in report.errors:
            typer.echo(err_line, err=True)
        left_out = _left_out_lines(report, configured=set(gdelt_options))
        for line in left_out:
            typer.echo(line, err=True)
        if report.already_seen:  # as `backtest` says it: the first version of an id stands
            typer.echo(f"{report.already_seen} already seen (an id read before, with the same content)", err=True)
        if report.dead_count:  # as `backtest` says it: a count and the first five (a year of news has dozens)
            typer.echo(f"{counted(report.dead_count, 'bad record')} skipped", err=True)
            for dl in report.dead_letters[:DEAD_LETTERS_SHOWN]:
                where = shown_origin(dl.origin, dl.line)  # a feed's entries have no line
                typer.echo(f"  {where}: {dl.reason}", err=True)
            if report.dead_count > DEAD_LETTERS_SHOWN:  # this command's --json holds explanations, not these
                rest = report.dead_count - DEAD_LETTERS_SHOWN
                typer.echo(
                    f"  … and {rest:,} more dead letters: `watchfloor backtest` over the same files with --json "
                    "OUT.json lists them (dead_letters)",
                    err=True,
                )
    if not docs and not left_out:
        # FILE(s) given but none held a document: say which and why (outside trial 17, L4: an empty file read as
        # if no FILE had been given). Rows the source's filters left out are said above, each with its filter: that
        # is the explanation asked for.
        said = [why for f in (report.files if files else []) if (why := f.problem()) is not None]
        if files and not report.errors:
            for line in said or [f"{', '.join(map(str, files))}: no documents in it"]:
                typer.echo(f"error: nothing to explain: {line}", err=True)
        elif not files:
            typer.echo("error: nothing to explain: give FILE(s), --text or --title", err=True)
        raise typer.Exit(1)
    chosen: set[str] | None = None
    if document:
        # Ids and URLs both name a document (a backtest lists a labelled item by its URL): each is told by its id.
        built = [d if isinstance(d, Document) else d.build() for d in docs]
        docs = list(built)
        asked = set(document)
        chosen = {d.id for d in built if d.id in asked or (d.url is not None and d.url in asked)}
        found = {d.id for d in built} | {d.url for d in built if d.url is not None}
        missing = [d for d in document if d not in found]
        left_ids = {doc_id for f in (report.files if files else []) for _o, _n, doc_id, _w in f.left_out}
        if missing:  # (a typo, or a document of another file: said, not an empty page)
            why = " (left out by the source's filters: said above)" if set(missing) <= left_ids else ""
            typer.echo(f"error: no document {', '.join(map(repr, missing))} in the files read{why}", err=True)
            if not chosen:
                raise typer.Exit(1)
    if limit is None:
        limit = 0 if json_out else 100
    with progress("records") as prog:
        task = prog.add_task("explaining", total=len(docs))
        explained, closing, summary = explain_corpus(
            Engine(compiled),
            docs,
            only=wanted,
            every=every or not files,  # text typed on the command line: always explained
            detail=limit or None,
            near=near_misses if near_misses is not None else len(docs) <= NEAR_MISS_CORPUS,
            on_item=lambda n: prog.advance(task, n),
            documents=chosen,
        )
    if json_out:
        payload = {
            "documents": [e.to_json() for e in explained],
            "end_of_stream": [asdict(c) for c in closing],
            "summary": summary.to_json(),
            "left_out": [
                {"origin": origin, "line": line, "id": doc_id, "filter": why}
                for f in (report.files if files else [])
                for origin, line, doc_id, why in f.left_out
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    render(out, compiled, explained, closing, summary, chosen=chosen is not None)
