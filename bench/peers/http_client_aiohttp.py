"""bench/http_client's aiohttp peer: GET BASE?i=0..N-1 with C workers over one
ClientSession (TCPConnector(limit=C)), bodies read and checked."""
import asyncio
import sys
import time

import aiohttp


async def main(base, n, c):
    state = {"next": 0, "failed": 0}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=c)) as s:
        async def worker():
            while state["next"] < n:
                i = state["next"]
                state["next"] += 1
                try:
                    async with s.get("%s?i=%d" % (base, i)) as r:
                        await r.read()
                        if r.status != 200:
                            state["failed"] += 1
                except aiohttp.ClientError:
                    state["failed"] += 1
        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(c)))
        e = time.monotonic() - t0
    print("aiohttp: %d requests, %d failed, %.3f s, %.0f requests/s" % (n, state["failed"], e, n / e))


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
