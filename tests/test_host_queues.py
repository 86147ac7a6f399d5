"""Due feeds handed to polling workers: per-host limit, a worker keeps to its host, all polled."""

from __future__ import annotations

import asyncio
from collections import Counter

from monitor.pipeline.host_queues import HostQueues


def run_workers(feeds: list[str], workers: int, per_host: int) -> tuple[list[list[str]], int]:
    """Each worker's feeds in order, and the most feeds of one host polled at once."""
    queues = HostQueues(feeds, lambda feed: feed.split("/")[0], per_host)
    busy: Counter[str] = Counter()
    most = 0

    async def worker(taken_by: list[str]) -> None:
        nonlocal most
        host = None
        while (taken := await queues.take(host)) is not None:
            host, feed = taken
            busy[host] += 1
            most = max(most, busy[host])
            await asyncio.sleep(0.001)  # the poll
            busy[host] -= 1
            taken_by.append(feed)
            queues.release(host)

    async def all_workers() -> list[list[str]]:
        done: list[list[str]] = [[] for _ in range(workers)]
        await asyncio.gather(*(worker(taken_by) for taken_by in done))
        return done

    return asyncio.run(all_workers()), most


def test_every_feed_is_polled_once_within_the_per_host_limit() -> None:
    feeds = [f"host{n % 5}/feed{n}" for n in range(60)]
    done, most = run_workers(feeds, workers=6, per_host=2)
    assert sorted(feed for taken in done for feed in taken) == sorted(feeds)
    assert most == 2


def test_a_worker_keeps_to_its_host_while_it_has_feeds() -> None:
    feeds = [f"host{n % 4}/feed{n}" for n in range(40)]  # interleaved, as the database gives them
    done, _ = run_workers(feeds, workers=4, per_host=1)
    for taken in done:
        hosts = [feed.split("/")[0] for feed in taken]
        assert hosts == [hosts[0]] * 10  # one host each, no round-robin


def test_one_host_waits_for_its_slot_and_nothing_is_lost() -> None:
    feeds = [f"only/feed{n}" for n in range(7)]
    done, most = run_workers(feeds, workers=5, per_host=1)
    assert most == 1
    assert sorted(feed for taken in done for feed in taken) == sorted(feeds)


def test_no_feeds_no_work() -> None:
    assert run_workers([], workers=3, per_host=2) == ([[], [], []], 0)
