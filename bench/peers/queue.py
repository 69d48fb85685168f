"""queue: how many items per second pass through a bounded asyncio.Queue from
one producer task to one consumer task.

The producer puts the numbers 1..n, the consumer gets them and checks their
sum, through a Queue(maxsize=128) and a Queue(maxsize=1). Prints one JSON
line, the same figures as bench/queue.c.

usage: python3 queue.py [items]
"""
import os
import sys

# This file has the standard library's queue module's name: keep its folder off
# the import path, so that anything importing `queue` (concurrent.futures does)
# finds the real one.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import asyncio  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402


async def through(items, capacity):
    q = asyncio.Queue(maxsize=capacity)

    async def producer():
        for i in range(1, items + 1):
            await q.put(i)

    async def consumer():
        total = 0
        for _ in range(items):
            total += await q.get()
        return total

    t0 = time.perf_counter()
    _, total = await asyncio.gather(producer(), consumer())
    rate = items / (time.perf_counter() - t0)
    if total != items * (items + 1) // 2:
        raise RuntimeError("lost items")
    return rate


async def main(items):
    r128 = await through(items, 128)
    r1 = await through(items, 1)
    print(json.dumps({"items": items, "items_per_s_cap128": round(r128),
                      "items_per_s_cap1": round(r1)}))


if __name__ == "__main__":
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    if items <= 0:
        sys.exit("usage: queue.py [items > 0]")
    asyncio.run(main(items))
