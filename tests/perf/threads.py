"""Running the same work in several threads at once, for the concurrency tests of tests/perf."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_in_threads(work: Callable[[int], None], count: int) -> None:
    """``work(n)`` for n in 0..count-1, each in a thread of its own, all at once; fails with
    the first error any thread raised."""
    failures: list[BaseException] = []

    def guarded(number: int) -> None:
        try:
            work(number)
        except BaseException as exc:  # noqa: BLE001 - raised below, in the test's thread
            failures.append(exc)

    running = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    if failures:
        raise failures[0]
