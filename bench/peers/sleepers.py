"""sleepers: what a million asyncio tasks that each sleep cost in time and memory.

N coroutines each await asyncio.sleep(1) and return their index; gather runs
them all as tasks. overhead = wall time - 1 s; RSS per task = (peak RSS - RSS
before starting) / N, read from /proc/self/status. Prints one JSON line.

usage: python3 sleepers.py [n]
"""
import asyncio
import json
import sys
import time

SLEEP = 1.0


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return float("nan")


async def sleeper(i):
    await asyncio.sleep(SLEEP)
    return i


async def main(n):
    base = status_kib("VmRSS:")
    t0 = time.perf_counter()
    results = await asyncio.gather(*(sleeper(i) for i in range(n)))
    wall = time.perf_counter() - t0
    peak = status_kib("VmHWM:")
    if sum(results) != n * (n - 1) // 2:
        sys.exit("sleepers: wrong results")
    print(json.dumps({"n": n, "wall_s": round(wall, 4), "overhead_s": round(wall - SLEEP, 4),
                      "rss_per_task_kib": round((peak - base) / n, 3)}))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    if n <= 0:
        sys.exit("usage: sleepers.py [n > 0]")
    asyncio.run(main(n))
