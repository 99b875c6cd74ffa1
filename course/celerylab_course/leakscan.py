"""Scan what students can read for the banks' answers.

    python -m celerylab_course.leakscan docs/_build/html release    # exit 1 on any leak

A bank's explanations are the answers' reasons, and graders' model answers: none may appear in
the built student site, nor in release/ (the notebooks and files students receive). Text is
compared as words only (case, punctuation, markup, typographic quotes and dashes ignored), so a
page that renders an explanation as HTML, or a notebook that quotes it in Markdown, is caught.
Every sentence of twelve words or more counts on its own, so a partial copy is caught too.
"""

from __future__ import annotations

import html
import json
import re
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


def secrets(curriculum: Curriculum) -> dict[str, str]:
    """{normalized text: question id} for every explanation and each of its long sentences."""
    found = {}
    for bank in curriculum.banks.values():
        for q in bank.questions:
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


def scan(roots: list[Path], curriculum: Curriculum) -> list[str]:
    """'<file>: explanation of <question id>' for every leak under the roots."""
    table = secrets(curriculum)
    found = []
    for root in roots:
        for path in _files(root):
            text = words(readable_text(path))
            hits = sorted({qid for secret, qid in table.items() if secret in text})
            found += [f"{path}: explanation of {qid}" for qid in hits]
    return found


def main(argv: list[str] | None = None) -> int:
    roots = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    missing = [r for r in roots if not r.is_dir()]
    if not roots or missing:
        print(f"leakscan: give folders to scan (missing: {missing})", file=sys.stderr)
        return 2
    problems = scan(roots, Curriculum.load())
    for p in problems:
        print(p)
    print(f"answer leak scan of {', '.join(map(str, roots))}: {len(problems)} leak(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
