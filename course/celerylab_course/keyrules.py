"""Conformance rules that keep assessments from being passed without the knowledge they test.

- key-letters: no letter holds more than 35% of a bank's choice keys.
- key-longest: the key is the strictly longest option in at most 40% of a bank's choice items.
- answer-echo: no fill-in answer appears in another item's prompt or options on the same paper,
  quiz or exam: a student who must write "acks_late" finds it written next door. (A choice key
  shown among another item's options is still one option of four there.)
- guessing: no knowledge-free strategy (celerylab_course.integrity) earns half a paper's
  autograded points, on any sampled student's paper of a quiz or exam.

conformance.run() runs RULES after its own; each rule yields conformance.Finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from celerylab_course import integrity
from celerylab_course.conformance import FAIL, OK, Context, Finding
from celerylab_course.curriculum import Question

MAX_LETTER_SHARE = 0.35
MAX_LONGEST_SHARE = 0.40
#: Shorter answers ("json", "5") are ordinary words of the subject; echoing them is no hint.
MIN_ECHO_CHARS = 4


def rule_key_letters(ctx: Context) -> Iterator[Finding]:
    for code, bank in sorted(ctx.curriculum.banks.items()):
        letters = integrity.key_letters(bank.questions)
        n = sum(letters.values())
        if not n:
            continue
        letter, top = letters.most_common(1)[0]
        yield Finding(
            OK if top / n <= MAX_LETTER_SHARE else FAIL,
            "key-letters",
            code,
            f"most frequent key {letter}: {top} of {n} choice items ({top / n:.0%}, "
            f"limit {MAX_LETTER_SHARE:.0%})",
        )


def rule_key_longest(ctx: Context) -> Iterator[Finding]:
    for code, bank in sorted(ctx.curriculum.banks.items()):
        choice = [q for q in bank.questions if integrity.is_choice(q)]
        if not choice:
            continue
        longest = [q.id for q in choice if integrity.key_is_longest(q)]
        share = len(longest) / len(choice)
        yield Finding(
            OK if share <= MAX_LONGEST_SHARE else FAIL,
            "key-longest",
            code,
            f"key is the longest option in {len(longest)} of {len(choice)} choice items "
            f"({share:.0%}, limit {MAX_LONGEST_SHARE:.0%})",
        )


def answers_of(q: Question) -> list[str]:
    """The texts a student must write to answer q: a fill-in's accepted answers."""
    found = [str(a) for a in q.answers] if q.type == "fill_blank" else []
    return [a.strip().strip("`").strip() for a in found if len(a.strip("` ")) >= MIN_ECHO_CHARS]


def _shown(q: Question) -> str:
    """The text q shows a student: its prompt and what it offers as possible answers."""
    return "\n".join([q.prompt, *q.options, *(t for pair in q.pairs for t in pair)])


def echoes(questions) -> list[str]:
    """ "<item>'s answer <text> appears in <other item>" for every answer on the paper that
    another item offers as an option (whole words, any case)."""
    found = []
    for q in questions:
        for answer in answers_of(q):
            pattern = re.compile(rf"(?<!\w){re.escape(answer)}(?!\w)", re.IGNORECASE)
            found += [
                f"{q.id}'s answer {answer!r} appears in {other.id}"
                for other in questions
                if other is not q and pattern.search(_shown(other))
            ]
    return found


def _by_assignment(ctx: Context) -> dict[str, list]:
    """Each quiz's and exam's sampled papers (one per student), by assignment."""
    found: dict[str, list] = {}
    for paper in integrity.papers(ctx.curriculum):
        found.setdefault(paper.name.partition("/")[0], []).append(paper)
    return found


def rule_answer_echo(ctx: Context) -> Iterator[Finding]:
    for assignment, sat in sorted(_by_assignment(ctx).items()):
        problems = sorted({p for paper in sat for p in echoes(paper.questions)})
        yield Finding(
            FAIL if problems else OK,
            "answer-echo",
            assignment,
            "; ".join(problems) or "no answer appears in another item on any sampled paper",
        )


def rule_guessing(ctx: Context) -> Iterator[Finding]:
    for assignment, sat in sorted(_by_assignment(ctx).items()):
        (name, score), paper = max(((integrity.best(p), p) for p in sat), key=lambda x: x[0][1])
        yield Finding(
            OK if score < integrity.GUESS_LIMIT else FAIL,
            "guessing",
            assignment,
            f"best knowledge-free strategy ({name}, on {paper.name}) earns {score:.0%} of the "
            f"autograded points, on the worst of {len(sat)} students' papers "
            f"(limit: below {integrity.GUESS_LIMIT:.0%})",
        )


RULES = [rule_key_letters, rule_key_longest, rule_answer_echo, rule_guessing]
