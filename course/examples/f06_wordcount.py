"""Word count with canvas: a chord of chains, then a ranking step (F06 example).

Usage:
    cd course/examples
    celery -A f06_wordcount worker --loglevel=INFO              # terminal 1
    python -m f06_wordcount "to be or not" "to be is to do"    # terminal 2: [["to", 3], ...]

Each text is tokenised and counted in parallel (a group of `tokenize | count` chains); a chord
merges the counts and `top` ranks them. No task waits for another's result.
"""

import json
import re
import sys

from celery import Celery, chain, chord, group

app = Celery("f06_wordcount")


@app.task
def tokenize(text):
    return re.findall(r"[a-z']+", text.lower())


@app.task
def count(words):
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return counts


@app.task
def merge(parts):
    total = {}
    for part in parts:
        for word, n in part.items():
            total[word] = total.get(word, 0) + n
    return total


@app.task
def top(counts, n=3):
    return [[w, c] for w, c in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:n]]


def workflow(texts, n=3):
    return chord(group(chain(tokenize.s(t), count.s()) for t in texts), merge.s()) | top.s(n=n)


def main(argv=None):
    texts = sys.argv[1:] if argv is None else argv
    print(json.dumps(workflow(texts).apply_async().get(timeout=30)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
