"""The conformance checker: holds the curriculum to the spec's rules and prints a report.

    python -m celerylab_course.conformance [--course DIR] [--repo DIR]

Exits 1 when any rule is violated, 2 when the curriculum cannot be loaded. Each rule is a small
function below, listed in RULES; docs/course/conformance.md explains how each one reads the spec.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from celerylab_course.curriculum import ZERO, Curriculum, CurriculumError, Hours, total

OK, FAIL, NOTE = "ok", "FAIL", "note"


@dataclass(frozen=True)
class Finding:
    level: str  # ok | FAIL | note
    rule: str  # short rule id, e.g. "question-mix"
    subject: str  # module code or path id
    message: str


@dataclass
class Context:
    curriculum: Curriculum
    repo: Path


def _ok(cond: bool, rule: str, subject: str, message: str) -> Finding:
    return Finding(OK if cond else FAIL, rule, subject, message)


def mix_bounds(shares: dict[str, float], n: int) -> dict[str, tuple[int, int]]:
    """Allowed counts per kind for n items: the share's exact value rounded down or up."""
    eps = 1e-9
    return {k: (math.floor(s * n + eps), math.ceil(s * n - eps)) for k, s in shares.items()}


def check_mix(counts: Counter, shares: dict[str, float], n: int) -> list[str]:
    problems = []
    bounds = mix_bounds(shares, n)
    for kind, (lo, hi) in bounds.items():
        if not lo <= counts.get(kind, 0) <= hi:
            want = str(lo) if lo == hi else f"{lo}-{hi}"
            problems.append(f"{kind} {counts.get(kind, 0)} (want {want})")
    for kind in set(counts) - set(bounds):
        problems.append(f"{kind} {counts[kind]} (not in the mix)")
    return problems


def _fmt_counts(counts: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


# ---------------------------------------------------------------- structure


def rule_structure(ctx: Context) -> Iterator[Finding]:
    c = ctx.curriculum
    listed = {}
    for p in c.paths.values():
        for code in p.modules:
            listed[code] = p.id
            if code not in c.modules:
                yield Finding(FAIL, "structure", p.id, f"lists {code}, which has no module file")
    for m in c.modules.values():
        if m.path not in c.paths:
            yield Finding(FAIL, "structure", m.code, f"path {m.path!r} is not in paths.yaml")
        elif listed.get(m.code) != m.path:
            yield Finding(FAIL, "structure", m.code, f"is not listed in path {m.path!r}")
        for pre in m.prerequisites:
            if pre not in c.modules:
                yield Finding(FAIL, "structure", m.code, f"prerequisite {pre} is not a module")
        titles = {a.title for a in m.activities}
        for p in m.practicals:
            if p.activity not in titles:
                yield Finding(
                    FAIL,
                    "structure",
                    m.code,
                    f"practical {p.title!r} assesses unknown activity {p.activity!r}",
                )
        optional = {p.assignment for p in m.practicals if not p.graded and p.assignment}
        for crit in m.success_criteria:
            if crit.assignment in optional:
                yield Finding(
                    FAIL,
                    "structure",
                    m.code,
                    f"success criterion {crit.text!r} rests on {crit.assignment}, an optional "
                    "(ungraded) extension students may skip",
                )
    yield Finding(
        OK,
        "structure",
        "curriculum",
        f"{len(c.modules)} modules in {len(c.paths)} paths and tracks; cross-references resolve",
    )


# ---------------------------------------------------------------- per module


def rule_stated(ctx: Context) -> Iterator[Finding]:
    """Numbers the spec states for its own modules are kept verbatim."""
    for code, stated in ctx.curriculum.rules.stated.items():
        m = ctx.curriculum.modules.get(code)
        if m is None:
            yield Finding(
                FAIL, "stated", code, "the spec specifies this module but there is no module file"
            )
            continue
        want_d = Hours.of(stated["duration"])
        yield _ok(m.duration == want_d, "stated", code, f"duration {m.duration} (spec: {want_d})")
        q = stated["quiz"]
        yield _ok(
            (m.quiz.questions, m.quiz.minutes) == (q["questions"], q["minutes"]),
            "stated",
            code,
            f"quiz {m.quiz.questions} questions / {m.quiz.minutes} min "
            f"(spec: {q['questions']} / {q['minutes']})",
        )
        if "practical_hours" in stated:
            # Every graded practical counts: a second lab is more graded work than the spec's.
            graded = [p for p in m.practicals if p.graded]
            got = total(graded)
            want = Hours.of(stated["practical_hours"])
            yield _ok(
                got == want,
                "stated",
                code,
                f"graded practical exercises {got} over {len(graded)} lab(s) (spec: {want})",
            )


def rule_hours(ctx: Context) -> Iterator[Finding]:
    """Topic hours add up to the module's duration; activities fit inside the topic time."""
    for m in ctx.curriculum.modules.values():
        topics = total(m.topics)
        yield _ok(
            topics.within(m.duration),
            "topic-hours",
            m.code,
            f"topics {topics} within duration {m.duration}",
        )
        acts = total(m.activities)
        yield _ok(
            acts.hi <= topics.lo,
            "activity-hours",
            m.code,
            f"activities {acts} fit in topic time {topics}",
        )


def rule_quiz_minutes(ctx: Context) -> Iterator[Finding]:
    c = ctx.curriculum
    for m in c.modules.values():
        rng = c.rules.quiz_minutes.get(c.level_of(m))
        if rng is None:
            if m.code not in c.rules.stated:
                yield Finding(
                    NOTE, "quiz-minutes", m.code, f"{m.quiz.minutes} min (no range for this level)"
                )
            continue
        yield _ok(
            rng.lo <= m.quiz.minutes <= rng.hi,
            "quiz-minutes",
            m.code,
            f"quiz {m.quiz.minutes} min within {rng.lo:g}-{rng.hi:g} min",
        )


def rule_practical_hours(ctx: Context) -> Iterator[Finding]:
    """Designed modules keep the spec's 2-4 hours per practical exercise (spec modules: theirs)."""
    rng = ctx.curriculum.rules.practical_exercise_hours
    for m in ctx.curriculum.modules.values():
        if m.origin != "designed":
            continue
        hours = total(p for p in m.practicals if p.graded)
        yield _ok(
            hours.within(rng),
            "practical-hours",
            m.code,
            f"practical exercises {hours} within {rng}",
        )


def rule_bank(ctx: Context) -> Iterator[Finding]:
    """A ready module's bank has the quiz's question count, type mix and difficulty mix."""
    c = ctx.curriculum
    for m in c.modules.values():
        bank = c.banks.get(m.code)
        if bank is None:
            if m.status == "ready":
                yield Finding(FAIL, "bank", m.code, "is ready but has no question bank")
            else:
                yield Finding(NOTE, "bank", m.code, "specified only: no question bank yet")
            continue
        qs = bank.questions
        ids = Counter(q.id for q in qs)
        dupes = [i for i, n in ids.items() if n > 1]
        yield _ok(
            not dupes,
            "bank",
            m.code,
            "question ids are unique" + (f" (twice: {dupes})" if dupes else ""),
        )
        yield _ok(
            len(qs) == m.quiz.questions,
            "bank-count",
            m.code,
            f"{len(qs)} questions (quiz: {m.quiz.questions})",
        )
        types = Counter(q.type for q in qs)
        shares = m.quiz.type_shares(c.rules.question_types)
        problems = check_mix(types, shares, m.quiz.questions)
        how = (
            f" ({', '.join(f'{k} in place of {v}' for v, k in m.quiz.substitutes.items())})"
            if m.quiz.substitutes
            else ""
        )
        yield _ok(
            not problems,
            "question-mix",
            m.code,
            f"question types {_fmt_counts(types)}{how}"
            + (f": {'; '.join(problems)}" if problems else ""),
        )
        level = c.level_of(m)
        diff = Counter(q.difficulty for q in qs)
        problems = check_mix(diff, c.rules.difficulty[level], m.quiz.questions)
        yield _ok(
            not problems,
            "difficulty-mix",
            m.code,
            f"{level} difficulty {_fmt_counts(diff)}"
            + (f": {'; '.join(problems)}" if problems else ""),
        )
        topics = len(m.topics)
        bad = [q.id for q in qs if q.topic is not None and not 1 <= q.topic <= topics]
        yield _ok(
            not bad,
            "bank",
            m.code,
            "questions point at existing topics" + (f" (not: {bad})" if bad else ""),
        )
        bad = [
            q.id
            for q in qs
            if q.type == "fill_blank" and q.match == "code" and not _all_parse(q.answers)
        ]
        yield _ok(
            not bad,
            "bank",
            m.code,
            "code answers of fill-in-the-blank questions parse" + (f" (not: {bad})" if bad else ""),
        )


def _all_parse(answers) -> bool:
    try:
        for a in answers:
            ast.parse(str(a))
    except SyntaxError:
        return False
    return True


def rule_ready(ctx: Context) -> Iterator[Finding]:
    """A ready module has its assignments, a checkable success criterion each, and its example."""
    c = ctx.curriculum
    for m in c.modules.values():
        if m.status != "ready":
            continue
        missing = [a for a in m.assignments if not (ctx.repo / "source" / a).is_dir()]
        yield _ok(
            not missing and m.quiz.assignment is not None and m.lessons,
            "assignments",
            m.code,
            f"lessons, labs and quiz in source/: {', '.join(m.assignments)}"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
        )
        unchecked = [cr.text for cr in m.success_criteria if cr.assignment is None]
        yield _ok(
            not unchecked and bool(m.success_criteria),
            "criteria",
            m.code,
            f"{len(m.success_criteria)} success criteria, each checkable in the gradebook"
            + (f" (no check: {unchecked})" if unchecked else ""),
        )
        foreign = [
            cr.assignment
            for cr in m.success_criteria
            if cr.assignment and cr.assignment not in m.assignments
        ]
        if foreign:
            yield Finding(
                FAIL, "criteria", m.code, f"criteria name assignments of other modules: {foreign}"
            )
        cells = _grade_cells(ctx.repo / "source")
        for cr in m.success_criteria:
            unknown = [cell for cell in cr.cells if cell not in cells.get(cr.assignment, set())]
            if cr.assignment in cells and unknown:
                yield Finding(
                    FAIL, "criteria", m.code, f"{cr.assignment} has no grade cells {unknown}"
                )
        example = c.root / "examples" / f"{m.example}.py" if m.example else None
        has_usage = (
            example is not None
            and example.exists()
            and "Usage" in (ast.get_docstring(ast.parse(example.read_text())) or "")
        )
        yield _ok(
            has_usage,
            "example",
            m.code,
            f"example course/examples/{m.example}.py with a Usage docstring",
        )


_CELLS: dict[Path, dict[str, set[str]]] = {}


def _grade_cells(source: Path) -> dict[str, set[str]]:
    if source not in _CELLS:
        found: dict[str, set[str]] = {}
        for nb in source.glob("*/*.ipynb"):
            ids = found.setdefault(nb.parent.name, set())
            for cell in json.loads(nb.read_text()).get("cells", []):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade") or meta.get("task"):
                    ids.add(meta.get("grade_id"))
        _CELLS[source] = found
    return _CELLS[source]


def _returns_none(stmt: ast.Expr) -> bool:
    """Calls known to return None: print and the course's check helpers."""
    if not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "print" or name.startswith(("expect_", "check_", "format_"))


def rule_grade_cells(ctx: Context) -> Iterator[Finding]:
    """nbgrader turns a test cell's final value into a partial grade, so a test cell that ends
    in an expression (say, a call returning 1) silently loses points. Allowed only when the line
    says it is a partial grade."""
    for nb_path in sorted((ctx.repo / "source").glob("*/*.ipynb")):
        bad = []
        for cell in json.loads(nb_path.read_text()).get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            source = "".join(cell.get("source", ""))
            lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
            try:
                body = ast.parse("\n".join(lines)).body
            except SyntaxError:
                bad.append(f"{meta.get('grade_id')} (does not parse)")
                continue
            if body and isinstance(body[-1], ast.Expr) and not _returns_none(body[-1]):
                last = lines[body[-1].end_lineno - 1]
                if "partial grade" not in last:
                    bad.append(str(meta.get("grade_id")))
        if bad:
            yield Finding(
                FAIL,
                "grade-cells",
                nb_path.parent.name,
                f"{nb_path.name}: test cells end in a value nbgrader would take as a "
                f"partial grade: {', '.join(bad)}",
            )
    yield Finding(OK, "grade-cells", "source", "no test cell ends in an accidental partial grade")


# ---------------------------------------------------------------- per path


def rule_path_hours(ctx: Context) -> Iterator[Finding]:
    c = ctx.curriculum
    for p in c.paths.values():
        mods = [c.modules[code] for code in p.modules if code in c.modules]
        duration = sum((m.duration for m in mods), ZERO)
        if not p.complete:
            yield Finding(
                NOTE,
                "path-total",
                p.id,
                f"{len(mods)} module(s) so far, {duration} of {p.hours}; {p.planned}",
            )
            continue
        yield _ok(
            duration.within(p.hours),
            "path-total",
            p.id,
            f"module durations add up to {duration}, within {p.hours}",
        )
        topics = sum((total(m.topics) for m in mods), ZERO)
        yield _ok(
            topics.within(p.hours),
            "path-total",
            p.id,
            f"topic hours add up to {topics}, within {p.hours}",
        )


def rule_practical_mix(ctx: Context) -> Iterator[Finding]:
    c = ctx.curriculum
    mix, tol = c.rules.practical_mix, c.rules.practical_mix_tolerance
    for p in c.paths.values():
        if not p.complete:
            continue
        hours: Counter = Counter()
        for code in p.modules:
            for a in c.modules[code].activities:
                hours[a.kind] += (a.hours.lo + a.hours.hi) / 2
        whole = sum(hours.values())
        parts, problems = [], []
        for kind, share in mix.items():
            got = hours[kind] / whole if whole else 0
            parts.append(f"{kind} {got:.0%}")
            if abs(got - share) > tol + 1e-9:
                problems.append(f"{kind} {got:.1%} (want {share:.0%} ± {tol:.1%})")
        yield _ok(
            not problems,
            "practical-mix",
            p.id,
            f"practical work {whole:g} h: {', '.join(parts)}"
            + (f": {'; '.join(problems)}" if problems else ""),
        )


def rule_time_split(ctx: Context) -> Iterator[Finding]:
    """A path's hours by kind of learning activity (the spec's "Learning Activity Distribution")
    are data: they keep the spec's shares, add up to within the path's hours, and hold what the
    modules schedule (quizzes and the exam in assessment, each module's review and reflection)."""
    c = ctx.curriculum
    shares, tol = c.rules.activity_split, c.rules.activity_split_tolerance
    if not shares:
        return
    exam_hours = c.rules.exam.get("hours", [0, 0])[0]
    for p in c.paths.values():
        split = p.time_split
        if not split:
            yield Finding(FAIL, "time-split", p.id, "has no time_split in paths.yaml")
            continue
        whole = sum(split.values())
        mods = [c.modules[code] for code in p.modules if code in c.modules]
        quizzes = sum(m.quiz.minutes for m in mods) / 60
        activities = sum((total(m.activities) for m in mods), ZERO)
        review = len(mods) * c.rules.review_hours_per_module
        problems = [
            f"{kind} {split.get(kind, 0) / whole:.1%} (want {share:.0%} ± {tol:.1%})"
            for kind, share in shares.items()
            if not whole or abs(split.get(kind, 0) / whole - share) > tol + 1e-9
        ]
        if not Hours(whole, whole).within(p.hours):
            problems.append(f"total {whole:g} h outside {p.hours}")
        if split["assessment"] + 1e-9 < quizzes + exam_hours:
            problems.append(f"assessment {split['assessment']:g} h < quizzes and exam")
        if split["review"] + 1e-9 < review:
            problems.append(f"review {split['review']:g} h < {review:g} h for its modules")
        yield _ok(
            not problems,
            "time-split",
            p.id,
            f"{whole:g} h: "
            + ", ".join(f"{k} {v:g} h ({v / whole:.0%})" for k, v in split.items())
            + f"; quizzes {quizzes:.1f} h + exam {exam_hours:g} h, review {review:g} h"
            + (f": {'; '.join(problems)}" if problems else ""),
        )
        if activities.lo > split["practical"]:
            yield Finding(
                NOTE,
                "time-split",
                p.id,
                f"its modules schedule {activities} of learning activities, more than the "
                f"{split['practical']:g} h of practical time",
            )


def rule_lesson_depth(ctx: Context) -> Iterator[Finding]:
    from celerylab_course import lesson_depth  # the rule lives in its own module

    yield from lesson_depth.findings(ctx)


# ---------------------------------------------------------------- capstones and exams


def rule_capstones(ctx: Context) -> Iterator[Finding]:
    """One capstone per path and track: 15-25 hours, phases in the structure's shares, and (once
    ready) grade-cell points carrying the evaluation weights exactly."""
    from celerylab_course import capstones

    c = ctx.curriculum
    rules = c.rules.capstone
    lo, hi = rules["hours"]
    found = capstones.load(c)
    by_path = Counter(cap.path for cap in found.values())
    for p in c.paths.values():
        yield _ok(by_path[p.id] == 1, "capstone", p.id, f"{by_path[p.id]} capstone(s) (want 1)")
    for cap in found.values():
        yield _ok(
            lo <= cap.hours <= hi, "capstone-hours", cap.id, f"{cap.hours:g} h within {lo}-{hi} h"
        )
        shares = {ph.part: ph.hours / cap.hours for ph in cap.phases}
        bad = [
            f"{part} {shares.get(part, 0):.1%} (want {want:.0%})"
            for part, want in rules["structure"].items()
            if abs(shares.get(part, 0) - want) > 0.005
        ] + [f"{part} (not in the structure)" for part in set(shares) - set(rules["structure"])]
        yield _ok(
            not bad,
            "capstone-structure",
            cap.id,
            "phases "
            + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
            + (f": {'; '.join(bad)}" if bad else ""),
        )
        weights = rules["evaluation"]
        if set(cap.evaluation) != set(weights):
            yield Finding(
                FAIL,
                "capstone-weights",
                cap.id,
                f"evaluates {sorted(cap.evaluation)}; the spec's criteria are {sorted(weights)}",
            )
            continue
        if cap.status != "ready":
            yield Finding(NOTE, "capstone-weights", cap.id, "specified only: no notebook yet")
            continue
        if not (ctx.repo / "source" / cap.id).is_dir():
            yield Finding(
                FAIL, "capstone-weights", cap.id, f"is ready but source/{cap.id} is missing"
            )
            continue
        per, problems = capstones.criterion_points(cap, ctx.repo / "source")
        whole = sum(per.values())
        problems += [
            f"{k} {per[k]:g}/{whole:g} (want {w:.0%})"
            for k, w in weights.items()
            if not whole or abs(per[k] / whole - w) > 1e-9
        ]
        yield _ok(
            not problems,
            "capstone-weights",
            cap.id,
            "points "
            + ", ".join(f"{k} {v:g}" for k, v in per.items())
            + f" of {whole:g}"
            + (f": {'; '.join(problems)}" if problems else ""),
        )


def rule_exams(ctx: Context) -> Iterator[Finding]:
    """One certification exam per path and track, 2-4 hours, its theory drawn from the path's
    banks in the spec's mixes; every certificate a path requires is some exam's."""
    from celerylab_course import exams

    c = ctx.curriculum
    lo, hi = c.rules.exam["hours"]
    found = exams.load(c)
    by_path = Counter(e.path for e in found.values())
    for p in c.paths.values():
        yield _ok(by_path[p.id] == 1, "exam", p.id, f"{by_path[p.id]} exam(s) (want 1)")
        for need in p.requires:
            yield _ok(
                by_path[need] == 1,
                "exam",
                p.id,
                f"requires the {need} certificate"
                + (", which its exam gives" if by_path[need] else ", which no exam gives"),
            )
    for e in found.values():
        if e.path not in c.paths:
            yield Finding(FAIL, "exam", e.id, f"path {e.path!r} is not in paths.yaml")
            continue
        yield _ok(
            lo * 60 <= e.minutes <= hi * 60,
            "exam-time",
            e.id,
            f"{e.minutes} min ({e.theory_minutes} theory + {e.practical_minutes} practical) "
            f"within {lo}-{hi} h",
        )
        try:
            drawn = exams.draw(c, e)
        except exams.DrawError as err:
            _, missing = exams.pool(c, e)
            why = f"{err}" + (f"; no bank yet: {', '.join(missing)}" if missing else "")
            yield Finding(FAIL if e.status == "ready" else NOTE, "exam-draw", e.id, why)
            continue
        level = c.paths[e.path].level
        problems = check_mix(Counter(q.type for q in drawn), c.rules.question_types, e.questions)
        problems += check_mix(
            Counter(q.difficulty for q in drawn), c.rules.difficulty[level], e.questions
        )
        modules = len({q.id.split("-")[0] for q in drawn})
        yield _ok(
            not problems,
            "exam-draw",
            e.id,
            f"{len(drawn)} questions from {modules} module banks, seed {e.seed}: "
            f"{_fmt_counts(Counter(q.type for q in drawn))}; {level} "
            f"{_fmt_counts(Counter(q.difficulty for q in drawn))}"
            + (f": {'; '.join(problems)}" if problems else ""),
        )
        if e.status == "ready":
            missing = [
                nb
                for nb in (f"{exams.THEORY}.ipynb", f"{exams.PRACTICAL}.ipynb")
                if not (ctx.repo / "source" / e.id / nb).is_file()
            ]
            yield _ok(
                not missing,
                "exam",
                e.id,
                "theory and practical notebooks in source/"
                + (f" (missing: {missing})" if missing else ""),
            )
        else:
            yield Finding(NOTE, "exam", e.id, "specified only: practical part not written yet")


RULES: list[Callable[[Context], Iterator[Finding]]] = [
    rule_structure,
    rule_stated,
    rule_hours,
    rule_quiz_minutes,
    rule_practical_hours,
    rule_bank,
    rule_ready,
    rule_grade_cells,
    rule_path_hours,
    rule_practical_mix,
    rule_time_split,
    rule_lesson_depth,
    rule_capstones,
    rule_exams,
]


def run(course: Path | None = None, repo: Path | None = None) -> list[Finding]:
    curriculum = Curriculum.load(course)
    ctx = Context(curriculum, repo or curriculum.root.parent)
    _CELLS.clear()
    # their rules build on Finding
    from celerylab_course import explainrules, keyrules, poolrules, splitrules

    rules = [*RULES, *keyrules.RULES, *splitrules.RULES, *poolrules.RULES, *explainrules.RULES]
    return [f for rule in rules for f in rule(ctx)]


def report(findings: list[Finding], verbose: bool = True) -> str:
    lines = ["celerylab course conformance report", ""]
    width = max((len(f.subject) for f in findings), default=10)
    for f in findings:
        if verbose or f.level != OK:
            lines.append(f"{f.level:<4}  {f.subject:<{width}}  {f.rule:<15} {f.message}")
    fails = sum(f.level == FAIL for f in findings)
    oks = sum(f.level == OK for f in findings)
    notes = sum(f.level == NOTE for f in findings)
    lines += ["", f"{oks} passed, {fails} failed, {notes} notes"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="celerylab-course conformance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--course", type=Path, help="the course/ folder (default: this repository's)"
    )
    parser.add_argument(
        "--repo", type=Path, help="folder holding source/ (default: the course folder's parent)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only violations and notes"
    )
    args = parser.parse_args(argv)
    try:
        findings = run(args.course, args.repo)
    except CurriculumError as e:
        print(f"conformance: {e}", file=sys.stderr)
        return 2
    print(report(findings, verbose=not args.quiet))
    return 1 if any(f.level == FAIL for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
