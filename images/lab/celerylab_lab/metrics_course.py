"""A course container's metrics: submissions from the exchange, results from the gradebook.

- Submissions: the exchange's inbound folders <student>+<assignment>+<timestamp>+<random>
  (written by the exchange service, timed by its clock), compared with the declared due dates.
- Results: nbgrader's gradebook (gradebook.db in the course directory), read-only with SQL:
  autograded submissions, those still needing manual grading, scores, late penalties.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

EXCHANGE_ROOT = Path("/srv/celerylab/exchange")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's, as the exchange writes it
#: Upper bounds of the score histogram, as a fraction of the assignment's points.
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

SCORES_SQL = """
SELECT a.name, sa.id,
       SUM(COALESCE(g.manual_score, g.auto_score, 0) + COALESCE(g.extra_credit, 0)),
       SUM(gc.max_score),
       MAX(g.needs_manual_grade),
       SUM(COALESCE(sn.late_submission_penalty, 0))
FROM submitted_assignment sa
JOIN assignment a ON a.id = sa.assignment_id
LEFT JOIN submitted_notebook sn ON sn.assignment_id = sa.id
LEFT JOIN grade g ON g.notebook_id = sn.id
LEFT JOIN grade_cells gc ON gc.id = g.cell_id
GROUP BY sa.id
"""


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.replace(" UTC", " "), "%Y-%m-%d %H:%M:%S.%f ").replace(
            tzinfo=UTC
        )
    except ValueError:
        return None


def submissions(inbound: Path) -> dict[str, dict[str, datetime | None]]:
    """{assignment: {student: time of their latest submission}}."""
    latest: dict[str, dict[str, datetime | None]] = defaultdict(dict)
    if not inbound.is_dir():
        return latest
    for entry in inbound.iterdir():
        parts = entry.name.split("+")
        if entry.name.startswith(".") or len(parts) != 4:
            continue  # a partial upload, or not a submission
        student, assignment, stamp, _ = parts
        when = parse_time(stamp)
        seen = latest[assignment].get(student)
        if student not in latest[assignment] or (when and (seen is None or when > seen)):
            latest[assignment][student] = when
    return latest


def count_submissions(inbound: Path) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    if inbound.is_dir():
        for entry in inbound.iterdir():
            parts = entry.name.split("+")
            if not entry.name.startswith(".") and len(parts) == 4:
                counts[parts[1]] += 1
    return counts


def gradebook_results(db: Path) -> list[tuple]:
    """(assignment, submission id, score, max score, needs manual grade, late penalty) rows."""
    if not db.is_file():
        return []
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    try:
        return connection.execute(SCORES_SQL).fetchall()
    except sqlite3.Error:
        return []  # a gradebook not created yet (no assignment autograded) has no tables
    finally:
        connection.close()


class CourseCollector:
    def __init__(self, course: dict, home: Path, exchange_root: Path = EXCHANGE_ROOT):
        self.course, self.home, self.exchange_root = course, home, exchange_root

    @classmethod
    def from_environ(cls, environ) -> CourseCollector:
        return cls(
            json.loads(environ["CELERYLAB_COURSE"]), Path(environ.get("HOME", "/home/student"))
        )

    def collect(self):
        cid = self.course["id"]
        due = {
            a["id"]: datetime.fromisoformat(a["due"]) if a.get("due") else None
            for a in self.course.get("assignments", [])
        }
        yield self._students(cid)
        inbound = self.exchange_root / cid / "inbound"
        latest = submissions(inbound)
        counts = count_submissions(inbound)
        assignments = sorted(set(due) | set(latest))
        received = CounterMetricFamily(
            "celerylab_course_submissions",
            "Submissions the exchange received (every resubmission counts)",
            labels=["course", "assignment"],
        )
        students = GaugeMetricFamily(
            "celerylab_course_submitted_students",
            "Students who submitted the assignment at least once",
            labels=["course", "assignment"],
        )
        late = GaugeMetricFamily(
            "celerylab_course_late_students",
            "Students whose latest submission came after the due date",
            labels=["course", "assignment"],
        )
        for a in assignments:
            received.add_metric([cid, a], counts.get(a, 0))
            students.add_metric([cid, a], len(latest.get(a, {})))
            deadline = due.get(a)
            late.add_metric(
                [cid, a],
                sum(1 for t in latest.get(a, {}).values() if deadline and t and t > deadline),
            )
        yield received
        yield students
        yield late
        yield from self._gradebook(cid, assignments)

    def _students(self, cid):
        family = GaugeMetricFamily(
            "celerylab_course_students", "Students declared in the course", labels=["course"]
        )
        family.add_metric([cid], len(self.course.get("students", [])))
        return family

    def _gradebook(self, cid, assignments):
        graded = defaultdict(int)
        manual = defaultdict(int)
        penalised = defaultdict(int)
        scores = defaultdict(list)
        for assignment, _, score, max_score, needs_manual, penalty in gradebook_results(
            self.home / "gradebook.db"
        ):
            graded[assignment] += 1
            manual[assignment] += 1 if needs_manual else 0
            penalised[assignment] += 1 if penalty else 0
            if max_score:
                scores[assignment].append(max(0.0, min(1.0, score / max_score)))
        names = sorted(set(assignments) | set(graded))
        families = {
            "graded": GaugeMetricFamily(
                "celerylab_course_graded",
                "Submissions autograded into the gradebook",
                labels=["course", "assignment"],
            ),
            "manual": GaugeMetricFamily(
                "celerylab_course_needs_manual_grade",
                "Autograded submissions still waiting for manual grading",
                labels=["course", "assignment"],
            ),
            "late": GaugeMetricFamily(
                "celerylab_course_late_penalised",
                "Graded submissions that got a late penalty",
                labels=["course", "assignment"],
            ),
        }
        histogram = HistogramMetricFamily(
            "celerylab_course_score_ratio",
            "Scores of graded submissions, as a fraction of the assignment's points",
            labels=["course", "assignment"],
        )
        for a in names:
            families["graded"].add_metric([cid, a], graded[a])
            families["manual"].add_metric([cid, a], manual[a])
            families["late"].add_metric([cid, a], penalised[a])
            values = scores[a]
            buckets = [(str(b), sum(1 for v in values if v <= b)) for b in SCORE_BUCKETS]
            buckets.append(("+Inf", len(values)))
            histogram.add_metric([cid, a], buckets, sum(values))
        yield from families.values()
        yield histogram
