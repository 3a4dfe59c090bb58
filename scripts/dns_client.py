#!/usr/bin/env python3
"""A small DNS client (Python 3 standard library only) that drives dnsmasq for
scripts/record-daemon-logs.sh: benign traffic and DNS attacks, each from its own
loopback client address (127.0.0.x) so that per-client features mean something.

    dns_client.py --server 127.0.0.1:PORT benign  --sources 127.0.0.10-19 --duration 20
    dns_client.py --server 127.0.0.1:PORT tunnel  --sources 127.0.0.66 --count 30
    dns_client.py --server 127.0.0.1:PORT dga     --sources 127.0.0.67 --count 40
    dns_client.py --server 127.0.0.1:PORT flood   --sources 127.0.0.68 --count 80
    dns_client.py --server 127.0.0.1:PORT rare    --sources 127.0.0.69 --count 12
    dns_client.py --server 127.0.0.1:PORT refused --sources 127.0.0.70 --count 20

Each command prints one summary line (queries sent, answers per rcode) on stdout.
Queries are built with struct: a 12-byte header, the question, no EDNS.
"""

import argparse
import base64
import random
import socket
import struct
import sys
import time

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "NULL": 10, "PTR": 12, "MX": 15,
          "TXT": 16, "AAAA": 28, "SRV": 33, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

# Names the upstream dnsmasq knows (see record-daemon-logs.sh), with popularity weights.
BENIGN_NAMES = [
    ("www.example.com", 30), ("api.example.com", 14), ("cdn.example.net", 14),
    ("mail.example.com", 8), ("static.example.net", 8), ("updates.example.org", 6),
    ("ntp.example.org", 6), ("wiki.example.org", 5), ("intranet.lab.test", 5),
    ("printer.lab.test", 3),
]
# Names a person mistypes now and then: benign NXDOMAIN.
TYPOS = ["wwww.example.com", "www.exmaple.com", "api.example.con", "cdn.exmaple.net", "wiki.example.org"]
REVERSE = ["10.2.0.192.in-addr.arpa", "20.100.51.198.in-addr.arpa", "5.113.0.203.in-addr.arpa"]


def parse_sources(spec):
    """'127.0.0.10-19' or '127.0.0.66' or a comma-separated list of those."""
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
        raise SystemExit("no source addresses given")
    return out


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad label length {len(raw)} in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def build_query(qid, name, qtype, rd=True):
    header = struct.pack(">HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack(">HH", QTYPES[qtype], 1)


class Client:
    """One UDP socket per source address; counts answers per rcode."""

    def __init__(self, server, rng, timeout=1.0):
        host, port = server.rsplit(":", 1)
        self.server = (host, int(port))
        self.rng = rng
        self.timeout = timeout
        self.sockets = {}
        self.sent = 0
        self.rcodes = {}

    def sock(self, source, fresh):
        # Real stub resolvers use a new random source port per query; a flood tool reuses one.
        if fresh or source not in self.sockets:
            old = self.sockets.pop(source, None)
            if old:
                old.close()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((source, 0))
            s.settimeout(self.timeout)
            self.sockets[source] = s
        return self.sockets[source]

    def ask(self, source, name, qtype, wait=True, fresh=True):
        qid = self.rng.randrange(65536)
        s = self.sock(source, fresh)
        s.sendto(build_query(qid, name, qtype), self.server)
        self.sent += 1
        if wait:
            self.receive(s)

    def receive(self, s):
        try:
            data = s.recv(4096)
        except OSError:
            self.rcodes["timeout"] = self.rcodes.get("timeout", 0) + 1
            return
        code = RCODES.get(data[3] & 0x0F, str(data[3] & 0x0F)) if len(data) >= 4 else "short"
        self.rcodes[code] = self.rcodes.get(code, 0) + 1

    def drain(self, seconds):
        end = time.monotonic() + seconds
        for s in self.sockets.values():
            s.settimeout(0.05)
        while time.monotonic() < end:
            got = False
            for s in self.sockets.values():
                try:
                    data = s.recv(4096)
                except OSError:
                    continue
                got = True
                code = RCODES.get(data[3] & 0x0F, "?") if len(data) >= 4 else "short"
                self.rcodes[code] = self.rcodes.get(code, 0) + 1
            if not got:
                break

    def summary(self, what):
        codes = " ".join(f"{k}={v}" for k, v in sorted(self.rcodes.items()))
        print(f"{what}: {self.sent} queries; {codes}")


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


def benign(c, sources, args):
    """Stub resolvers at work: A and AAAA pairs for popular names (repeats come from
    dnsmasq's cache), a few PTR, MX and TXT lookups, a typo now and then."""
    end = time.monotonic() + args.duration
    n = 0
    while time.monotonic() < end and (args.count == 0 or n < args.count):
        src = c.rng.choice(sources)
        r = c.rng.random()
        if r < 0.80:
            name = weighted(c.rng, BENIGN_NAMES)
            c.ask(src, name, "A")
            if c.rng.random() < 0.6:
                c.ask(src, name, "AAAA")
        elif r < 0.87:
            c.ask(src, c.rng.choice(REVERSE), "PTR")
        elif r < 0.92:
            c.ask(src, "example.com", c.rng.choice(["MX", "TXT"]))
        else:
            c.ask(src, c.rng.choice(TYPOS), "A")
        n += 1
        time.sleep(c.rng.uniform(0.05, 0.3))


def b32label(rng, nbytes):
    raw = bytes(rng.randrange(256) for _ in range(nbytes))
    return base64.b32encode(raw).decode().rstrip("=").lower()


def tunnel(c, sources, args):
    """An iodine/dnscat-style tunnel: data chunks in long base32 labels under one domain,
    mostly TXT queries (the answers carry the downstream data), a steady fast beat."""
    src = sources[0]
    session = b32label(c.rng, 3)
    for i in range(args.count):
        labels = [b32label(c.rng, 36), b32label(c.rng, c.rng.randrange(20, 36))]
        name = f"{labels[0]}.{labels[1]}.{session}{i:04x}.t.c2-tunnel.net"
        c.ask(src, name, "TXT" if c.rng.random() < 0.85 else "A")
        time.sleep(0.03)


def dga(c, sources, args):
    """A bot trying its domain-generation list: random second-level names, almost all
    NXDOMAIN, as fast as answers come back."""
    src = sources[0]
    tlds = ["com", "net", "org", "com", "net", "info"]
    for _ in range(args.count):
        n = c.rng.randrange(10, 20)
        name = "".join(c.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789" if c.rng.random() < 0.3
                                    else "abcdefghijklmnopqrstuvwxyz") for _ in range(n))
        c.ask(src, f"{name}.{c.rng.choice(tlds)}", "A")
        time.sleep(0.01)


def flood(c, sources, args):
    """One client hammering the resolver from one source port: a popular name again and
    again (cache hits) mixed with random subdomains of a victim zone (water torture)."""
    src = sources[0]
    for i in range(args.count):
        if i % 2 == 0:
            name = "www.example.com"
        else:
            name = f"{b32label(c.rng, 5)}.example.com"
        c.ask(src, name, "A", wait=False, fresh=False)
        if i % 20 == 19:
            c.drain(0.2)
    c.drain(1.0)


def rare(c, sources, args):
    """Rare query types: ANY (amplification, reconnaissance) and NULL (tunnels), some
    HINFO-era leftovers through NS/SOA/SRV."""
    src = sources[0]
    names = ["example.com", "example.net", "example.org", "www.example.com", "c2-tunnel.net"]
    for i in range(args.count):
        if i % 3 == 2:
            c.ask(src, f"{b32label(c.rng, 12)}.t.c2-tunnel.net", "NULL")
        else:
            c.ask(src, c.rng.choice(names), "ANY")
        time.sleep(0.05)


def refused(c, sources, args):
    """Reconnaissance the resolver's configuration refuses: names in zones it does not
    serve (REFUSED), bare names it will not forward (--domain-needed) and a reverse
    sweep of a private range (--bogus-priv answers NXDOMAIN locally)."""
    src = sources[0]
    zones = ["xyz", "ru", "top", "onion", "corp", "internal"]
    bare = ["wpad", "isatap", "localhost6", "dc01", "fileserver", "vpn"]
    for i in range(args.count):
        k = i % 3
        if k == 0:
            c.ask(src, f"{c.rng.choice(['mail', 'vpn', 'admin', 'git', 'db'])}.victim.{c.rng.choice(zones)}", "A")
        elif k == 1:
            c.ask(src, c.rng.choice(bare), "A")
        else:
            c.ask(src, f"{i}.0.10.10.in-addr.arpa", "PTR")
        time.sleep(0.03)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True, help="HOST:PORT of the resolver")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("mode", choices=["benign", "tunnel", "dga", "flood", "rare", "refused"])
    p.add_argument("--sources", default="127.0.0.1", help="client addresses, e.g. 127.0.0.10-19")
    p.add_argument("--count", type=int, default=0, help="queries (benign: 0 = until --duration)")
    p.add_argument("--duration", type=float, default=10.0, help="benign: seconds to run")
    args = p.parse_args()
    c = Client(args.server, random.Random(args.seed))
    sources = parse_sources(args.sources)
    globals()[args.mode](c, sources, args)
    c.summary(args.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
