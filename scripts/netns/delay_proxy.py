#!/usr/bin/env python3
"""A TCP proxy that delays traffic like a wide-area link, for scripts/netns-test.sh.

    delay_proxy.py --listen 10.77.0.254:7200 --connect 10.77.0.1:7100 \
                   --delay-ms 20 --jitter-ms 5 [--ready-file PATH]

Every accepted connection is forwarded to --connect.  Each chunk read from
either side is written to the other side no earlier than DELAY + U(0, JITTER)
milliseconds after it arrived, and never before the chunk read ahead of it on
the same side: jitter varies the latency without reordering bytes, as on one
TCP connection.  (`tc qdisc ... netem` would do this in the kernel, but this
machine's kernel has no sch_netem.)

The proxy keeps at most --max-buffer bytes in flight per direction and stops
reading until some are released, so a fast sender sees back-pressure instead
of the proxy's memory growing.  If the target refuses the connection, the
client's connection is closed: ternion's dialer treats that like a refused
connection and dials again.

Standard library only.  Stops on SIGTERM or SIGINT, and when its parent dies.
"""

import argparse
import asyncio
import ctypes
import random
import signal
import socket
import sys
import time

CHUNK = 64 * 1024


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


def log(message):
    print(f"delay_proxy[{time.strftime('%H:%M:%S')}]: {message}", file=sys.stderr, flush=True)


class Pipe:
    """One direction of one connection: reader -> delay line -> writer."""

    def __init__(self, name, reader, writer, delay, jitter, max_buffer, rng):
        self.name = name
        self.reader = reader
        self.writer = writer
        self.delay = delay
        self.jitter = jitter
        self.max_buffer = max_buffer
        self.rng = rng
        # (release time, bytes or None for end of stream), in arrival order.
        self.queue = asyncio.Queue()
        self.buffered = 0
        self.room = asyncio.Event()
        self.room.set()
        self.last_release = 0.0
        self.bytes = 0

    async def read_side(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self.room.wait()
                data = await self.reader.read(CHUNK)
                now = loop.time()
                # A chunk may not overtake the one before it, whatever its jitter.
                release = max(now + self.delay + self.rng.uniform(0, self.jitter), self.last_release)
                self.last_release = release
                self.queue.put_nowait((release, data or None))
                if not data:
                    return
                self.buffered += len(data)
                if self.buffered >= self.max_buffer:
                    self.room.clear()
        except (ConnectionError, OSError) as e:
            # Forward the failure in order, after what was already read.
            self.queue.put_nowait((self.last_release, e))

    async def write_side(self):
        loop = asyncio.get_running_loop()
        while True:
            release, data = await self.queue.get()
            wait = release - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
                return "eof"
            if isinstance(data, Exception):
                return f"error: {data}"
            self.writer.write(data)
            await self.writer.drain()
            self.bytes += len(data)
            self.buffered -= len(data)
            if self.buffered < self.max_buffer:
                self.room.set()


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def handle(client_reader, client_writer, args, rng):
    peer = client_writer.get_extra_info("peername")
    try:
        server_reader, server_writer = await asyncio.open_connection(*args.connect)
    except OSError as e:
        log(f"{peer} -> {args.connect[0]}:{args.connect[1]}: {e}; closing the client")
        client_writer.close()
        return
    nodelay(client_writer)
    nodelay(server_writer)
    log(f"{peer} connected, forwarding to {args.connect[0]}:{args.connect[1]}")
    delay, jitter = args.delay_ms / 1000, args.jitter_ms / 1000
    up = Pipe("up", client_reader, server_writer, delay, jitter, args.max_buffer, rng)
    down = Pipe("down", server_reader, client_writer, delay, jitter, args.max_buffer, rng)
    readers = [asyncio.ensure_future(up.read_side()), asyncio.ensure_future(down.read_side())]
    writers = {asyncio.ensure_future(up.write_side()), asyncio.ensure_future(down.write_side())}
    # Both directions normally end with an EOF forwarded each way; a failure
    # on either side ends both, as a broken connection would.
    outcome = []
    while writers:
        done, writers = await asyncio.wait(writers, return_when=asyncio.FIRST_COMPLETED)
        results = [t.exception() or t.result() for t in done]
        outcome += [str(r) for r in results]
        if any(r != "eof" for r in results):
            for task in writers:
                task.cancel()
            break
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, *writers, return_exceptions=True)
    for writer in (client_writer, server_writer):
        try:
            writer.close()
        except OSError:
            pass
    log(f"{peer} closed ({', '.join(outcome)}): {up.bytes} bytes up, {down.bytes} bytes down")


def die_with_parent():
    """Ends this proxy when the script that started it dies, even by SIGKILL."""
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the script's clean-up still stops the proxy


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=host_port, required=True, help="HOST:PORT to accept on")
    parser.add_argument("--connect", type=host_port, required=True, help="HOST:PORT to forward to")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="base one-way delay")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="extra random delay, 0..J")
    parser.add_argument("--max-buffer", type=int, default=16 * 1024 * 1024,
                        help="bytes held per direction before reading pauses")
    parser.add_argument("--seed", type=int, help="jitter seed (default: random)")
    parser.add_argument("--ready-file", help="written once the proxy is listening")
    args = parser.parse_args()
    die_with_parent()
    rng = random.Random(args.seed)

    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args, rng), args.listen[0], args.listen[1], reuse_address=True)
    log(f"listening on {args.listen[0]}:{args.listen[1]} -> {args.connect[0]}:{args.connect[1]}, "
        f"delay {args.delay_ms} ms + 0..{args.jitter_ms} ms")
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("ready\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
