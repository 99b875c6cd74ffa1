"""Conformance rules for the exams' own item pools (course/exams/pools/<exam>/<module>.yaml).

- exam-pool: a ready exam draws from a pool of its own (until it has one it draws from the quiz
  banks, whose keys students get back as quiz feedback: a NOTE, so the gap stays visible).
- exam-pool-disjoint: no pool item shares an id, a prompt or an explanation with a quiz bank item
  (compared as words, so a re-punctuated copy is caught).
- exam-pool-size: the pool is larger than the paper, with a spare item for every question type and
  difficulty the paper asks for (written scenario items counted apart, for their own slots),
  so papers differ between students in every part.
- exam-pool-tf: True/False keys of the pool are balanced (40-60% True), because a student's paper
  is drawn without its keys and so cannot balance them itself: a skewed pool lets "always True"
  score on every paper.
- key-letters / key-longest: as for the banks (keyrules), on every pool.

conformance.run() runs RULES after its own; each rule yields conformance.Finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from celerylab_course import exams, integrity, keyrules, leakscan, papers
from celerylab_course.conformance import FAIL, NOTE, OK, Context, Finding

TF_TRUE_SHARE = (0.4, 0.6)


def _ready_with_pool(ctx: Context):
    for e in sorted(exams.load(ctx.curriculum).values(), key=lambda e: e.id):
        if e.status == "ready" and e.path in ctx.curriculum.paths:
            yield e, exams.pool_banks(ctx.curriculum, e)


def rule_exam_pool(ctx: Context) -> Iterator[Finding]:
    quiz = [q for b in ctx.curriculum.banks.values() for q in b.questions]
    quiz_ids = {q.id for q in quiz}
    quiz_text = {leakscan.words(t): q.id for q in quiz for t in (q.prompt, q.explanation)}
    for e, banks in _ready_with_pool(ctx):
        if not banks:
            yield Finding(NOTE, "exam-pool", e.id, "no pool of its own yet: drawn from quiz banks")
            continue
        items = [q for b in banks for q in b.questions]
        yield Finding(OK, "exam-pool", e.id, f"{len(items)} items of its own, {len(banks)} modules")
        clashes = [f"{q.id} reuses its id" for q in items if q.id in quiz_ids]
        clashes += [
            f"{q.id} repeats {quiz_text[leakscan.words(t)]}'s text"
            for q in items
            for t in (q.prompt, q.explanation)
            if leakscan.words(t) in quiz_text
        ]
        yield Finding(
            FAIL if clashes else OK,
            "exam-pool-disjoint",
            e.id,
            "; ".join(clashes) or "no item shares an id, prompt or explanation with a quiz bank",
        )
        yield from _size(ctx, e)
        tf = [q.answer for q in items if q.type == "true_false"]
        share = sum(a is True for a in tf) / len(tf) if tf else 0.5
        lo, hi = TF_TRUE_SHARE
        yield Finding(
            OK if lo <= share <= hi else FAIL,
            "exam-pool-tf",
            e.id,
            f"{sum(a is True for a in tf)} of {len(tf)} True/False keys are True ({share:.0%}, "
            f"want {lo:.0%}-{hi:.0%})",
        )


def _size(ctx: Context, e) -> Iterator[Finding]:
    public = exams.spec(ctx.curriculum, e, private=False)
    supply = {
        "type": Counter(papers.kind_of(it) for it in public["items"]),
        "difficulty": Counter(it["difficulty"] for it in public["items"]),
    }
    wants = {"type": papers.kinds(public), "difficulty": public["difficulties"]}
    short = [
        f"{kind} {k}: {supply[kind][k]} for {n}"
        for kind in wants
        for k, n in wants[kind].items()
        if n and supply[kind][k] <= n
    ]
    yield Finding(
        FAIL if short else OK,
        "exam-pool-size",
        e.id,
        f"{len(public['items'])} autograded items for a paper of {e.questions}"
        + (f"; no spare item: {', '.join(short)}" if short else ", a spare in every part"),
    )


def rule_pool_keys(ctx: Context) -> Iterator[Finding]:
    for e, banks in _ready_with_pool(ctx):
        items = [q for b in banks for q in b.questions]
        choice = [q for q in items if integrity.is_choice(q)]
        if not choice:
            continue
        letter, top = integrity.key_letters(items).most_common(1)[0]
        yield Finding(
            OK if top / len(choice) <= keyrules.MAX_LETTER_SHARE else FAIL,
            "key-letters",
            e.id,
            f"pool's most frequent key {letter}: {top} of {len(choice)} choice items",
        )
        longest = sum(integrity.key_is_longest(q) for q in choice)
        yield Finding(
            OK if longest / len(choice) <= keyrules.MAX_LONGEST_SHARE else FAIL,
            "key-longest",
            e.id,
            f"pool's key is the longest option in {longest} of {len(choice)} choice items",
        )


RULES = [rule_exam_pool, rule_pool_keys]
