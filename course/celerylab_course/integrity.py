"""How far a student gets without knowing Celery: the papers students sit, and what
knowledge-free strategies score on them.

A *paper* is the list of questions one assignment shows one student: a module's quiz (its bank,
options in the student's order) or the student's exam paper (drawn for them, options in their
order), for a sample of students.
The strategies need no knowledge of the subject: always the same letter with always the same
True/False, always the longest option, or answering at random (its expected score). Only
autograded points count, so the figures are an upper bound on what guessing earns.

    python -m celerylab_course.integrity              # the highest score per paper
    python -m celerylab_course.integrity --students 500   # max/median/p95 over more papers
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, replace

from celerylab_course.curriculum import Curriculum, Question

LETTERS = "ABCD"
CHOICE = ("multiple_choice", "scenario")
#: Above this share of a paper's autograded points, guessing is a way through the paper.
GUESS_LIMIT = 0.5
#: Students whose papers are played: each sits a paper of their own. The letters are permuted
#: per paper (papers.letter_order), so a constant letter scores on every paper what it scores
#: on the pool; more students show the spread of the draw itself (--students).
SAMPLE_STUDENTS = tuple(f"student{n:02d}" for n in range(1, 13))


def sample(n: int) -> tuple[str, ...]:
    return tuple(f"student{i:02d}" for i in range(1, n + 1))


@dataclass(frozen=True)
class Paper:
    name: str  # the assignment, e.g. f03-quiz or exam-foundation
    questions: tuple[Question, ...]


def quiz_paper(quiz: str, questions, who: str) -> tuple[Question, ...]:
    """The quiz as `who` sees it: each choice's options in their order, the key following."""
    from celerylab_course import answers, quizgen

    out = []
    for q in questions:
        if quizgen.shuffled(q):
            order = answers._order(quiz, who)
            q = replace(
                q,
                options=tuple(q.options[i] for i in order),
                answer=answers.student_letter(q.answer, quiz, who),
            )
        out.append(q)
    return tuple(out)


def quiz_papers(curriculum: Curriculum, students=SAMPLE_STUDENTS) -> list[Paper]:
    return [
        Paper(
            f"{m.quiz.assignment}/{who}",
            quiz_paper(m.quiz.assignment, curriculum.banks[m.code].questions, who),
        )
        for m in curriculum.modules.values()
        if m.quiz.assignment and m.code in curriculum.banks
        for who in students
    ]


def exam_papers(curriculum: Curriculum, students=SAMPLE_STUDENTS) -> list[Paper]:
    from celerylab_course import exams

    found = []
    for e in exams.load(curriculum).values():
        if e.status != "ready":
            continue
        try:
            found += [
                Paper(f"{e.id}/{who}", tuple(exams.paper(curriculum, e, who))) for who in students
            ]
        except exams.DrawError:
            continue  # the conformance rule exam-draw reports it; there is no paper to play
    return found


def papers(curriculum: Curriculum, students=SAMPLE_STUDENTS) -> list[Paper]:
    found = quiz_papers(curriculum, students) + exam_papers(curriculum, students)
    return sorted(found, key=lambda p: p.name)


def is_choice(q: Question) -> bool:
    return q.type in CHOICE and q.answer is not None and bool(q.options)


def longest(q: Question) -> str:
    """The letter of the longest option (the first one on a tie)."""
    lengths = [len(o) for o in q.options]
    return LETTERS[lengths.index(max(lengths))]


def _score(paper: Paper, choose, tf: bool) -> float:
    """Share of the paper's autograded points earned answering choices with `choose(q)` and
    every True/False item with `tf`; fill-ins and matchings earn nothing."""
    auto = [q for q in paper.questions if q.autograded]
    won = sum(
        (is_choice(q) and choose(q) == q.answer) or (q.type == "true_false" and q.answer is tf)
        for q in auto
    )
    return won / len(auto) if auto else 0.0


def strategies(paper: Paper) -> dict[str, float]:
    """Strategy name -> share of the autograded points it earns on the paper."""
    out = {}
    for tf in (True, False):
        for letter in LETTERS:
            out[f'always "{letter}", always {tf}'] = _score(paper, lambda q, x=letter: x, tf)
        out[f"longest option, always {tf}"] = _score(paper, longest, tf)
    auto = [q for q in paper.questions if q.autograded]
    expected = sum(
        1 / len(q.options) if is_choice(q) else 0.5 * (q.type == "true_false") for q in auto
    )
    out["random"] = expected / len(auto) if auto else 0.0
    return out


def best(paper: Paper) -> tuple[str, float]:
    """The knowledge-free strategy that scores highest on the paper, and its score."""
    return max(strategies(paper).items(), key=lambda kv: kv[1])


def key_letters(questions) -> Counter:
    return Counter(q.answer for q in questions if is_choice(q))


def key_is_longest(q: Question) -> bool:
    """The key is strictly the longest option (a tie gives the key away less)."""
    lengths = [len(o) for o in q.options]
    k = LETTERS.index(q.answer)
    return all(lengths[k] > n for i, n in enumerate(lengths) if i != k)


def report(curriculum: Curriculum, students=SAMPLE_STUDENTS) -> tuple[str, float]:
    """(the best knowledge-free score per quiz and exam over its sampled students' papers, with
    the median and 95th percentile of the per-paper best; the highest score of all)."""
    scores: dict[str, list[float]] = {}
    worst: dict[str, tuple[float, str]] = {}
    for p in papers(curriculum, students):
        name, score = best(p)
        assignment, _, who = p.name.partition("/")
        scores.setdefault(assignment, []).append(score)
        worst[assignment] = max(worst.get(assignment, (-1.0, "")), (score, f"{name} ({who})"))
    lines = [f"{'paper':<20} {'max':>5} {'median':>6} {'p95':>5}  best strategy (on whose paper)"]
    for assignment, (score, what) in sorted(worst.items()):
        got = sorted(scores[assignment])
        p95 = got[round(0.95 * (len(got) - 1))]
        flag = "  <- at or above the limit" if score >= GUESS_LIMIT else ""
        lines.append(
            f"{assignment:<20} {score:>5.0%} {statistics.median(got):>6.0%} {p95:>5.0%}  "
            f"{what}{flag}"
        )
    return "\n".join(lines), max(s for s, _ in worst.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m celerylab_course.integrity")
    parser.add_argument("--students", type=int, default=len(SAMPLE_STUDENTS))
    args = parser.parse_args(argv)
    text, worst = report(Curriculum.load(), sample(args.students))
    print(f"{args.students} students' papers per quiz and exam\n{text}")
    return 1 if worst >= GUESS_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
