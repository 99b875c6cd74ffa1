"""The start queue and the boot watchdog: a class that starts together gets in together."""

import asyncio

import pytest
from celerylab_hub.spawner import PROGRESS_CPU_SECONDS, LabStartError, Watchdog
from celerylab_hub.startqueue import Place, StartQueue
from traitlets.config import Config


def test_at_most_slots_start_at_once_and_all_in_order():
    async def herd():
        queue = StartQueue(2)
        running, most, order = 0, 0, []

        async def start(i):
            nonlocal running, most
            async with queue.admitted(queue.ticket()):
                running += 1
                most = max(most, running)
                order.append(i)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(start(i) for i in range(10)))
        return most, order, queue

    most, order, queue = asyncio.run(herd())
    assert most == 2
    assert order == list(range(10))
    assert queue.running == 0 and queue.waiting == 0


def test_a_waiting_start_knows_its_place_and_wait():
    async def scenario():
        queue = StartQueue(2)
        held = [queue.ticket() for _ in range(2)]  # two labs booting
        waiting = [queue.ticket() for _ in range(5)]
        await asyncio.sleep(0)
        return queue, held, waiting

    queue, held, waiting = asyncio.run(scenario())
    assert [queue.place(t) for t in held] == [None, None]
    fifth = queue.place(waiting[4])
    # 2 booting + 4 queued before it; a slot frees every 3 s / 2 slots, it needs the 5th one.
    assert fifth == Place(6, 7.5)
    assert fifth.message() == "6 labs are starting before yours, about 8 s"
    assert Place(1, 0.4).message() == "1 lab is starting before yours, about 1 s"


def test_estimate_learns_from_measured_starts():
    async def scenario():
        queue = StartQueue(1)
        for _ in range(3):
            async with queue.admitted(queue.ticket()):
                await asyncio.sleep(0.05)
        queue.ticket()  # now running
        ticket = queue.ticket()
        return queue.place(ticket)

    place = asyncio.run(scenario())
    assert place.ahead == 1
    assert place.seconds < 1.0  # (3 s first guess + 3 x 0.05 s) / 4, not the 3 s guess


def test_failed_starts_free_their_slot_and_do_not_count_as_durations():
    async def scenario():
        queue = StartQueue(1)
        with pytest.raises(RuntimeError):
            async with queue.admitted(queue.ticket()):
                raise RuntimeError("lab exited")
        async with queue.admitted(queue.ticket()):
            pass
        return queue

    queue = asyncio.run(scenario())
    assert queue.running == 0
    assert len(queue._durations) == 2  # the first guess and the one success


def test_a_start_cancelled_while_queued_leaves_the_queue():
    """start_timeout (asyncio.wait_for) cancels a start still waiting its turn."""

    async def scenario():
        queue = StartQueue(1)
        first = queue.ticket()

        async def queued():
            async with queue.admitted(queue.ticket()):
                pass

        task = asyncio.create_task(queued())
        await asyncio.sleep(0.01)
        assert queue.waiting == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert queue.waiting == 0
        async with queue.admitted(first):
            pass
        return queue

    queue = asyncio.run(scenario())
    assert queue.running == 0


def test_a_start_cancelled_just_as_it_was_admitted_gives_its_slot_back():
    async def scenario():
        queue = StartQueue(1)
        first = queue.ticket()
        second = queue.ticket()

        async def wait_second():
            async with queue.admitted(second):
                pass

        task = asyncio.create_task(wait_second())
        await asyncio.sleep(0)
        async with queue.admitted(first):
            pass  # on leaving, the slot goes to `second`...
        task.cancel()  # ...whose start is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await task
        return queue

    queue = asyncio.run(scenario())
    assert queue.running == 0 and queue.waiting == 0


def test_a_slow_lab_is_not_stalled_while_its_cpu_time_grows():
    dog = Watchdog(patience=30, step=PROGRESS_CPU_SECONDS, now=0)
    # Forty labs on two cores: a twentieth of a core each, for two minutes.
    for second in range(1, 121):
        assert not dog.stalled(work=second * 0.05, now=second)


def test_a_lab_without_progress_stalls_after_its_patience():
    dog = Watchdog(patience=30, step=PROGRESS_CPU_SECONDS, now=0)
    dog.stalled(work=1.0, now=0)
    # An idle lab's background (Redis timers, heartbeats): a few ms of CPU a second.
    assert not any(dog.stalled(1.0 + s * 0.003, now=s) for s in range(1, 31))
    assert dog.stalled(1.0 + 31 * 0.003, now=31)


def test_queue_and_stall_settings(make_spawner):
    import os

    spawner = make_spawner()
    assert spawner.start_slots == 2 * len(os.sched_getaffinity(0))
    assert spawner.stall_timeout == 30
    assert spawner.start_timeout >= 600  # a backstop, not the limit a busy host meets
    c = Config()
    c.CeleryLabSpawner.start_slots = 3
    assert make_spawner("bob", c).start_slots == 3


def test_spawn_page_shows_the_place_in_the_queue(make_spawner):
    async def scenario():
        spawner = make_spawner()
        queue = StartQueue(1)
        type(spawner)._start_queue = queue
        try:
            other = queue.ticket()  # someone else's lab is booting
            spawner._ticket = queue.ticket()
            progress = spawner.progress()
            first = await progress.__anext__()
            async with queue.admitted(other):
                pass
            async with queue.admitted(spawner._ticket):
                spawner._booting = True
                second = await progress.__anext__()
            await progress.aclose()
            return first, second
        finally:
            type(spawner)._start_queue = None

    first, second = asyncio.run(scenario())
    assert first == {"progress": 10, "message": "1 lab is starting before yours, about 3 s"}
    assert second["progress"] == 50 and "starting" in second["message"]


def test_lab_start_error_is_shown_to_the_student():
    assert LabStartError("no").jupyterhub_message == "no"
