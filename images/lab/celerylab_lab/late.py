"""Late penalties nbgrader lacks: a percentage of the score per started day late, and zero
after a number of days. Configured per course (course/courses/<id>.yaml, late_policy)."""

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, Integer


class PercentPerDay(LateSubmissionPlugin):
    percent = Float(10.0, help="Percent of the score lost per started day late.").tag(config=True)
    max_days = Integer(0, help="Days late after which the score is 0 (0: never).").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = math.ceil(total_seconds_late / 86400)
        if days <= 0:
            return 0.0
        if self.max_days and days > self.max_days:
            return score
        return min(score, score * self.percent / 100 * days)
