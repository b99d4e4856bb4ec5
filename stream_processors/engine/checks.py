"""Checks made while compiling: title placeholders, pack cues that can never apply, languages without
built-in support."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence

from watchfloor.schemas.rules import Clause, Condition, RulePack, language_suggestion, languages_of

from .compiled import PREFIX, REPORTS, CompiledSignal, Node, RuleError, WordTest
from .cues import (
    BUILTIN,
    CUE_PRIORITY,
    NEUTRAL,
    NOT_YET_LEADS,
    PURPOSE_HEADS,
    PURPOSE_HELP,
    WANTED_EVENT_NOUNS,
    WANTED_FOR_LEADS,
    WANTED_HEADS,
    WANTED_OBJECT_LEADS,
    WANTED_OF_LEADS,
)
from .morphology import (
    INFLECTED,
    TITLE_CASES,
    base_language,
    en_in_dictionary,
    is_dictionary_form,
    word_forms,
    word_language,
)
from .text import alias_capitals, phrase_words

BUILTIN_LANGUAGES = tuple(sorted(set(BUILTIN) | INFLECTED))


def title_placeholders(group_by: Iterable[str], captured: Iterable[str]) -> set[str]:
    """The names a title can show: each `group_by` value (`{party}` its entity name, `{party_id}` its
    id), each capture of the detection's signals, `{place}`, `{reports}` (how many reports the alert rests on), and
    `{NAME_suffix}` for each of them (" (Kursk)", or "" when there is none)."""
    names: set[str] = {"place", REPORTS}
    for g in group_by:
        names |= {g, g + "_id"}
    names |= set(captured)
    return names | {n + "_suffix" for n in names}


def title_fields(
    title: str,
    group_by: Iterable[str],
    captured: Iterable[str],
    *,
    maybe: Iterable[str] = (),
    pending: tuple[str, str] | None = None,
) -> str | None:
    """None when every placeholder of `title` can be filled, else what is wrong with it. `maybe`: placeholders
    that inputs not defined could fill, which are not judged; `pending`: what is true of the others and which
    inputs are not defined ("no signal captures", "signal 'ofensive' is not defined")."""
    if "{" not in title and "}" not in title:
        return None  # no placeholder (most titles of a big pack)
    allowed = title_placeholders(group_by, captured)
    unsure = set(maybe)
    try:
        parsed = list(string.Formatter().parse(title))
    except ValueError as e:
        return f"title {title!r}: {e} (write a literal brace as {{{{ or }}}})"
    unknown: list[str] = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or not name.isidentifier():
            return f"title {title!r}: placeholder {{{name}}} is not a name (use e.g. {{party}})"
        # After ':' only a case (a Python format spec failed at the first alert: "Invalid format specifier").
        if conversion is not None or (spec and spec not in TITLE_CASES):
            given = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            cases = ", ".join(TITLE_CASES)
            return (
                f"title {title!r}: placeholder {given}: after ':' a placeholder takes only a case for a Russian name "
                f"(one of {cases}, e.g. {{{name}:dative}}), and no '!'"
            )
        if name not in allowed and name not in unsure and name not in unknown:
            unknown.append(name)
    if unknown:
        known = ", ".join("{" + n + "}" for n in sorted(allowed))
        shown = ", ".join("{" + n + "}" for n in unknown)
        what = "unknown placeholder" if len(unknown) == 1 else "unknown placeholders"
        if pending is not None:
            # (an input not defined could bring more: what none of the rules' signals and detections has, it cannot)
            none_has, undefined = pending
            it = "it" if len(unknown) == 1 else "them"
            return f"title {title!r}: {what} {shown} ({none_has} {it}, and {undefined}; this detection can use {known})"
        hint = ""
        if REPORTS in allowed and set(unknown) & COUNT_WORDS:  # (outside trial 28, F9 wrote "{count} reports")
            hint = f"; {{{REPORTS}}} is how many reports the alert rests on"
        return f"title {title!r}: {what} {shown} (this detection can use {known}{hint})"
    return None


COUNT_WORDS = frozenset({"count", "counted", "number", "n", "total", "report_count", "reports_count", "num_reports"})


# English words of closed classes a cue may be (question words, conjunctions, prepositions, particles): whatever
# noun or verb readings the dictionary also has ("the whys", "to over"), a cue of them means the word as written.
_EN_CLOSED_CLASS = frozenset(
    "why how when where what which who whom whose whether if unless because although though while whilst whereas "
    "since until till but and or nor yet so than as after before over about amid amidst despite instead rather not "
    "no never without against upon via per".split()
)


def cue_warnings(
    cue_keys: dict[str, list[tuple[int, list[str | int], str, str]]], signals: dict[str, CompiledSignal]
) -> list[RuleError]:
    """Pack cues that can never apply: one that is a signal's own phrase (inside a signal's words a cue
    is ignored), one listed in two classes (the stronger always wins), one cancelled by a neutral phrase
    of the same words."""
    out: list[RuleError] = []
    own_phrases: dict[str, list[str]] = {}
    for sig in signals.values():
        # its matching phrases only: a phrase of its `none` is never part of a match, and a cue inside it applies
        # (outside trial 47, LOW-1: "call for" listed under `none:` was warned as "never applies")
        for atom in _atoms(sig.node, matching=True):
            own_phrases.setdefault(atom, []).append(sig.name)
    for key, uses in cue_keys.items():
        classes = {cls for _p, _path, cls, _text in uses}
        for pi, path, cls, text in uses:
            if key in own_phrases:
                sigs = ", ".join(sorted(set(own_phrases[key]))[:3])
                # Said as it is: where the signal matched those words a cue inside them is part of them; where it
                # matched another alternative, and for other signals, the cue still applies. A neutral phrase
                # also cancels cues that only overlap it, which a signal's phrase does not (outside trial 44, M1:
                # "ambassador to leave" as a neutral phrase cancelled the goal "orders French ambassador to").
                if cls == NEUTRAL:
                    said = (
                        f"neutral phrase {text!r} is itself a phrase of signal {sigs}: where the signal matched it, a "
                        "cue wholly inside it is already part of the signal's words; the neutral phrase adds only that "
                        "it cancels cues that overlap it from outside, and does so for every signal"
                    )
                else:
                    said = (
                        f"cue {text!r} is itself a phrase of signal {sigs}: where the signal matched these words, a "
                        "cue inside them is part of them and never applies, so there it cannot change that signal's "
                        "modality"
                    )
                out.append(RuleError(path, said, pack=pi, warning=True))
            if cls != NEUTRAL and NEUTRAL in classes:
                out.append(
                    RuleError(
                        path,
                        f"cue {text!r} is also a neutral phrase, which cancels it: it never applies",
                        pack=pi,
                        warning=True,
                    )
                )
            stronger = [
                c for c in classes if c != NEUTRAL and c != cls and CUE_PRIORITY.get(c, 9) < CUE_PRIORITY.get(cls, 9)
            ]
            if cls != NEUTRAL and stronger:
                out.append(
                    RuleError(
                        path,
                        f"cue {text!r} is listed as {cls} and as {stronger[0]}: the stronger class always wins, "
                        f"so as {cls} it never applies",
                        pack=pi,
                        warning=True,
                    )
                )
    return out


# A pack's cue: (pack, path, class, direction, phrase, its words as phrase_words gives them).
PackCue = tuple[int, list[str | int], str, str, str, tuple[str, ...]]


def builtin_cue_warnings(pack_cues: Sequence[PackCue], languages: Iterable[str]) -> list[RuleError]:
    """Pack cues a built-in cue of the languages in use always overrides: the same words (or words a built-in
    `*` prefix covers: "intends" under "intend*") listed in the same direction under a stronger class (the
    stronger class wins on the same words: `hedged: [will]` is read as the built-in future), or as a built-in
    neutral phrase, which cancels any cue on its words."""
    exact: dict[tuple[str, ...], list[tuple[str, str, str, str]]] = {}  # words -> [(direction, class, phrase, lang)]
    prefixed: list[tuple[tuple[str, ...], str, str, str, str]] = []
    every: list[tuple[tuple[str, ...], str, str, str, str]] = []  # each built-in cue: (words, direction, class, ...)
    for code in languages:
        for direction, table in BUILTIN.get(code, {}).items():
            for bcls, phrases in table.items():
                for phrase in phrases:
                    words = tuple(w.removeprefix("=") for w in phrase_words(phrase))
                    every.append((words, direction, bcls, phrase, code))
                    if any(w.endswith("*") for w in words):
                        prefixed.append((words, direction, bcls, phrase, code))
                    else:
                        exact.setdefault(words, []).append((direction, bcls, phrase, code))
    # The pack's own neutral phrases cancel their cues already (cue_warnings says so): not twice.
    own_neutral = {tuple(w.removeprefix("=") for w in c[5]) for c in pack_cues if c[2] == NEUTRAL}
    out: list[RuleError] = []
    for pi, path, cls, direction, phrase, words in pack_cues:
        if cls == NEUTRAL:
            continue
        plain = tuple(w.removeprefix("=") for w in words)
        found = list(exact.get(plain, ()))
        found += [(d, c, p, code) for ws, d, c, p, code in prefixed if _covered(plain, ws)]
        for bdir, bcls, bphrase, code in found:
            if bcls == NEUTRAL and plain not in own_neutral:
                why = f"a built-in neutral phrase ({code}: {bphrase!r}), which cancels a cue on its words: it"
            elif bcls != NEUTRAL and bdir == direction and CUE_PRIORITY.get(bcls, 9) < CUE_PRIORITY.get(cls, 9):
                why = (
                    f"a built-in {bcls} cue ({code}: {bphrase!r}): the stronger class wins on the same words, "
                    f"so as {cls} it"
                )
            else:
                continue
            out.append(RuleError(path, f"cue {phrase!r} is also {why} never applies", pack=pi, warning=True))
            break
        else:
            # Not overridden everywhere, but wherever a built-in cue of a stronger class in the same direction is
            # written around the same words: `hedged: [threaten*]` is read future in "threatens to", the built-in
            # cue (outside trial 56, H2: `rules check` said ok, and the pack's cue never applied there).
            for bwords, bdir, bcls, bphrase, code in every:
                if bcls == NEUTRAL or bdir != direction or CUE_PRIORITY.get(bcls, 9) >= CUE_PRIORITY.get(cls, 9):
                    continue
                if _part_of(plain, bwords):
                    out.append(
                        RuleError(
                            path,
                            f"cue {phrase!r} is read as the built-in {bcls} cue ({code}: {bphrase!r}) wherever that "
                            f"is written (the stronger class wins on the same words): as {cls} it applies only "
                            "elsewhere; a pack cannot switch a built-in cue off (a `neutral:` phrase reads its "
                            "words asserted)",
                            pack=pi,
                            warning=True,
                        )
                    )
                    break
    return out


# Words a cue that decides a reading may hold besides the cue tables': the leads of an event wanted or not yet
# (modality._wanted_event, _not_yet_event), their prepositions, and a headline's "to" (modality._future_form).
_LEAD_WORDS = (
    NOT_YET_LEADS
    | WANTED_FOR_LEADS
    | WANTED_OBJECT_LEADS
    | WANTED_OF_LEADS
    | WANTED_HEADS
    | PURPOSE_HEADS
    | WANTED_EVENT_NOUNS
    | frozenset({"for", "of", "on", "to", PURPOSE_HELP})
)


def except_cue_warnings(
    packs: Sequence[RulePack], pack_cues: Sequence[PackCue], languages: Iterable[str]
) -> list[RuleError]:
    """A detection's `except_cues` that never leave a reading out: a word no built-in cue of the languages in use,
    no cue of the packs and no lead of an event wanted or not yet holds (a typo: "threatn*"); or a reference that
    takes only `asserted` readings, which no cue decides."""
    vocabulary: set[str] = set(_LEAD_WORDS)
    classed: list[tuple[tuple[str, ...], str, str]] = []  # each cue that decides a class: (words, class, phrase)
    for code in languages:
        for table in BUILTIN.get(code, {}).values():
            for bcls, phrases in table.items():
                for phrase in phrases:
                    words = tuple(w.removeprefix("=") for w in phrase_words(phrase))
                    vocabulary.update(words)
                    if bcls in CUE_PRIORITY:
                        classed.append((words, bcls, phrase))
    for cue in pack_cues:
        words = tuple(w.removeprefix("=") for w in cue[5])
        vocabulary.update(words)
        if cue[2] in CUE_PRIORITY:
            classed.append((words, cue[2], cue[4]))
    out: list[RuleError] = []
    for pi, pack in enumerate(packs):
        for di, d in enumerate(pack.detections):
            for ri, ref in enumerate(d.pattern.refs()):
                if not ref.except_cues:
                    continue
                path: list[str | int] = ["detections", di, "pattern", d.pattern.kind, ri, "except_cues"]
                if ref.modality == "asserted" or ref.modality == ["asserted"]:
                    out.append(
                        RuleError(
                            path,
                            "except_cues leaves out readings a cue decided, and this reference takes asserted "
                            "readings only, which no cue decides: it never leaves one out",
                            pack=pi,
                            warning=True,
                        )
                    )
                    continue
                for k, phrase in enumerate(ref.except_cues):
                    lost = [w for w in phrase_words(phrase) if not any(_meets(w, v) for v in vocabulary)]
                    if lost:
                        out.append(
                            RuleError(
                                [*path, k],
                                f"except_cues {phrase!r}: no cue holds the word {lost[0]!r} (no built-in cue, no cue "
                                "of the packs, no lead of an event wanted or not yet): it never leaves a reading out",
                                pack=pi,
                                warning=True,
                            )
                        )
                        continue
                    shut = _other_class_only(phrase, ref.modality, classed)
                    if shut is not None:
                        out.append(RuleError([*path, k], shut, pack=pi, warning=True))
    return out


def _other_class_only(
    phrase: str, modality: str | Sequence[str], classed: Sequence[tuple[tuple[str, ...], str, str]]
) -> str | None:
    """Why an except-cue never leaves a reading out when every cue that holds it decides a class the reference does
    not take (outside trial 61, M1: `except_cues: [reportedly]` on `[asserted, future]`: a reading "reportedly"
    decides is hedged, not taken anyway), else None. Words a lead of an event wanted or not yet may hold are left
    alone: their class is decided as they are read."""
    taken = {modality} if isinstance(modality, str) else set(modality)
    if "any" in taken:
        return None
    words = tuple(phrase_words(phrase))
    if any(_meets(w, v) for w in words for v in _LEAD_WORDS):
        return None
    holding = [(cls, p) for cue_words, cls, p in classed if _part_of(words, cue_words)]
    if not holding or any(cls in taken for cls, _p in holding):
        return None
    classes = sorted({cls for cls, _p in holding}, key=lambda c: CUE_PRIORITY[c])
    shown = ", ".join(repr(p) for _c, p in holding[:3])
    return (
        f"except_cues {phrase!r}: the cues that hold it ({shown}) read {' or '.join(classes)}, and this reference "
        f"takes {', '.join(sorted(taken))} readings only: such a reading is not taken anyway, so it never leaves one "
        "out (a reading is decided by its strongest cue, and only that cue's words are compared)"
    )


def _part_of(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """Whether a cue's words can match a run of a (longer or `*`) phrase's words: each word equal, or one of the two
    a `*` prefix of the other."""
    n = len(words)
    return any(
        all(_meets(w, p) for w, p in zip(words, phrase[k : k + n], strict=True)) for k in range(len(phrase) - n + 1)
    )


def _meets(w: str, p: str) -> bool:
    if w == p:
        return True
    if w.endswith("*") and p.rstrip("*").startswith(w[:-1]):
        return True
    return p.endswith("*") and not w.endswith("*") and w.startswith(p[:-1])


_SHOWN_FORMS = 4  # forms a warning names; the rest are counted


def cue_form_warnings(
    pack_cues: Sequence[PackCue], packs: Sequence[RulePack], languages: Iterable[str]
) -> list[RuleError]:
    """One-word pack cues written in their dictionary form whose other forms matched until cue words began to match
    as written (`modality.morphology`, default exact; they took the pack's `morphology` before): `hedged: [hint]`
    read "hinted" and "hints" then, and no longer does. Only where it changed: a pack whose words take their forms
    (version 2, or `morphology: forms`) and whose `modality` does not ask for forms. Not for a word written in
    another form ("hints", "одобрит": a form is what such a cue means), a `=` or `*` word, nor a cue of several
    words ("prepares to", "on the agenda": a fixed phrase, whose form is its meaning too). Forms listed in the same
    list, or that a built-in cue reads (as what it means: "would" for `future: [will]`), are not named."""
    builtin_words: set[str] = set()  # the one-word built-in cues of the languages in use
    prefixes: list[str] = []  # and the starts of the built-in `*` cues
    for code in languages:
        for table in BUILTIN.get(code, {}).values():
            for phrases in table.values():
                for phrase in phrases:
                    one = phrase_words(phrase)
                    if len(one) == 1 and one[0].endswith("*"):
                        prefixes.append(one[0][:-1])
                    elif len(one) == 1:
                        builtin_words.add(one[0].removeprefix("="))
    listed: dict[tuple[int, str, str], set[str]] = {}  # (pack, direction, class) -> its one-word cues
    for pi, _path, cls, direction, _phrase, words in pack_cues:
        if len(words) == 1:
            listed.setdefault((pi, direction, cls), set()).add(words[0].removeprefix("="))
    out: list[RuleError] = []
    for pi, path, cls, direction, phrase, words in pack_cues:
        pack = packs[pi]
        if pack.modality.morphology == "forms" or pack.default_morphology != "forms" or len(words) != 1:
            continue
        word = words[0]
        if word.startswith("=") or word.endswith("*") or not word.isalpha():
            continue
        lang = word_language(word, languages_of(pack.language))
        if lang is None:
            continue
        if lang == "en" and (word in _EN_CLOSED_CLASS or not en_in_dictionary(word)):
            # A function word has no forms to miss ("why" is also the dictionary's noun "the whys", whose plural
            # it spells "whies"); nor has a word the dictionary does not know ("unless": its forms would be a
            # guessed plural, "unlesses") (outside trial 47, LOW-2).
            continue
        forms = word_forms(lang, word)
        if len(forms) < 2 or not is_dictionary_form(lang, word, forms):
            continue
        # A form that is a built-in cue word (any direction) is read by that cue, as what it means: "would" is not
        # `future: [will]` in another tense, nor "might" `hedged: [may]` (lemminflect's forms of one lemma).
        read = listed[(pi, direction, cls)] | builtin_words
        # An adjective's comparative and superlative ("unlikelier", "unlikeliest") are no forms a cue misses: a
        # hedge is written in its plain degree (outside trial 61, L4).
        degrees = _degrees_en(word) if lang == "en" else frozenset()
        missing = sorted(
            (f for f in forms if f not in read and f not in degrees and not any(f.startswith(x) for x in prefixes)),
            key=lambda f: (len(f), f),
        )
        if not missing:
            continue
        shown = ", ".join(repr(f) for f in missing[:_SHOWN_FORMS])
        more = len(missing) - _SHOWN_FORMS
        shown += f" and {more} more" if more > 0 else ""
        verb = "is" if len(missing) == 1 else "are"
        what = "phrase" if cls == NEUTRAL else "cue"
        out.append(
            RuleError(
                path,
                f"{what} {phrase!r} matches only as written: {shown} {verb} not read (list them, end the word with *, "
                "or set `morphology: forms` under modality)",
                pack=pi,
                warning=True,
            )
        )
    return out


def _degrees_en(word: str) -> frozenset[str]:
    """The spellings an English adjective's comparative and superlative may take ("likely": "likelier", "likeliest";
    "big": "bigger", "biggest")."""
    stems = {word, word + word[-1:]}
    if word.endswith("y"):
        stems.add(word[:-1] + "i")
    if word.endswith("e"):
        stems.add(word[:-1])
    return frozenset(f"{stem}{end}" for stem in stems for end in ("er", "est"))


def _covered(words: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether every word of a phrase is a word of `pattern` (a word ending in `*`: any word it starts)."""
    return len(words) == len(pattern) and all(
        w == p or (p.endswith("*") and w.startswith(p[:-1]) and not w.endswith("*"))
        for w, p in zip(words, pattern, strict=True)
    )


def alias_cue_warnings(
    cue_keys: dict[str, list[tuple[int, list[str | int], str, str]]], alias_keys: dict[str, str]
) -> list[RuleError]:
    """Pack cues that are the words of an entity's alias: wherever they stand they are that entity's name, and a
    cue inside a name never applies."""
    out: list[RuleError] = []
    for key, uses in cue_keys.items():
        eid = alias_keys.get(key)
        if eid is None:
            continue
        for pi, path, cls, text in uses:
            what = "phrase" if cls == NEUTRAL else "cue"
            out.append(
                RuleError(
                    path,
                    f"{what} {text!r} is an alias of entity {eid}: wherever it stands it names {eid}, and inside a "
                    f"name a {what} never applies",
                    pack=pi,
                    warning=True,
                )
            )
    return out


def language_warnings(packs: Sequence[RulePack]) -> list[RuleError]:
    """A pack or signal `language` with no built-in word forms or cues ("rus", "xx"): allowed (phrases
    then match as written), but most often a typo that silently turns off forms and cues."""
    out: list[RuleError] = []
    for pi, pack in enumerate(packs):
        fields: list[tuple[list[str | int], str | list[str] | None]] = [(["language"], pack.language)]
        fields += [(["signals", name, "language"], sig.language) for name, sig in pack.signals.items()]
        for path, value in fields:
            codes = [value] if isinstance(value, str) else list(value or ())
            for i, code in enumerate(codes):
                if base_language(code) in BUILTIN_LANGUAGES:
                    continue
                hint = language_suggestion(code)
                field = ".".join(str(x) for x in path)
                out.append(
                    RuleError(
                        path if isinstance(value, str) else [*path, i],
                        f"{field}: {code!r} has no built-in support (built-in: {', '.join(BUILTIN_LANGUAGES)}): "
                        "it brings no modality cues and no word forms of its own"
                        + (f"; did you mean {hint!r}?" if hint else ""),
                        pack=pi,
                        warning=True,
                    )
                )
    return out


def _atoms(node: Node, *, matching: bool = False) -> list[str]:
    """The phrases of a signal's words; `matching`: only those a match is made of (none of its `none`)."""
    if node[0] == "atom":
        return [node[1]]
    if node[0] == "none" and matching:
        return []
    if node[0] in ("any", "all", "none"):
        return [a for n in node[1] for a in _atoms(n, matching=matching)]
    return []


def alias_tie_warnings(packs: Sequence[RulePack]) -> list[RuleError]:
    """An alias that another entity also has (the same words once lower-cased and split as the matcher reads
    them): both match the same words, and the entity loaded first (earlier pack, else earlier in its pack) takes
    them, so the later alias never names its own entity. Said at the later alias, with who wins and how to change
    it; a warning, not an error, because a pack cannot edit the bundled pack it is loaded beside."""
    first: dict[tuple[str, ...], tuple[str, int, int, str]] = {}  # words -> (entity, pack, alias index, alias)
    out: list[RuleError] = []
    for pi, pack in enumerate(packs):
        for eid, ent in pack.entities.items():
            for ai, alias in enumerate(ent.aliases):
                words = tuple(w.lstrip("=") for w in phrase_words(alias))
                if not words:
                    continue
                got = first.setdefault(words, (eid, pi, ai, alias))
                if got[0] == eid:
                    continue  # the same entity again (ids are shared across packs: its aliases merge)
                other, opi, oai, oalias = got
                where = (
                    f"earlier in this pack: entities.{other}.aliases[{oai}]"
                    if opi == pi
                    else f"pack {packs[opi].name!r}, loaded before this one: entities.{other}.aliases[{oai}]"
                )
                spelled = f", as {oalias!r}" if oalias != alias else ""
                fix = (
                    "define it before the other entity"
                    if opi == pi
                    else f"list this pack before {packs[opi].name!r} in `rules`"
                )
                capitals = alias_capitals(oalias)
                if capitals and not alias_capitals(alias):
                    # The winner keeps its case (docs/rules.md): it takes only the words written as it asks, and
                    # the later alias, of any case, still reads every other spelling ("US" is USA, "us" is WE).
                    how = "in capitals" if capitals == tuple(len(w) for w in words) else "starting with a capital"
                    message = (
                        f"alias {alias!r} of {eid} is also one of {other}{spelled} ({where}), which keeps its case: "
                        f"the words written {how} are read as {other}, which wins, otherwise as {eid}; to read them "
                        f"as {eid} in every case, {fix}, or drop one of the two aliases"
                    )
                else:
                    message = (
                        f"alias {alias!r} of {eid} is also one of {other}{spelled} ({where}): the words both spell "
                        f"are read as {other}, which wins, never as {eid}; to read them as {eid}, {fix}, or drop one "
                        "of the two aliases"
                    )
                out.append(RuleError(["entities", eid, "aliases", ai], message, pack=pi, warning=True))
    return out


def alias_plural_warnings(packs: Sequence[RulePack]) -> list[RuleError]:
    """An English alias of several words that ends in a plural common noun (written in lower case: "West African
    countries", not the name "United States"), in a pack whose words take their forms: aliases read every form of
    their words, so it also reads the singular ("the West African country of Niger" as ECOWAS: outside trial 44, L3).
    The hint is the `=` that keeps the plural only."""
    out: list[RuleError] = []
    for pi, pack in enumerate(packs):
        if pack.default_morphology == "exact" or "en" not in _pack_languages(pack):
            continue
        for eid, ent in pack.entities.items():
            for ai, alias in enumerate(ent.aliases):
                raw = alias.split()
                if len(raw) < 2 or not raw[-1].isascii() or not raw[-1].isalpha() or not raw[-1].islower():
                    continue
                word = raw[-1]
                single = next((f for f in sorted(word_forms("en", word)) if _plural_of(word, f)), None)
                if single is None:
                    continue
                shown = " ".join([*raw[:-1], single])
                fixed = " ".join([*raw[:-1], "=" + word])
                out.append(
                    RuleError(
                        ["entities", eid, "aliases", ai],
                        f"alias {alias!r} of {eid} ends in a plural, and an alias reads every form of its words: it "
                        f"also reads {shown!r}; write {fixed!r} to read the plural only",
                        pack=pi,
                        warning=True,
                    )
                )
    return out


def bracketed_placeholder_warnings(packs: Sequence[RulePack]) -> list[RuleError]:
    """A title that wraps a placeholder an alert may leave empty in parentheses ("after coup ({imposer})"): an alert
    whose signal captured no imposer is titled "after coup ()" (outside trial 68, LOW-1). A group key is never empty
    (a signal without it makes no alert), so only other captures and `{place}` are said, with the `_suffix` form
    that gives " (ECOWAS)" or nothing."""
    out: list[RuleError] = []
    for pi, pack in enumerate(packs):
        for di, d in enumerate(pack.detections):
            if "({" not in d.title:
                continue
            try:
                parsed = list(string.Formatter().parse(d.title))
            except ValueError:
                continue  # a malformed title is an error of its own (title_fields)
            for i, (literal, name, _spec, _conv) in enumerate(parsed):
                following = parsed[i + 1][0] if i + 1 < len(parsed) else ""
                if not name or not literal.endswith("(") or not following.startswith(")"):
                    continue
                if name in d.group_by or name == REPORTS or name.endswith(("_id", "_suffix")):
                    continue
                fixed = d.title.replace(f" ({{{name}}})", f"{{{name}_suffix}}", 1)
                out.append(
                    RuleError(
                        ["detections", di, "title"],
                        f'title {d.title!r}: an alert whose {name!r} is empty is titled with "()"; '
                        f'{{{name}_suffix}} gives " (the name)" or nothing'
                        + (f": {fixed!r}" if fixed != d.title else ""),
                        pack=pi,
                        warning=True,
                    )
                )
    return out


def _plural_of(word: str, single: str) -> bool:
    """Whether `word` is the English plural of `single` ("countries" of "country", "states" of "state")."""
    return single != word and (
        word in (single + "s", single + "es") or (single.endswith("y") and word == single[:-1] + "ies")
    )


def _pack_languages(pack: RulePack) -> set[str]:
    return {base_language(x) for x in languages_of(pack.language, ("en",))}


_SHOWN_ALIASES = 6  # aliases a shared-entity warning names; the rest are counted


def shared_entity_warnings(packs: Sequence[RulePack]) -> list[RuleError]:
    """An entity id that a pack loaded before also defines, with another name or other aliases (outside trial 41,
    H2): ids are shared, so the aliases merge and widen both packs' signals (the bundled pack's «курский» read
    WWII's «Курская битва» as a place of a desk's pack), and the first pack's name is the entity's name, but in
    the titles of each pack's own detections, which show its own. Said at the later pack's entity, once per earlier
    pack that defines the id, with what each pack adds to the other."""
    first: dict[str, list[int]] = {}  # entity id -> the packs that define it, in load order
    out: list[RuleError] = []

    def words(aliases: list[str]) -> dict[tuple[str, ...], str]:
        got: dict[tuple[str, ...], str] = {}
        for a in aliases:
            key = tuple(w.lstrip("=").lower() for w in phrase_words(a))
            if key:
                got.setdefault(key, a)
        return got

    def shown(aliases: list[str]) -> str:
        more = len(aliases) - _SHOWN_ALIASES
        return ", ".join(repr(a) for a in aliases[:_SHOWN_ALIASES]) + (f" and {more} more" if more > 0 else "")

    for pi, pack in enumerate(packs):
        for eid, ent in pack.entities.items():
            before = first.setdefault(eid, [])
            for opi in before:
                other = packs[opi].entities[eid]
                oname = packs[opi].name
                if other.name != ent.name:
                    out.append(
                        RuleError(
                            ["entities", eid, "name"],
                            f"entity {eid} is also defined in pack {oname!r}, loaded before this one, as "
                            f"{other.name!r}: the titles of this pack's detections show {ent.name!r}, and everything "
                            f"else (the other pack's titles, explanations, chat commands, digests) {other.name!r}",
                            pack=pi,
                            warning=True,
                        )
                    )
                mine, theirs = words(ent.aliases), words(other.aliases)
                to_this = [a for k, a in theirs.items() if k not in mine]
                to_that = [a for k, a in mine.items() if k not in theirs]
                if to_this or to_that:
                    said = []
                    if to_this:
                        said.append(f"{oname!r} adds {shown(to_this)} to this pack's signals")
                    if to_that:
                        said.append(f"this pack adds {shown(to_that)} to the signals of {oname!r}")
                    out.append(
                        RuleError(
                            ["entities", eid, "aliases"],
                            f"entity {eid} is also defined in pack {oname!r}, loaded before this one, with other "
                            f"aliases; ids are shared, so their aliases merge: {' and '.join(said)}. To keep the "
                            "packs apart, give this pack's entity an id of its own",
                            pack=pi,
                            warning=True,
                        )
                    )
            before.append(pi)
    return out


def all_overlap_warnings(
    cond: Condition,
    path: list[str | int],
    key_of: Callable[[str], str | None],
    pack: int,
    tests_of: Callable[[str], tuple[WordTest, ...] | None] | None = None,
) -> list[RuleError]:
    """Phrases listed in two items of one `all` (the same phrase in any of its word forms, as `key_of` keys it: the
    compiled atom): the items of `all` may be met by the same words, so that one word satisfies both, and a
    condition written to need two words ("a verb" and "a noun") is met by that one alone (outside trial 28, F6:
    `offensive` in the verbs and in the nouns fired on "after military offensive"). A mapping's `any` beside its
    `all` must hold as well: it counts as one more item. Said at the later phrase, naming the earlier.

    Not only the same phrase (outside trial 29, F6): with `tests_of` (each word of a phrase as the builder tests it),
    also two phrases that one text meets with the same words, word for word: a '*' prefix that covers the other's
    word (`offens*` and `offensive`, `launch*` and `launch`), or words that share a form (`leaves` and `left`: both
    read "left"). Phrases naming entities are compared by their key only."""
    out: list[RuleError] = []
    for clause, cpath in _clauses(cond, path):
        items: list[tuple[str, Condition, list[str | int]]] = [
            (f"item {i + 1} of this `all`", c, [*cpath, "all", i]) for i, c in enumerate(clause.all or ())
        ]
        if clause.any is not None and items:
            items.append(("this condition's `any`", Clause(any=clause.any), cpath))
        if len(items) < 2:
            continue
        first: dict[str, tuple[int, str, str]] = {}  # key -> (item, where it is said, the phrase as written)
        # Per number of words, the phrases met so far, as tested: (item, where it is said, phrase, tests).
        tested: dict[int, list[tuple[int, str, str, tuple[WordTest, ...]]]] = {}
        for n, (where, item, ipath) in enumerate(items):
            here: set[str] = set()
            mine: list[tuple[int, str, str, tuple[WordTest, ...]]] = []
            for key, text, ppath in _positive(item, ipath, key_of):
                if key in here:
                    continue  # (twice in one item: no news here)
                here.add(key)
                got = first.setdefault(key, (n, where, text))
                if got[0] == n:
                    tests = tests_of(text) if tests_of is not None and not key.startswith(("@", "phrase:")) else None
                    if tests:
                        mine.append((n, where, text, tests))
                        shared = next(
                            (
                                (o, ow, ot, meet)
                                for o, ow, ot, otests in tested.get(len(tests), ())
                                if o != n and (meet := _same_words(text, tests, ot, otests)) is not None
                            ),
                            None,
                        )
                        if shared is not None:
                            _o, other, written, (why, word) = shared
                            out.append(
                                RuleError(
                                    ppath,
                                    f"phrase {text!r} ({_label(where)}) and {written!r} in {other} can read the "
                                    f"same {'word' if len(tests) == 1 else 'words'} ({why}): items of `all` may be "
                                    "met by the same words, so "
                                    + (
                                        f"one word {word!r} satisfies both"
                                        if len(tests) == 1
                                        else f"the words {word!r} alone satisfy both"
                                    )
                                    + " (keep such words in one item only, so that each item needs words of its "
                                    "own)",
                                    pack=pack,
                                    warning=True,
                                )
                            )
                    continue
                _n, other, written = got
                same = (
                    f" ({written!r}: the same word in another form)"
                    if written.strip().lower() != text.strip().lower()
                    else ""
                )
                out.append(
                    RuleError(
                        ppath,
                        f"phrase {text!r} is also in {other}{same}: items of `all` may be met by the same words, so "
                        + (
                            f"one word {text!r} satisfies both"
                            if len(phrase_words(text)) == 1
                            else f"the words {text!r} alone satisfy both"
                        )
                        + " (keep it in one item only, so that each item needs words of its own)",
                        pack=pack,
                        warning=True,
                    )
                )
            for entry in mine:
                tested.setdefault(len(entry[3]), []).append(entry)
    return out


def never_match_warnings(
    cond: Condition,
    path: list[str | int],
    near: int | None,
    pack: int,
    key_of: Callable[[str], str | None] | None = None,
    tests_of: Callable[[str], tuple[WordTest, ...] | None] | None = None,
) -> list[RuleError]:
    """A signal's `match` that no sentence can meet, said at `rules check` (outside trial 32, L2: both passed as ok,
    and `rules explain` alone showed them never matching): a phrase every match needs that is longer than `near`
    allows, and a `none` word that every match of a required item holds; and, with `key_of` (a phrase's words as
    the signal reads them: one key for a word's forms), a `none` phrase that reads the same words as one of the
    match's own phrases (outside trial 56, M3: `none: [coups]` excluded every "coup" of `any: [coup, …]`)."""
    out: list[RuleError] = []
    if near is not None and (need := _longest_needed(cond)) is not None and need[0] > near:
        out.append(
            RuleError(
                [*path[:-1], "near"],
                f"near: {near} is less than the {need[0]} words of {need[1]!r}, which every match needs: the words "
                "of a match never fit in it, so the signal is never made",
                pack=pack,
                warning=True,
            )
        )
    if isinstance(cond, Clause) and cond.none:
        groups: list[tuple[list[str], str]] = []
        for i, item in enumerate(cond.all or ()):
            if (alts := _plain_alternatives(item)) is not None:
                groups.append((alts, f"item {i + 1} of `all`"))
        if cond.any is not None and (alts := _plain_alternatives(Clause(any=cond.any))) is not None:
            groups.append((alts, "`any`"))
        for j, excluded in enumerate(cond.none):
            if not isinstance(excluded, str) or not _plain(excluded):
                continue
            words = phrase_words(excluded)
            for alts, where in groups:
                if all(_holds(phrase_words(a), words) for a in alts):
                    out.append(
                        RuleError(
                            [*path, "none", j],
                            f"none: {excluded!r} excludes every sentence the match can meet: "
                            + (f"{alts[0]!r} ({where})" if len(alts) == 1 else f"each phrase of {where}")
                            + " holds it, so the signal is never made",
                            pack=pack,
                            warning=True,
                        )
                    )
                    break
            else:
                if key_of is not None:
                    out += _none_reads_own_phrase(cond, excluded, j, path, pack, key_of, tests_of)
    return out


def _none_reads_own_phrase(
    cond: Clause,
    excluded: str,
    j: int,
    path: list[str | int],
    pack: int,
    key_of: Callable[[str], str | None],
    tests_of: Callable[[str], tuple[WordTest, ...] | None] | None = None,
) -> list[RuleError]:
    """A `none` phrase that reads the words of one of the match's own phrases: wherever that phrase matches, the
    signal is excluded. The same words in another form key alike in English («coups», «coup»); a Russian word's forms
    are its readings', which differ from word to word («пленные» reads the adjective's forms too, «пленными» only the
    noun's): with `tests_of`, a `none` phrase whose every word reads each form of the own phrase's word is one too."""
    key = key_of(excluded)
    if key is None:
        return []
    excluded_tests = tests_of(excluded) if tests_of is not None else None
    for own in _own_phrases(cond):
        if key_of(own) != key:
            own_tests = tests_of(own) if tests_of is not None and excluded_tests is not None else None
            if own_tests is None or excluded_tests is None or not _covers(excluded_tests, own_tests):
                continue
        other_form = own.strip().lower() != excluded.strip().lower()
        hint = ""
        if other_form and len(phrase_words(excluded)) == 1:
            hint = f" (to exclude only the form written, mark it: '={excluded.strip()}')"
        return [
            RuleError(
                [*path, "none", j],
                f"none: {excluded!r} reads the same words as the match's own phrase {own!r}"
                + (" (another form of them)" if other_form else "")
                + f": wherever {own!r} matches, the signal is excluded{hint}",
                pack=pack,
                warning=True,
            )
        ]
    return []


def _covers(excluded: tuple[WordTest, ...], own: tuple[WordTest, ...]) -> bool:
    """Whether every text `own` (a phrase's word tests) meets, `excluded` meets too: as many words, each of own's
    forms one of excluded's (or starting with its '*' prefix). A prefix of own's is not judged."""
    if len(excluded) != len(own):
        return False
    for (xmode, xtext, xforms), (omode, otext, oforms) in zip(excluded, own, strict=True):
        if omode == PREFIX:
            return False
        forms = oforms or frozenset({otext})
        if not (all(f.startswith(xtext) for f in forms) if xmode == PREFIX else forms <= (xforms or {xtext})):
            return False
    return True


def _own_phrases(cond: Condition) -> list[str]:
    """The phrases a match's positive parts (`any`, `all`, nested) name, as written."""
    if isinstance(cond, str):
        return [cond]
    out: list[str] = []
    for part in (cond.any or (), cond.all or ()):
        for c in part:
            out += _own_phrases(c)
    return out


def prefix_form_warnings(cond: Condition, path: list[str | int], pack: int) -> list[RuleError]:
    """An English phrase word written as a prefix ("seize*") whose own forms do not all begin with it ("seizing",
    "withdrew", "closing"): a `*` is a prefix of letters, not the word's forms, and the forms it misses are the
    ordinary ways news writes the word (outside trial 44, L4: twelve such phrases before it was noticed; "Officers
    say they're seizing power" made no signal). The hint names them, the word whose forms a version 2 pack reads,
    and the prefix every form shares."""
    out: list[RuleError] = []
    for _key, phrase, where in _positive(cond, path, lambda p: p):
        for word in phrase_words(phrase):
            if not word.endswith("*") or word.startswith("="):
                continue
            stem = word[:-1]
            if len(stem) < 4 or not stem.isascii() or not stem.isalpha():
                continue
            forms = word_forms("en", stem)
            # (the word as its dictionary form, ties allowed: "withdraw" beside "withdrew")
            if len(forms) < 2 or stem not in forms or any(len(f) < len(stem) for f in forms):
                continue
            missed = sorted(f for f in forms if not f.startswith(stem))
            if not missed:
                continue
            shared = min(forms)
            for form in forms:
                while not form.startswith(shared):
                    shared = shared[:-1]
            also = f" or `{shared}*`" if len(shared) >= 4 else ""
            out.append(
                RuleError(
                    where,
                    f"{word!r} in {phrase!r} misses forms of {stem!r} ({', '.join(missed)}): `*` is a prefix of "
                    f"letters; write `{stem}` (its forms, in a version 2 pack or with `morphology: forms`){also}",
                    pack=pack,
                    warning=True,
                )
            )
    return out


def goal_to_warnings(cond: Condition, path: list[str | int], pack: int, signal: str) -> list[RuleError]:
    """An English phrase that begins with "to" and a verb ("to leave"): the cue of a goal ("call for X to", "urged X
    to") is read at its "to", so a phrase holding that "to" holds the cue, which then never applies to it (outside
    trial 56, L2: "call for France ambassador, troops to leave country" read the ambassador's leaving asserted).
    Not "to" and a noun ("troops to Russia"), which no goal leads to."""
    from .modality import is_bare_verb_en  # (here: modality imports the compiler, which imports this module)

    out: list[RuleError] = []
    for _key, phrase, where in _positive(cond, path, lambda p: p):
        words = [w.lstrip("=") for w in phrase_words(phrase)]
        if len(words) < 2 or words[0] != "to":
            continue
        # "to be held" is left alone: "to be" is a cue of its own (a thing still to be done), and writing it into a
        # phrase is the documented way to keep it from applying.
        if words[1] == "be" or not is_bare_verb_en(words[1].rstrip("*")):
            continue
        rest = " ".join(phrase_words(phrase)[1:])
        out.append(
            RuleError(
                where,
                f"phrase {phrase!r} of signal {signal!r} begins with the cue word 'to' (goal): the cue is part of the "
                f'phrase and never applies to it ("call for X {phrase}" would read asserted); write {rest!r}',
                pack=pack,
                warning=True,
            )
        )
    return out


def _longest_needed(cond: Condition) -> tuple[int, str] | None:
    """A lower bound of the words a match of `cond` spans, with the phrase that sets it: the longest of what each
    required part needs at least (items of `all` may share words, so not their sum). None: nothing known."""
    if isinstance(cond, str):
        return (len(phrase_words(cond)), cond) if cond.strip() else None
    needs: list[tuple[int, str]] = []
    for item in cond.all or ():
        if (n := _longest_needed(item)) is not None:
            needs.append(n)
    if cond.any is not None:
        alts = [_longest_needed(c) for c in cond.any]
        if alts and all(a is not None for a in alts):
            needs.append(min((a for a in alts if a is not None), key=lambda a: a[0]))
    return max(needs, key=lambda n: n[0]) if needs else None


def _plain(phrase: str) -> bool:
    return not any(ch in phrase for ch in "*=") and bool(phrase.strip())


def _plain_alternatives(cond: Condition) -> list[str] | None:
    """The plain phrases one of which a required part's match holds (a phrase, or an `any` of phrases); None when
    it is anything else (a wildcard, a regex, a nested `all`)."""
    if isinstance(cond, str):
        return [cond] if _plain(cond) else None
    if cond.all is not None or cond.none is not None or cond.regex is not None or cond.any is None:
        return None
    alts: list[str] = []
    for c in cond.any:
        got = _plain_alternatives(c)
        if got is None:
            return None
        alts += got
    return alts


def _holds(words: list[str], part: list[str]) -> bool:
    """Whether `part`'s words occur, in order and together, among `words`."""
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _label(where: str) -> str:
    """The item of a `where`: "item 2" of "item 2 of this `all`"; "this condition's `any`" as it is."""
    return where.removesuffix(" of this `all`")


def _same_words(a: str, a_tests: tuple[WordTest, ...], b: str, b_tests: tuple[WordTest, ...]) -> tuple[str, str] | None:
    """Whether one text meets phrases `a` and `b` (of as many words) with the same words: each word of one and the
    word at its place in the other read a word in common. Returns why, and such words; None when they cannot."""
    why: list[str] = []
    words: list[str] = []
    for (am, at, af), (bm, bt, bf) in zip(a_tests, b_tests, strict=True):
        if am == PREFIX and bm == PREFIX:
            if not (at.startswith(bt) or bt.startswith(at)):
                return None
            longer, shorter = (at, bt) if len(at) >= len(bt) else (bt, at)
            if longer != shorter:
                why.append(f"'{shorter}*' covers '{longer}*'")
            words.append(longer + "…")
        elif am == PREFIX or bm == PREFIX:
            prefix, forms, word = (at, bf, bt) if am == PREFIX else (bt, af, at)
            covered = sorted(f for f in forms if f.startswith(prefix))
            if not covered:
                return None
            shown = word if word in covered else covered[0]
            why.append(f"'{prefix}*' covers {shown!r}")
            words.append(shown)
        else:
            common = af & bf
            if not common:
                return None
            shown = at if at in common else bt if bt in common else min(common)
            if at != bt:
                if shown == at:
                    why.append(f"{at!r} is a form of {bt!r}")
                elif shown == bt:
                    why.append(f"{bt!r} is a form of {at!r}")
                else:
                    why.append(f"{shown!r} is a form of both {at!r} and {bt!r}")
            words.append(shown)
    if not why:
        return None  # the same words as written: the key said it (or a phrase the builder keys otherwise)
    return "; ".join(why), " ".join(words)


def _clauses(cond: Condition, path: list[str | int]) -> list[tuple[Clause, list[str | int]]]:
    """Every mapping of a condition tree (itself and those inside it), with its place."""
    if isinstance(cond, str):
        return []
    out = [(cond, path)]
    for part in ("any", "all", "none"):
        for i, c in enumerate(getattr(cond, part) or ()):
            out += _clauses(c, [*path, part, i])
    return out


def _positive(
    cond: Condition, path: list[str | int], key_of: Callable[[str], str | None]
) -> list[tuple[str, str, list[str | int]]]:
    """The phrases whose words can meet a condition (not those under `none`): (key, phrase, place)."""
    if isinstance(cond, str):
        key = key_of(cond)
        return [(key, cond, path)] if key is not None else []
    out: list[tuple[str, str, list[str | int]]] = []
    for part in ("any", "all"):
        for i, c in enumerate(getattr(cond, part) or ()):
            out += _positive(c, [*path, part, i], key_of)
    return out
