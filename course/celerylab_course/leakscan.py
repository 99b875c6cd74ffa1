"""Scan what students can read for the banks' and exam pools' answers.

    python -m celerylab_course.leakscan docs/_build/html release    # exit 1 on any leak
    python -m celerylab_course.leakscan --image images/lab/Dockerfile release
    python -m celerylab_course.leakscan --feedback EXCHANGE/feedback EXCHANGE/released

A bank's explanations are the answers' reasons, and graders' model answers: none may appear in
the built student site, nor in release/ (the notebooks and files students receive), nor in the
exchange's released view. Text is compared as words only (case, punctuation, markup, typographic
quotes and dashes ignored), so a page that renders an explanation as HTML, or a notebook that
quotes it in Markdown, is caught. Every sentence of twelve words or more counts on its own, so a
partial copy is caught too.

The lab image is every student's to read (its Python packages included): `--image` scans the
files its Dockerfile's COPY lines bring in from the build context (after .dockerignore), for
explanations and for any question id, since nothing a lab runs needs to name one (a file that
does, like the fact checks of the keys, is authoring material). Quiz feedback carries the quiz
explanations by design, once graded; `--feedback` folders are scanned for the exam pools' only,
which no feedback may show.

The exchange's student view (what `nbgrader list` and `fetch_assignment` show every student of a
released course, and the feedback released to it) is scanned the same way by
tests/course/test_exchange_student_view.py, which releases every quiz and exam through a real
nbgrader exchange and quiz feedback after grading.
"""

from __future__ import annotations

import fnmatch
import html
import json
import re
import shlex
import sys
from html.parser import HTMLParser
from pathlib import Path

from celerylab_course.curriculum import Curriculum

MIN_WORDS = 12  # shorter sentences state a fact a lesson may teach; they are no worked answer
SKIP = {"__pycache__", ".ipynb_checkpoints", "_sources", ".doctrees", "_static"}
TEXT_FILES = {".html", ".htm", ".ipynb", ".md", ".py", ".txt", ".json", ".yaml"}


def words(text: str) -> str:
    """Lower-case words separated by single spaces: markup and punctuation dropped."""
    return " ".join(re.findall(r"[^\W_]+(?:_[^\W_]+)*", html.unescape(text).casefold()))


def _questions(curriculum: Curriculum, quizzes: bool = True):
    from celerylab_course import exams

    if quizzes:
        yield from (q for bank in curriculum.banks.values() for q in bank.questions)
    for e in exams.load(curriculum).values():
        yield from (q for b in exams.pool_banks(curriculum, e) for q in b.questions)


def secrets(curriculum: Curriculum, quizzes: bool = True) -> dict[str, str]:
    """{normalized text: question id} for every explanation and each of its long sentences (the
    exam pools' only when not `quizzes`)."""
    found = {}
    for q in _questions(curriculum, quizzes):
        text = q.explanation.strip()
        for piece in [text, *re.split(r"(?<=[.;:!?])\s+", text)]:
            w = words(piece)
            if len(w.split()) >= MIN_WORDS:
                found.setdefault(w, q.id)
    return found


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def readable_text(path: Path) -> str:
    """What a student reads in the file: an HTML page's text, a notebook's cell sources and
    outputs, any other text file as it is."""
    raw = path.read_text(errors="replace")
    if path.suffix in (".html", ".htm"):
        parser = _Text()
        parser.feed(raw)
        return " ".join(parser.parts)
    if path.suffix == ".ipynb":
        nb = json.loads(raw)
        texts = []
        for cell in nb.get("cells", []):
            texts.append("".join(cell.get("source", "")))
            for out in cell.get("outputs", []):
                texts.append("".join(out.get("text", "")))
                data = out.get("data", {}).values()
                texts += ["".join(v) for v in data if isinstance(v, str | list)]
        return "\n".join(texts)
    return raw


def _files(root: Path):
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts)
        if path.is_file() and path.suffix in TEXT_FILES and not SKIP & parts:
            yield path


def _leaks(paths, table: dict[str, str]) -> list[str]:
    found = []
    for path in paths:
        text = words(readable_text(path))
        hits = sorted({qid for secret, qid in table.items() if secret in text})
        found += [f"{path}: explanation of {qid}" for qid in hits]
    return found


def scan(roots: list[Path], curriculum: Curriculum, quizzes: bool = True) -> list[str]:
    """'<file>: explanation of <question id>' for every leak under the roots."""
    table = secrets(curriculum, quizzes)
    return _leaks((path for root in roots for path in _files(root)), table)


def _ignored(rel: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore: the last pattern matching the path or a folder above it wins."""
    parents = [rel] + ["/".join(rel.split("/")[:i]) for i in range(1, rel.count("/") + 1)]
    out = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if pattern.startswith("**/"):
            pattern = "*" + pattern[2:]
        if any(fnmatch.fnmatchcase(p, pattern) for p in parents):
            out = not negate
    return out


def image_files(dockerfile: Path, context: Path) -> list[Path]:
    """The build context's files the Dockerfile's COPY/ADD lines put into the image."""
    ignore = context / ".dockerignore"
    patterns = [
        line.strip()
        for line in (ignore.read_text().splitlines() if ignore.exists() else [])
        if line.strip() and not line.lstrip().startswith("#")
    ]
    found = []
    for line in dockerfile.read_text().splitlines():
        if line.split(None, 1)[:1] not in (["COPY"], ["ADD"]):
            continue  # (continued COPY lines are not used in our Dockerfiles)
        words_ = shlex.split(line, comments=True)
        args = [w for w in words_[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words_[1:]):
            continue  # from another stage, not from the context
        for source in args[:-1]:
            base = context / source
            for path in sorted(base.rglob("*")) if base.is_dir() else [base]:
                rel = path.relative_to(context).as_posix()
                if path.is_file() and not _ignored(rel, patterns):
                    found.append(path)
    return found


def scan_image(dockerfile: Path, context: Path, curriculum: Curriculum) -> list[str]:
    """Leaks in what the image holds: explanations, and any file naming a question."""
    files = [p for p in image_files(dockerfile, context) if p.suffix in TEXT_FILES]
    found = _leaks(files, secrets(curriculum))
    ids = sorted({q.id for q in _questions(curriculum)}, key=len, reverse=True)
    named = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
    for path in files:
        hits = sorted(set(named.findall(path.read_text(errors="replace"))))
        if hits:
            found.append(f"{path}: names question(s) {', '.join(hits)} (in the lab image)")
    return found


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    image = feedback = None
    if "--image" in args:
        i = args.index("--image")
        image = Path(args.pop(i + 1))
        args.pop(i)
    if "--feedback" in args:
        i = args.index("--feedback")
        feedback = Path(args.pop(i + 1))
        args.pop(i)
    roots = [Path(a) for a in args]
    missing = [r for r in [*roots, *([feedback] if feedback else [])] if not r.is_dir()]
    if image is not None and not image.is_file():
        missing.append(image)
    if not (roots or image or feedback) or missing:
        print(f"leakscan: give folders to scan (missing: {missing})", file=sys.stderr)
        return 2
    curriculum = Curriculum.load()
    problems = scan(roots, curriculum)
    if image is not None:
        # The build context is the repository, as docker-compose.yml builds the lab image.
        problems += scan_image(image, curriculum.root.parent, curriculum)
    if feedback is not None:
        problems += scan([feedback], curriculum, quizzes=False)
    for p in problems:
        print(p)
    what = [*map(str, roots), *([f"image {image}"] if image else [])]
    what += [f"feedback {feedback}"] if feedback else []
    print(f"answer leak scan of {', '.join(what)}: {len(problems)} leak(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
