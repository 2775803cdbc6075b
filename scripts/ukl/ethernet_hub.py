#!/usr/bin/env python3
"""A learning Ethernet switch between QEMU guests' `dgram` netdevs.

QEMU's dgram netdev sends each Ethernet frame as one UDP datagram to one
address. Three guests need a shared segment without root or tap devices,
so each guest points its netdev at this switch on 127.0.0.1, which learns
which UDP port each MAC address lives behind and forwards frames there
(flooding broadcasts and unknown destinations to every other guest).

    ethernet_hub.py HUB_PORT GUEST_PORT...
"""
import socket
import sys


def main() -> None:
    hub_port = int(sys.argv[1])
    guests = [("127.0.0.1", int(p)) for p in sys.argv[2:]]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.bind(("127.0.0.1", hub_port))
    where = {}  # MAC address -> guest address
    while True:
        frame, sender = sock.recvfrom(65536)
        if len(frame) < 14 or sender not in guests:
            continue
        where[frame[6:12]] = sender
        target = where.get(frame[0:6])
        for guest in [target] if target else guests:
            if guest != sender:
                sock.sendto(frame, guest)


if __name__ == "__main__":
    main()
