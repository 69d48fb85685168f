"""bench/http_server's aiohttp.web peer: / (13 bytes) and /16k (16 KiB).

usage: http_aiohttp.py PORT
"""
import sys

from aiohttp import web

HELLO = b"Hello, World!"
BIG = b"x" * 16384


async def hello(request):
    return web.Response(body=HELLO, content_type="text/plain")


async def big(request):
    return web.Response(body=BIG, content_type="application/octet-stream")


app = web.Application()
app.add_routes([web.get("/", hello), web.get("/16k", big)])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
