"""The front of a deployment: a TCP relay on the environment's port, pointed at the live server.

Copied next to its ``upstream`` file and run inside a container (standard library only, any
Python 3.8+). Each new connection reads ``upstream`` (``host:port``, one line, replaced
atomically by apply once the new server is healthy) and relays bytes both ways; connections
already open finish on the server they started with. If the upstream refuses a connection (it is
being stopped), the file is read again and the connection retried for a few seconds, so a
switch refuses no request.
"""

import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(HERE, "upstream")
LISTEN_PORT = int(os.environ.get("MLOPSCTL_FRONT_PORT", "8080"))
RETRY_SECONDS = 5.0


def upstream():
    with open(UPSTREAM, encoding="utf-8") as f:
        host, _, port = f.read().strip().rpartition(":")
    return host, int(port)


async def relay(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, asyncio.CancelledError):
        writer.close()


async def connect():
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RETRY_SECONDS
    while True:
        try:
            return await asyncio.open_connection(*upstream())
        except (OSError, ValueError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def handle(client_reader, client_writer):
    try:
        up_reader, up_writer = await connect()
    except (OSError, ValueError) as e:
        print(f"front: no upstream: {e}", file=sys.stderr, flush=True)
        client_writer.close()
        return
    try:
        await asyncio.gather(relay(client_reader, up_writer), relay(up_reader, client_writer))
    finally:
        for w in (up_writer, client_writer):
            w.close()


async def main():
    server = await asyncio.start_server(handle, "0.0.0.0", LISTEN_PORT, reuse_address=True)
    print(f"front: listening on {LISTEN_PORT}, upstream from {UPSTREAM}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
