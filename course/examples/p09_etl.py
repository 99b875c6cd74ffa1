"""A checkpointed ETL pipeline: extract, a chord of batch validations built at run time, load
(P09 example).

Usage:
    cd course/examples
    celery -A p09_etl worker --loglevel=INFO --concurrency=4          # terminal 1
    python -m p09_etl sales.csv --batch-size 100                      # terminal 2

Prints the run's report as JSON (rows loaded, ids rejected, total amount) and the stages the run
passed. Bad rows are rejected as data, so one bad row never fails the run; a CSV without the
`id`, `name` and `amount` columns fails at extract.
"""

import argparse
import csv
import io
import json
import sys
import uuid
from pathlib import Path

from celery import Celery, chord

app = Celery("p09_etl")
REQUIRED = ("id", "name", "amount")


def checkpoint(run_id, stage):
    app.backend.client.rpush(f"p09_etl:{run_id}:stages", stage)


def stages(run_id):
    return [s.decode() for s in app.backend.client.lrange(f"p09_etl:{run_id}:stages", 0, -1)]


@app.task
def extract(csv_text, run_id):
    reader = csv.DictReader(io.StringIO(csv_text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    rows = list(reader)
    checkpoint(run_id, "extract")
    return rows


@app.task
def validate_batch(rows):
    valid, rejected = [], []
    for row in rows:
        try:
            record = {
                "id": int(row["id"]),
                "name": (row["name"] or "").strip(),
                "amount": round(float(row["amount"]), 2),
            }
        except (TypeError, ValueError):
            rejected.append(str(row.get("id")))
            continue
        if record["name"] and record["amount"] >= 0:
            valid.append(record)
        else:
            rejected.append(str(row.get("id")))
    return {"valid": valid, "rejected": rejected}


@app.task
def load(batches, run_id):
    valid = [r for b in batches for r in b["valid"]]
    checkpoint(run_id, "load")
    return {
        "run_id": run_id,
        "loaded": len(valid),
        "rejected": sorted(i for b in batches for i in b["rejected"]),
        "total": round(sum(r["amount"] for r in valid), 2),
    }


@app.task(bind=True)
def fan_out(self, rows, run_id, batch_size=100):
    checkpoint(run_id, "fan_out")
    batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    if not batches:
        return self.replace(load.si([], run_id))
    return self.replace(chord((validate_batch.s(b) for b in batches), load.s(run_id)))


def etl_workflow(csv_text, run_id, batch_size=100):
    return extract.s(csv_text, run_id) | fan_out.s(run_id, batch_size)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="p09_etl", description="Run the ETL pipeline on a CSV.")
    parser.add_argument("csv", help="CSV file with id, name and amount columns ('-' for stdin)")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.csv == "-" else Path(args.csv).read_text()
    run_id = uuid.uuid4().hex[:8]
    try:
        report = etl_workflow(text, run_id, args.batch_size).apply_async().get(timeout=60)
    except ValueError as e:
        print(f"FAILURE: {e}")
        return 1
    print(json.dumps(report))
    print("stages:", " -> ".join(stages(run_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
