"""The difficulty split a quiz's size allows, held to the nearest one.

`difficulty-mix` (conformance.py) accepts each level's count rounded down or up; for 12
Foundation questions (60/30/10 → 7.2/3.6/1.2) that lets 8/3/1 pass, though 7/4/1 is nearer.
`difficulty-split` demands a nearest split: the counts' total distance from the exact shares is
the smallest any split of the quiz's size reaches (ties, such as 15 Professional questions'
4.5/7.5/3, allow either).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from celerylab_course.conformance import FAIL, OK, Context, Finding
from celerylab_course.exams import targets


def distance(counts: dict[str, int], shares: dict[str, float], n: int) -> float:
    return sum(abs(counts.get(k, 0) - s * n) for k, s in shares.items())


def rule_difficulty_split(ctx: Context) -> Iterator[Finding]:
    c = ctx.curriculum
    for code, bank in sorted(c.banks.items()):
        m = c.modules.get(code)
        if m is None:
            continue
        shares = c.rules.difficulty[c.level_of(m)]
        n = len(bank.questions)
        have = Counter(q.difficulty for q in bank.questions)
        best = targets(shares, n)  # largest remainder: a nearest split
        ok = distance(have, shares, n) <= distance(best, shares, n) + 1e-9
        shown = "/".join(str(have.get(k, 0)) for k in shares)
        yield Finding(
            OK if ok else FAIL,
            "difficulty-split",
            code,
            f"{'/'.join(shares)} {shown} of {n}"
            + ("" if ok else f"; the nearest split is {'/'.join(str(best[k]) for k in shares)}"),
        )


RULES = [rule_difficulty_split]
