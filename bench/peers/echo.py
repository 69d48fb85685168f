"""echo: bench/echo's Python peers, echo servers the way asyncio's users write them.

The default is asyncio streams on asyncio's own loop: asyncio.start_server,
then reader.read(65536), writer.write, await writer.drain() in a loop.
--uvloop runs the same streams code on uvloop's loop. --uvloop-protocol is
the fastest way to serve on uvloop: an asyncio.Protocol whose data_received
calls transport.write, with no task and no stream in between (the figure
usually quoted for uvloop). asyncio and uvloop both set TCP_NODELAY on TCP
connections themselves.

Prints {"port": N, "version": V} once it listens, then serves until SIGINT
or SIGTERM, at which it exits 0.

usage: python3 echo.py [--uvloop | --uvloop-protocol] [port]    (port 0, the
default, picks a free port)
"""
import argparse
import asyncio
import json
import platform
import signal
import sys

BACKLOG = 1024  # asyncio's default of 100 can drop SYNs when 1,000 clients connect at once


async def handle(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # a reset by the peer ends the connection, not the server
    finally:
        writer.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    # Stop reading while the socket does not keep up, so a peer that never
    # reads cannot grow the write buffer without bound: streams' drain(), by hand.
    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def serve(port, protocol, version):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    if protocol:
        server = await loop.create_server(Echo, "127.0.0.1", port, backlog=BACKLOG)
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=BACKLOG)
    print(json.dumps({"port": server.sockets[0].getsockname()[1], "version": version}), flush=True)
    await stop
    server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--uvloop", action="store_true", help="streams on uvloop's loop")
    group.add_argument("--uvloop-protocol", action="store_true",
                       help="an asyncio.Protocol on uvloop's loop")
    ap.add_argument("port", type=int, nargs="?", default=0)
    opts = ap.parse_args()
    if not 0 <= opts.port <= 65535:
        ap.error("port outside 0..65535")
    factory, version = None, f"python {platform.python_version()}"
    if opts.uvloop or opts.uvloop_protocol:
        import uvloop
        factory, version = uvloop.new_event_loop, f"{version}, uvloop {uvloop.__version__}"
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(opts.port, opts.uvloop_protocol, version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
