#!/usr/bin/env python3
"""Forwards TCP connections to TARGET (host:port) and cuts the first one once.

Usage: cutting_proxy.py TARGET CUT_AFTER_BYTES

Prints the loopback address it listens on, then forwards every connection
to TARGET. The first connection is reset (both sides) once CUT_AFTER_BYTES
have passed through it in either direction; later connections, such as the
one a resuming party makes, are forwarded untouched. Runs until killed.
"""
import socket
import struct
import sys
import threading


def pump(src, dst, counter, cut_after, cut_both):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            with counter["lock"]:
                counter["bytes"] += len(data)
                over = cut_after is not None and counter["bytes"] >= cut_after
            if over:
                cut_both()
                return
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def reset(sock):
    # SO_LINGER with a zero timeout makes close() send a RST, as a broken
    # connection does, instead of an orderly FIN.
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    cut_after = int(sys.argv[2])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print("127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    first = True
    while True:
        client, _ = listener.accept()
        try:
            server = socket.create_connection((host, int(port)))
        except OSError:
            # The target is not listening yet: refuse, and the dialer retries.
            reset(client)
            continue
        counter = {"bytes": 0, "lock": threading.Lock()}
        limit = cut_after if first else None
        first = False

        def cut_both(c=client, s=server):
            reset(c)
            reset(s)
            print("cutting_proxy: cut the connection", file=sys.stderr, flush=True)

        for a, b in ((client, server), (server, client)):
            threading.Thread(target=pump, args=(a, b, counter, limit, cut_both), daemon=True).start()


if __name__ == "__main__":
    main()
