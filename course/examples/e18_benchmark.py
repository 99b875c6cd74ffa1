"""A repeatable benchmark harness: the same work done one message per item and in batches, each
timed as the median of several runs on a real worker, with the results compared (E18 example).

Usage:
    cd course/examples
    celery -A e18_benchmark worker --concurrency=2 --loglevel=INFO    # terminal 1
    python -m e18_benchmark --items 400 --batch 100                   # terminal 2
    python -m e18_benchmark --items 400 --profile                     # where the time goes

Prints both medians and the speed-up; exits 1 when the two ways disagree or the speed-up is below
--floor (default 3), so the same command guards throughput in CI.
"""

import argparse
import cProfile
import pstats
import statistics
import sys
import time

from celery import Celery, group

app = Celery("e18_benchmark")
CATALOGUE = list(range(0, 30000, 3))
KNOWN = frozenset(CATALOGUE)


@app.task
def check_one(item):
    return item in CATALOGUE  # a list: every lookup scans


@app.task
def check_batch(items):
    return [item in KNOWN for item in items]


def one_each(items):
    return group(check_one.s(i) for i in items).apply_async().get(timeout=120, interval=0.01)


def batched(items, batch=100):
    slices = [items[i : i + batch] for i in range(0, len(items), batch)]
    parts = group(check_batch.s(s) for s in slices).apply_async().get(timeout=120, interval=0.01)
    return [flag for part in parts for flag in part]


def median_seconds(fn, repeat):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="e18_benchmark")
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--floor", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    items = list(range(args.items))
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(one_each, items)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(8)
        return 0
    if one_each(items) != batched(items, args.batch):
        print("FAILURE: the two ways disagree")
        return 1
    slow = median_seconds(lambda: one_each(items), args.repeat)
    fast = median_seconds(lambda: batched(items, args.batch), args.repeat)
    print(f"one message per item: {slow:.3f} s; batches of {args.batch}: {fast:.3f} s")
    print(f"speed-up: {slow / fast:.1f}x (floor {args.floor:g}x)")
    return 0 if slow / fast >= args.floor else 1


if __name__ == "__main__":
    sys.exit(main())
