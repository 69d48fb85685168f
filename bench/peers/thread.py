"""thread: what handing work to a thread costs in asyncio, the figures
bench/thread.c prints for tulip. A trivial job (it adds one) is run through
asyncio.to_thread one at a time (the round trip), from 1,000 tasks at once
(jobs per second, default executor), and through loop.run_in_executor on a
ThreadPoolExecutor of 4 threads from 1,000 tasks at once.

usage: python3 thread.py [jobs]
"""
import os
import sys

# bench/peers has a queue.py of its own: keep its folder off the import path,
# so that concurrent.futures finds the standard library's queue module.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import asyncio  # noqa: E402
import concurrent.futures  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

TASKS = 1000


def add_one(x):
    return x + 1


async def one_at_a_time(jobs):
    x = 0
    t0 = time.perf_counter()
    for _ in range(jobs):
        x = await asyncio.to_thread(add_one, x)
    assert x == jobs
    return time.perf_counter() - t0


async def many_at_once(jobs, executor):
    loop = asyncio.get_running_loop()

    async def share():
        x = 0
        for _ in range(jobs // TASKS):
            if executor is None:
                x = await asyncio.to_thread(add_one, x)
            else:
                x = await loop.run_in_executor(executor, add_one, x)
        assert x == jobs // TASKS

    t0 = time.perf_counter()
    await asyncio.gather(*(share() for _ in range(TASKS)))
    return time.perf_counter() - t0


def main():
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    jobs -= jobs % TASKS
    seq = asyncio.run(one_at_a_time(jobs))
    pool = asyncio.run(many_at_once(jobs, None))
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        execu = asyncio.run(many_at_once(jobs, ex))
    print(json.dumps({"jobs": jobs, "us_per_round_trip": round(seq / jobs * 1e6, 3),
                      "pool_jobs_per_s": round(jobs / pool),
                      "executor_jobs_per_s": round(jobs / execu)}))


main()
