"""`rules check`'s warning of an actor capture that names only what was acted on in the packs' inline examples."""

from __future__ import annotations

from collections.abc import Sequence

from watchfloor.schemas.inputs import InputError, parse_document
from watchfloor.schemas.rules import RulePack

from .compiled import RuleError
from .compiler import CompiledRules


def capture_role_warnings(packs: Sequence[RulePack], rules: CompiledRules) -> list[RuleError]:
    """An `entities` capture with the actor role (the default) that, on the packs' own inline examples, never names
    an actor but passes over a mention of its entities as what was acted on, which `role: any` takes: a capture of
    what the act was done to written without `role: any` (outside trial 62: "Hungary ratifies Finland's NATO bid"
    named no candidate once the actor role passed over what was acted on, and "…, leaving Sweden in the cold" the
    wrong one). A warning at the capture, with the example's sentence; none when some example shows it naming an
    actor (its passing over is then the grammar at work: "strikes on Ukraine" is not the attacker)."""
    asked: dict[str, tuple[int, list[tuple[str, tuple[str, ...]]]]] = {}  # signal -> (pack, [(capture, entities)])
    for pi, pack in enumerate(packs):
        for sname, sdef in pack.signals.items():
            caps = [(c, tuple(d.entities)) for c, d in sdef.capture.items() if d.entities and d.role in (None, "actor")]
            if caps and sname in rules.signals:
                asked[sname] = (pi, caps)
    if not asked:
        return []
    # Only now: `rules check` of packs without such a capture loads no extractor (BENCHMARKS.md, "`rules check` speed").
    from .captures import PassedOver, capture_detail
    from .extract import Extractor

    extractor = Extractor(rules)
    named: set[tuple[str, str]] = set()  # (signal, capture) that named an actor in some example
    passed: dict[tuple[str, str], tuple[str | None, PassedOver, str]] = {}  # the first passing over: (value, it, text)
    for pack in packs:
        for det in pack.detections:
            for ex in det.examples:
                for raw in ex.documents:
                    try:
                        doc = parse_document(dict(raw))
                    except InputError:
                        continue  # `rules check` says so (example_problems)
                    scan, viable = extractor.scan(doc, every=True)
                    if scan is None:
                        continue
                    names = [s for s in asked if viable is None or s in viable]  # (a big pack: the few that may match)
                    for sent in scan.sentences(every=True) if names else ():
                        for sname in names:
                            caps = asked[sname][1]
                            csig = rules.signals[sname]
                            got = extractor.match_sentence(csig, sent)
                            if got is None:
                                continue
                            for cname, candidates in caps:
                                value, _why, over = capture_detail(
                                    sent, got.window, got.own, candidates, None, rules.entity_kinds
                                )
                                if over is None:
                                    if value is not None:
                                        named.add((sname, cname))
                                else:
                                    passed.setdefault((sname, cname), (value, over, sent.text))
    out: list[RuleError] = []
    for (sname, cname), (value, over, text) in passed.items():
        if (sname, cname) in named:
            continue
        pi, caps = asked[sname]
        entities = ", ".join(next(e for c, e in caps if c == cname))
        took = "names none" if value is None else f"takes {rules.entity_names.get(value, value)} instead"
        message = (
            f"capture {cname!r} of signal {sname!r} names only what was acted on in the packs' examples: in {text!r}, "
            f"\u201c{over.word}\u201d ({over.why}) is what the act was done to, not the actor, and the actor role (the "
            f"default of `entities`) {took}; for a capture of what the act was done to, add `role: any` (the first of "
            f"{entities} named, whatever its role)"
        )
        out.append(RuleError(["signals", sname, "capture", cname], message, pack=pi, warning=True))
    return out
