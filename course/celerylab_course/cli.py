"""`celerylab-course`: the course tooling's commands.

celerylab-course conformance [-q]      the spec's rules, as a report (exit 1 on violations)
celerylab-course build                 regenerate source/ and release/
celerylab-course check                 fail when source/ or release/ drift or leak answers
celerylab-course progress GRADEBOOK_URL STUDENT   success criteria met, paths still locked
celerylab-course certificates GRADEBOOK_URL STUDENT   exams passed; certificates paths require
celerylab-course programme             every path, its modules, exam and capstone (Markdown)
celerylab-course exam-item EXAM STUDENT SLOT   the pool item in a student's slot, with its key
                                       and explanation (graders' model answer; staff only)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from celerylab_course.curriculum import Curriculum, CurriculumError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="celerylab-course",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--course", type=Path, help="the course/ folder (default: this repository's)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("conformance", help="check the curriculum against the spec's rules")
    p.add_argument("-q", "--quiet", action="store_true")
    sub.add_parser("build", help="regenerate source/ and release/")
    sub.add_parser("check", help="fail on drift between course/, source/ and release/, or on leaks")
    p = sub.add_parser("progress", help="which success criteria a student meets")
    p.add_argument("db_url", help="nbgrader gradebook URL, e.g. sqlite:////srv/course/gradebook.db")
    p.add_argument("student")
    sub.add_parser("assignments", help="every assignment in course order, as JSON")
    sub.add_parser("programme", help="the whole programme as Markdown (docs/course/programme.md)")
    p = sub.add_parser("certificates", help="exams passed, and the certificates paths require")
    p.add_argument("db_url", help="nbgrader gradebook URL, e.g. sqlite:////srv/course/gradebook.db")
    p.add_argument("student")
    p = sub.add_parser("exam-item", help="the pool item in a student's exam slot (graders)")
    p.add_argument("exam")
    p.add_argument("student")
    p.add_argument("slot", type=int)
    args = parser.parse_args(argv)

    if args.command == "conformance":
        from celerylab_course import conformance

        return conformance.main(
            ["-q"] * args.quiet + (["--course", str(args.course)] if args.course else [])
        )
    try:
        curriculum = Curriculum.load(args.course)
    except CurriculumError as e:
        print(f"celerylab-course: {e}", file=sys.stderr)
        return 2
    repo = curriculum.root.parent
    if args.command in ("build", "check"):
        from celerylab_course import build, exams

        try:  # capstone and exam files load (and exams draw) during the build
            if args.command == "build":
                names = build.build(curriculum, repo)
            else:
                problems = build.check(curriculum, repo)
        except (CurriculumError, exams.DrawError) as e:
            print(f"celerylab-course: {e}", file=sys.stderr)
            return 2
    if args.command == "build":
        print(f"built {len(names)} assignments into {repo / 'source'} and {repo / 'release'}")
        return 0
    if args.command == "check":
        for p in problems:
            print(p)
        print(f"release check: {len(problems)} problem(s)")
        return 1 if problems else 0
    if args.command == "assignments":
        import json

        print(json.dumps(assignment_list(curriculum), indent=2))
        return 0
    if args.command == "programme":
        from celerylab_course import programme

        print(programme.render(curriculum), end="")
        return 0
    if args.command == "exam-item":
        from celerylab_course import exams

        return exams.print_item(curriculum, args.exam, args.student, args.slot)
    if args.command == "certificates":
        from celerylab_course import certificates

        outcomes = certificates.evaluate(curriculum, args.db_url, args.student)
        needs = certificates.requirements(curriculum, outcomes)
        print(certificates.format_report(outcomes, needs))
        return 0
    if args.command == "progress":
        from celerylab_course import criteria

        report = criteria.evaluate(curriculum, args.db_url, args.student)
        print(criteria.format_report(report))
        # Paths whose modules need a certificate first (Track A: Expert Certification).
        from celerylab_course import certificates

        held = certificates.evaluate(curriculum, args.db_url, args.student)
        for r in certificates.requirements(curriculum, held):
            if not r.held:
                print(f"locked        {r.path:<24} requires the {r.needs}, not held yet")
        return 0
    return 2


def assignment_list(curriculum: Curriculum) -> list[dict]:
    """[{name, module, kind, title}] for every ready module's assignments in course order (and
    the quizzes of specified modules that have a bank), then each built capstone and exam
    (their "module" is the path id)."""
    from celerylab_course import build

    built = set(build.assignments(curriculum))
    order = [code for p in curriculum.paths.values() for code in p.modules]
    result = []
    for code in order:
        module = curriculum.modules.get(code)
        if module is None:
            continue
        items = [(name, "lessons", module.title) for name in module.lessons]
        items += [(p.assignment, "lab", p.title) for p in module.practicals if p.assignment]
        if module.quiz.assignment:
            items.append((module.quiz.assignment, "quiz", module.quiz.title))
        for name, kind, title in items:
            if module.status == "ready" or name in built:
                result.append({"name": name, "module": code, "kind": kind, "title": title})
    # Then each path's capstone and certification exam, once built.
    from celerylab_course import capstones, exams

    extras = [(c.id, c.path, "capstone", c.title) for c in capstones.load(curriculum).values()]
    extras += [(e.id, e.path, "exam", e.title) for e in exams.load(curriculum).values()]
    for name, path, kind, title in extras:
        if name in built:
            result.append({"name": name, "module": path, "kind": kind, "title": title})
    return result


if __name__ == "__main__":
    sys.exit(main())
