"""Exam papers drawn per student (standard library only: runs inside graded notebooks).

An exam's theory part is one notebook for everyone, but each student sits a paper of their own:
the questions are drawn from the exam's pool (larger than the paper) and the options are shuffled,
both seeded by the exam and the student, so a regrade draws the same paper. The
notebook renders the student's question in each slot (`show`) from `pool.json` beside it, which
holds prompts and options but no key; the hidden test of each slot (`check`) carries its own copy
of the pool's keys and draw data, so nothing the student can edit decides the key.

Who the student is: CELERYLAB_STUDENT when grading (the grader sets it from the submission),
JupyterHub's JUPYTERHUB_USER in the student's own lab. Grading without CELERYLAB_STUDENT is an
error, never a guess: the instructor's own name would grade against the wrong paper.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from pathlib import Path

LETTERS = "ABCD"
CHOICE = ("multiple_choice", "scenario")
GRADING_ID = "CELERYLAB_STUDENT"
LAB_ID = "JUPYTERHUB_USER"
POOL_FILE = "pool.json"
# The slots of written scenario items (a decision argued in writing, graded by the item's rubric):
# a kind of its own, so every paper has the same number of them, in the same slots.
WRITTEN = "written_scenario"
# What a written decision is marked on, as students see it (each item's own rubric, which names
# the right decision, is the graders').
WRITTEN_ASK = (
    "- why your decision fits this situation, with the setting or pattern it uses (1 point)\n"
    "- what goes wrong with the most tempting other option (1 point)"
)


class DrawError(ValueError):
    """The pool cannot supply the paper's question count in the required mixes."""


def student(grading: bool = False) -> str:
    name = os.environ.get(GRADING_ID, "").strip()
    if not name and not grading:
        name = os.environ.get(LAB_ID, "").strip()
    if not name:
        raise AssertionError(
            f"no student name: grading an exam paper needs {GRADING_ID} (the paper is drawn "
            "for the student who submitted it)"
        )
    return name


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - reproducible draw


def kind_of(item: dict) -> str:
    return WRITTEN if item.get("written") else item["type"]


def kinds(spec: dict) -> dict[str, int]:
    """Slots per kind, in paper order: spec["types"], with spec["written"] of the scenario
    slots set apart (after the others) for written scenario items."""
    written = spec.get("written", 0)
    out = {}
    for t, n in spec["types"].items():
        out[t] = n - written if t == "scenario" else n
        if t == "scenario" and written:
            out[WRITTEN] = written
    return out


def select(spec: dict, who: str) -> list[dict]:
    """The paper of `who`: spec["questions"] items of spec["items"] with exactly the type and
    difficulty counts asked, every module examined (round robin), in sections by type (in the
    order of spec["types"]) and in module order within each. The type counts are the same on
    every paper, so each slot has the same type for everyone: True/False slots carry their own
    justification cell (slots_of); so do written scenario items (kinds)."""
    n, want_type, want_diff = spec["questions"], kinds(spec), spec["difficulties"]
    order = {code: i for i, code in enumerate(spec["modules"])}
    candidates = list(spec["items"])
    rng = _rng(spec["exam"], spec["seed"], who)
    for _attempt in range(500):
        by_module: dict[str, list[dict]] = {}
        for item in candidates:
            by_module.setdefault(item["module"], []).append(item)
        for items in by_module.values():
            rng.shuffle(items)
        queue = [items[i] for i in range(n) for items in by_module.values() if i < len(items)]
        types, diffs, chosen = Counter(), Counter(), []
        for item in queue:
            t, d = kind_of(item), item["difficulty"]
            if types[t] < want_type.get(t, 0) and diffs[d] < want_diff.get(d, 0):
                types[t] += 1
                diffs[d] += 1
                chosen.append(item)
            if len(chosen) == n:
                section = {t: i for i, t in enumerate(want_type)}
                chosen.sort(
                    key=lambda it: (
                        section[kind_of(it)],
                        order.get(it["module"], len(order)),
                        it["id"],
                    )
                )
                return chosen
        rng.shuffle(candidates)
    raise DrawError(
        f"{spec['exam']}: its pool cannot give {n} questions with types {want_type} and "
        f"difficulties {want_diff} ({len(candidates)} questions available)"
    )


def letter_order(count: int, *seed: object) -> list[int]:
    """Bank indexes of `count` options in the order one student sees them: one permutation for
    the whole paper (or quiz), seeded by it and the student.

    One permutation relabels the letters, so the balance of the keys over letters on a paper is
    the pool's (rules key-letters, exam-pool-size): always answering one letter can do no
    better on any student's paper than on the pool. A permutation per item would put up to half
    of some students' keys on one letter (measured: 53% for the best knowledge-free strategy on
    one of 200 sampled Professional papers)."""
    order = list(range(count))
    _rng(*seed, "letters").shuffle(order)
    return order


def option_order(spec: dict, who: str, item: dict) -> list[int]:
    """Bank indexes of the item's options in the order `who` sees them (identity for
    non-choices)."""
    count = item.get("choices", 0) if item["type"] in CHOICE else 0
    return letter_order(count, spec["exam"], spec["seed"], who)


def slots_of(spec: dict, kind: str) -> list[int]:
    """The slot numbers (1-based) that hold `kind` items on every paper of the spec."""
    first = 1
    for t, n in kinds(spec).items():
        if t == kind:
            return list(range(first, first + n))
        first += n
    return []


def slot(spec: dict, who: str, number: int) -> tuple[dict, list[int]]:
    """(the item in slot `number`, 1-based, of who's paper, its option order)."""
    paper = select(spec, who)
    if not 1 <= number <= len(paper):
        raise AssertionError(f"the paper has {len(paper)} questions, not {number}")
    item = paper[number - 1]
    return item, option_order(spec, who, item)


def key_for(item: dict, order: list[int]) -> object:
    """The item's key as `who` must answer it: a choice's letter follows the shuffle."""
    if item["type"] in CHOICE and item.get("key") is not None:
        return LETTERS[order.index(LETTERS.index(item["key"]))]
    return item.get("key")


def load_pool(folder: str | os.PathLike = ".") -> dict:
    return json.loads((Path(folder) / POOL_FILE).read_text())


def prompt(item: dict, order: list[int], number: int) -> str:
    lines = [f"### Question {number} · {item['type'].replace('_', ' ')}", "", item["prompt"], ""]
    for letter, i in zip(LETTERS, order, strict=False):
        lines.append(f"- **{letter}.** {item['options'][i]}")
    how = {
        "multiple_choice": "Answer with one letter, A to D, as a string in quotes.",
        "scenario": "Answer with the letter of your decision, A to D, as a string in quotes.",
        "true_false": "Answer with `True` or `False` (no quotes).",
        "fill_blank": 'Answer with the missing text, as a string: `"..."`.',
    }
    lines += ["", how[item["type"]]]
    if item.get("written"):
        lines += ["", "Then argue your decision in the cell below its check. It is marked on:"]
        lines += ["", WRITTEN_ASK]
    return "\n".join(lines).strip()


def show(number: int, folder: str | os.PathLike = ".") -> None:
    """Display the student's question in slot `number` (in the lab, from pool.json)."""
    spec = load_pool(folder)
    try:
        who = student()
    except AssertionError:  # a kernel that does not know whose paper it is (a warm sandbox)
        print(f"Question {number}: shown in your lab (your paper is your own).")
        return
    item, order = slot(spec, who, number)
    text = prompt(item, order, number)
    try:
        from IPython.display import Markdown, display
    except ImportError:  # outside Jupyter: plain text serves as well
        print(text)
    else:
        display(Markdown(text))


def format_answer(number: int, given: object, folder: str | os.PathLike = ".") -> None:
    """The visible check: the answer has the form its question asks for (not whether it is
    right)."""
    from celerylab_course import answers

    item, _ = slot(load_pool(folder), student(), number)
    {
        "multiple_choice": answers.format_choice,
        "scenario": answers.format_choice,
        "true_false": answers.format_true_false,
        "fill_blank": answers.format_blank,
    }[item["type"]](given)


def _private(blob: str) -> dict:
    return json.loads(blob)


def solve(blob: str, number: int) -> object:
    """The key of slot `number` for the current student (the source notebook's solution)."""
    spec = _private(blob)
    item, order = slot(spec, student(), number)
    return item["answers"][0] if item["type"] == "fill_blank" else key_for(item, order)


def check_answer(blob: str, number: int, given: object) -> None:
    """The hidden test of slot `number`: the answer against the key of the submitting student's
    paper. Feedback says right or wrong only: the pool serves later sittings too."""
    from celerylab_course import answers

    spec = _private(blob)
    item, order = slot(spec, student(grading=True), number)
    if item["type"] == "fill_blank":
        answers.format_blank(given)
        ok = answers.blank_matches(given, item["answers"], item.get("match", ""))
    elif item["type"] == "true_false":
        answers.format_true_false(given)
        ok = given is item["key"]
    else:
        ok = answers._letter(given) == key_for(item, order)
    if not ok:
        raise AssertionError(f"question {number}: not the answer.")
    print(f"question {number}: correct.")
