#!/usr/bin/env python3
"""Traffic for the firewall part of scripts/record-daemon-logs.sh (Python 3 standard
library only). It runs inside the network namespaces the script creates and talks only
to the script's own veth addresses.

    fw_traffic.py serve   --listen 10.200.0.1                       # in the server namespace
    fw_traffic.py benign  --sources 10.200.0.10-14 --targets 10.200.0.1,10.200.0.3 --duration 20
    fw_traffic.py vscan   --sources 10.200.0.66 --targets 10.200.0.1 --count 40
    fw_traffic.py hscan   --sources 10.200.0.67 --targets 10.200.0.1,10.200.0.3-6
    fw_traffic.py synflood --sources 10.200.0.68 --targets 10.200.0.1 --count 60
    fw_traffic.py probe   --sources 10.200.0.69 --targets 10.200.0.1,10.200.0.3

Scans and the flood send raw SYN segments (as nmap -sS and hping3 do; needs root);
benign clients and probes use connect() and sendto() like ordinary programs.
"""

import argparse
import random
import select
import socket
import struct
import sys
import threading
import time

OPEN_TCP = [80, 443]
OPEN_UDP = [53, 123]


def parse_addrs(spec):
    out = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            base, hi = part.rsplit("-", 1)
            prefix, lo = base.rsplit(".", 1)
            out.extend(f"{prefix}.{i}" for i in range(int(lo), int(hi) + 1))
        elif part:
            out.append(part)
    if not out:
        raise SystemExit("no addresses given")
    return out


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_segment(src, dst, sport, dport, seq, window=1024):
    """A bare TCP SYN (20-byte header, no options), as a port scanner sends it."""
    hdr = struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, window, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(">BBH", 0, socket.IPPROTO_TCP, len(hdr))
    csum = checksum(pseudo + hdr)
    return hdr[:16] + struct.pack(">H", csum) + hdr[18:]


class RawSyn:
    def __init__(self, src):
        self.src = src
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.s.bind((src, 0))

    def send(self, dst, sport, dport, seq, window=1024):
        self.s.sendto(syn_segment(self.src, dst, sport, dport, seq, window), (dst, 0))


def serve(args):
    """Listeners for the open ports: TCP 80/443 answer a line, UDP 53/123 echo."""
    listen = args.listen
    socks = []
    for port in OPEN_TCP:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((listen, port))
        s.listen(512)
        socks.append(s)
    for port in OPEN_UDP:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((listen, port))
        socks.append(u)
    print(f"serving on {listen}: tcp {OPEN_TCP} udp {OPEN_UDP}", flush=True)

    def answer(conn):
        try:
            conn.settimeout(2)
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            if s.type == socket.SOCK_STREAM:
                try:
                    conn, _ = s.accept()
                except OSError:
                    continue
                threading.Thread(target=answer, args=(conn,), daemon=True).start()
            else:
                try:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data[:64], peer)
                except OSError:
                    pass


def benign(rng, sources, targets, args):
    """Clients using the open services: HTTP(S) requests, DNS/NTP-like datagrams, a ping
    now and then, and the odd connection to a closed port (a misconfigured client)."""
    end = time.monotonic() + args.duration
    counts = {}
    while time.monotonic() < end:
        src = rng.choice(sources)
        dst = targets[0] if rng.random() < 0.75 else rng.choice(targets)
        r = rng.random()
        try:
            if r < 0.60:
                kind = "tcp"
                s = socket.socket()
                s.bind((src, 0))
                s.settimeout(1.0)
                s.connect((dst, rng.choice(OPEN_TCP)))
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                s.recv(256)
                s.close()
            elif r < 0.85:
                kind = "udp"
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.bind((src, 0))
                u.settimeout(1.0)
                u.sendto(bytes(rng.randrange(256) for _ in range(48)), (dst, rng.choice(OPEN_UDP)))
                u.recv(256)
                u.close()
            elif r < 0.92:
                kind = "ping"
                ping(src, dst, rng.randrange(65536))
            else:
                kind = "closed"
                s = socket.socket()
                s.bind((src, 0))
                s.settimeout(0.3)
                s.connect((dst, rng.choice([8080, 8443])))
        except OSError:
            pass
        counts[kind] = counts.get(kind, 0) + 1
        time.sleep(rng.uniform(0.05, 0.3))
    print("benign: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))


def ping(src, dst, ident):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    payload = bytes(range(32))
    hdr = struct.pack(">BBHHH", 8, 0, 0, ident, 1)
    csum = checksum(hdr + payload)
    s.sendto(struct.pack(">BBHHH", 8, 0, csum, ident, 1) + payload, (dst, 0))
    s.close()


def vscan(rng, sources, targets, args):
    """A vertical SYN scan of one host: well-known ports first, then random ones."""
    raw = RawSyn(sources[0])
    common = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1723,
              3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017]
    ports = common[: args.count]
    while len(ports) < args.count:
        p = rng.randrange(1, 65536)
        if p not in ports:
            ports.append(p)
    rng.shuffle(ports)
    sport = rng.randrange(40000, 60000)
    for port in ports:
        raw.send(targets[0], sport, port, rng.randrange(1 << 32))
        time.sleep(0.005)
    print(f"vscan: {len(ports)} ports of {targets[0]}")


def hscan(rng, sources, targets, args):
    """A horizontal scan: the same few ports on every address of the subnet."""
    raw = RawSyn(sources[0])
    ports = [22, 3389, 5900][: max(1, args.count or 3)]
    sport = rng.randrange(40000, 60000)
    n = 0
    for port in ports:
        for dst in targets:
            raw.send(dst, sport, port, rng.randrange(1 << 32))
            n += 1
            time.sleep(0.01)
    print(f"hscan: {n} probes over {len(targets)} hosts")


def synflood(rng, sources, targets, args):
    """A SYN flood on the web port: random source ports, no handshake completion."""
    raw = RawSyn(sources[0])
    for _ in range(args.count):
        raw.send(targets[0], rng.randrange(1024, 65536), 80, rng.randrange(1 << 32), window=rng.choice([512, 1024, 2048]))
        time.sleep(0.001)
    print(f"synflood: {args.count} SYNs to {targets[0]}:80")


def probe(rng, sources, targets, args):
    """Probes of SMB (445), telnet (23) and SNMP (161/udp) with ordinary sockets; the
    kernel retransmits the unanswered SYNs as a real client would."""
    n = 0
    for dst in targets:
        for port in (445, 23):
            s = socket.socket()
            s.bind((sources[0], 0))
            s.settimeout(1.2)
            try:
                s.connect((dst, port))
            except OSError:
                pass
            s.close()
            n += 1
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((sources[0], 0))
        # An SNMPv1 get-request for sysDescr with community "public".
        u.sendto(bytes.fromhex("302602010004067075626c6963a019020101020100020100300e300c06082b060102010101000500"), (dst, 161))
        u.close()
        n += 1
    print(f"probe: {n} probes")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["serve", "benign", "vscan", "hscan", "synflood", "probe"])
    p.add_argument("--listen", default="10.200.0.1")
    p.add_argument("--sources", default="10.200.0.2")
    p.add_argument("--targets", default="10.200.0.1")
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args()
    if args.mode == "serve":
        serve(args)
        return 0
    rng = random.Random(args.seed)
    globals()[args.mode](rng, parse_addrs(args.sources), parse_addrs(args.targets), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
