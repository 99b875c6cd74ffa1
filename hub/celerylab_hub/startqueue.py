"""Admission of lab starts: at most `slots` labs boot at once, the others wait their turn in order.

Forty labs booting together on two cores each get a twentieth of a core, and every one of them is
slow; admitted a few at a time, each boots at near-solo speed and the class is in sooner. The
queue also knows where each waiting start stands, for the spawn page.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass

#: A lab's start before any has been measured (seconds; one at a time on a 2-core host ~2.5 s).
FIRST_GUESS = 3.0


@dataclass(frozen=True)
class Place:
    """Where a waiting start stands: labs starting or queued before it, and a guess of the wait."""

    ahead: int
    seconds: float

    def message(self) -> str:
        labs = "1 lab is" if self.ahead == 1 else f"{self.ahead} labs are"
        return f"{labs} starting before yours, about {math.ceil(self.seconds)} s"


class StartQueue:
    def __init__(self, slots: int):
        self.slots = max(1, slots)
        self.running = 0
        self._waiting: list[asyncio.Future] = []
        self._durations: deque[float] = deque([FIRST_GUESS], maxlen=20)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def place(self, ticket: asyncio.Future) -> Place | None:
        """Where `ticket` stands, or None once it is admitted (or was never queued)."""
        try:
            index = self._waiting.index(ticket)
        except ValueError:
            return None
        start = sum(self._durations) / len(self._durations)
        # Slots free up one every start/slots seconds; ours is the (index+1)-th to free.
        return Place(self.running + index, (index + 1) * start / self.slots)

    def ticket(self) -> asyncio.Future:
        """A place in the queue; pass it to admitted()."""
        ticket = asyncio.get_running_loop().create_future()
        self._waiting.append(ticket)
        self._admit()
        return ticket

    @asynccontextmanager
    async def admitted(self, ticket: asyncio.Future):
        """Wait for a slot, hold it for the block, then hand it to the next in line."""
        try:
            await ticket
        except asyncio.CancelledError:
            # The spawn was abandoned (start_timeout, or the user cancelled) while queued.
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            elif ticket.done() and not ticket.cancelled():
                self._release()  # a slot was granted just as we were cancelled
            raise
        started = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        finally:
            if ok:  # a failed start says nothing about how long starts take
                self._durations.append(time.monotonic() - started)
            self._release()

    def _release(self) -> None:
        self.running -= 1
        self._admit()

    def _admit(self) -> None:
        while self._waiting and self.running < self.slots:
            ticket = self._waiting.pop(0)
            if not ticket.done():
                ticket.set_result(None)
                self.running += 1
