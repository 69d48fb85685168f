"""switch: what it costs to pass control from one asyncio task to another.

Two tasks ping-pong: each awaits a Future of its own that the other resolves,
then makes itself a fresh one and resolves the other's. Then two tasks each
call asyncio.sleep(0) in a loop. Then an async generator yields `rounds`
values to an `async for`. Prints one JSON line, the same figures as
bench/switch.c.

usage: python3 switch.py [rounds]
"""
import asyncio
import json
import sys
import time


async def handoff(rounds):
    """A round is two hand-offs: A wakes B, B wakes A."""
    loop = asyncio.get_running_loop()
    inbox = [loop.create_future(), loop.create_future()]

    async def side(me):
        for _ in range(rounds):
            await inbox[me]
            # The fresh inbox must exist before the other side can resolve it.
            inbox[me] = loop.create_future()
            inbox[1 - me].set_result(None)

    inbox[0].set_result(None)
    t0 = time.perf_counter()
    await asyncio.gather(side(0), side(1))
    return (time.perf_counter() - t0) * 1e9 / (2 * rounds)


async def yields(rounds):
    async def side():
        for _ in range(rounds):
            await asyncio.sleep(0)

    t0 = time.perf_counter()
    await asyncio.gather(side(), side())
    return (time.perf_counter() - t0) * 1e9 / (2 * rounds)


async def gen_values(rounds):
    async def count_up():
        for i in range(rounds):
            yield i

    t0 = time.perf_counter()
    n = 0
    async for v in count_up():
        n += v == n
    assert n == rounds
    return (time.perf_counter() - t0) * 1e9 / rounds


async def main(rounds):
    h = await handoff(rounds)
    y = await yields(rounds)
    g = await gen_values(rounds)
    print(json.dumps({"rounds": rounds, "ns_per_handoff": round(h, 2),
                      "ns_per_sleep0": round(y, 2), "ns_per_gen_value": round(g, 2)}))


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    if rounds <= 0:
        sys.exit("usage: switch.py [rounds > 0]")
    asyncio.run(main(rounds))
