#!/usr/bin/env python3
"""Labels for the logs scripts/record-daemon-logs.sh records.

Every attack in the recording comes from a client address that sends nothing else (benign
clients have their own addresses), so a line is an attack line exactly when its client is
one of an attack phase's sources: for dnsmasq the `SERIAL ADDR/PORT` that
--log-queries=extra puts before each query line, for netfilter the SRC= field (LOGEMU) or
"src_ip" (JSON). Lines without a client (dnsmasq's start-up lines) are benign.

    daemon_labels.py PHASES FILE:KIND [FILE:KIND ...] > labels.json

PHASES has one phase a line: `NAME START_EPOCH END_EPOCH SOURCE[,SOURCE...]`.
KIND is dnsmasq, logemu or json. The output lists, per file, its line count and the
1-based numbers of its attack lines, overall and per phase.
"""

import datetime
import json
import os
import re
import sys

DNSMASQ_CLIENT = re.compile(r"dnsmasq\[\d+\]: \d+ ([0-9a-fA-F.:]+)/\d+ ")
LOGEMU_SRC = re.compile(r" SRC=([0-9a-fA-F.:]+) ")


def client(kind, line):
    if kind == "dnsmasq":
        m = DNSMASQ_CLIENT.search(line)
        return m.group(1) if m else None
    if kind == "logemu":
        m = LOGEMU_SRC.search(line)
        return m.group(1) if m else None
    if kind == "json":
        try:
            return json.loads(line).get("src_ip")
        except ValueError:
            return None
    raise SystemExit(f"unknown kind {kind!r} (dnsmasq, logemu or json)")


def iso(epoch):
    return datetime.datetime.fromtimestamp(float(epoch), datetime.timezone.utc).isoformat(timespec="milliseconds")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    phases = []
    with open(argv[1]) as f:
        for n, raw in enumerate(f, 1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise SystemExit(f"{argv[1]}:{n}: expected NAME START END SOURCES, got {raw!r}")
            phases.append({"name": parts[0], "start": iso(parts[1]), "end": iso(parts[2]),
                           "sources": parts[3].split(",")})
    by_source = {}
    for p in phases:
        for s in p["sources"]:
            if s in by_source:
                raise SystemExit(f"source {s} is in two phases; labels would be ambiguous")
            by_source[s] = p["name"]
    files = {}
    for spec in argv[2:]:
        path, kind = spec.rsplit(":", 1)
        attack, per_phase, count = [], {p["name"]: [] for p in phases}, 0
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                count = n
                phase = by_source.get(client(kind, line))
                if phase:
                    attack.append(n)
                    per_phase[phase].append(n)
        files[os.path.basename(path)] = {"kind": kind, "lines": count, "attack_lines": attack,
                                         "per_phase": per_phase}
    text = json.dumps({"rule": "a line is an attack line when its client address is a source of an attack phase",
                       "phases": phases, "files": files}, indent=1)
    # Line-number lists on one line each: readable, and a diff shows which lines moved.
    text = re.sub(r"\[\s+([\d,\s]+?)\s+\]", lambda m: "[" + ", ".join(m.group(1).replace(",", " ").split()) + "]", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
