"""nbgrader's own exchange for a course's staff, without its false alarms (course containers).

nbgrader's default exchange assumes students write into a shared folder themselves: collect
warns "cheating attempt?" unless each submission is owned by the student's Unix account, and
release makes the exchange root world-writable (0o777, with a warning) for them. Here students
never touch the exchange's files: the exchange service writes every submission under the
student's hub name, as the exchange's own user (the course container's user too). So:

- collect checks each submission's owner against the exchange's own UID (not the student's):
  a file someone else put in inbound/ is still reported;
- release keeps the root as `celerylab setup` made it (0o755, the exchange's user): only that
  user writes there, and a world-writable root would let any other process write in it.

Configured by celerylab_lab.course's nbgrader_config.py (ExchangeFactory).
"""

from __future__ import annotations

import os

from nbgrader.exchange.default import ExchangeCollect, ExchangeReleaseAssignment
from nbgrader.exchange.default.exchange import Exchange


class Collect(ExchangeCollect):
    def copy_files(self) -> None:
        exchange_uid = os.geteuid()
        for rec in self.src_records:
            path = os.path.join(self.inbound_path, rec["filename"])
            if os.stat(path).st_uid != exchange_uid:
                self.log.warning(
                    "%s was not written by the exchange service (owner UID %s, not %s): "
                    "check how it got there before grading it",
                    path,
                    os.stat(path).st_uid,
                    exchange_uid,
                )
        # nbgrader's own check compares owners with student names: always wrong here.
        self.check_owner = False
        super().copy_files()


class ReleaseAssignment(ExchangeReleaseAssignment):
    def ensure_root(self) -> None:
        # The root exists from `celerylab setup` with its right mode; only check it is usable
        # (nbgrader's base check), never widen it.
        Exchange.ensure_root(self)
