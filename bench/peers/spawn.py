"""spawn: how many trivial asyncio tasks can be started, run and finished per second.

spawn+finish: create_task in batches, then gather on the batch. create+await:
create_task in batches, then each task awaited in turn (tulip: tl_create_task
+ tl_await). asyncio is slow enough that bench/run gives it fewer tasks than
the others; the figure is a rate, so it compares all the same. Prints one JSON
line.

usage: python3 spawn.py [n [batch]]
"""
import asyncio
import json
import sys
import time


async def trivial(i):
    return i


def check(total, n):
    if total != n * (n - 1) // 2:
        sys.exit("spawn: wrong results")


async def spawn_finish(n, batch):
    t0 = time.perf_counter()
    total = 0
    for base in range(0, n, batch):
        tasks = [asyncio.create_task(trivial(i)) for i in range(base, min(n, base + batch))]
        total += sum(await asyncio.gather(*tasks))
    rate = n / (time.perf_counter() - t0)
    check(total, n)
    return rate


async def create_await(n, batch):
    t0 = time.perf_counter()
    total = 0
    for base in range(0, n, batch):
        tasks = [asyncio.create_task(trivial(i)) for i in range(base, min(n, base + batch))]
        for t in tasks:
            total += await t
    rate = n / (time.perf_counter() - t0)
    check(total, n)
    return rate


async def main(n, batch):
    sf = await spawn_finish(n, batch)
    ca = await create_await(n, batch)
    print(json.dumps({"n": n, "batch": batch, "spawn_per_s": round(sf),
                      "create_await_per_s": round(ca)}))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if n <= 0 or batch <= 0:
        sys.exit("usage: spawn.py [n > 0 [batch > 0]]")
    asyncio.run(main(n, batch))
