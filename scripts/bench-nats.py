#!/usr/bin/env python3
"""Detect workers' throughput from NATS JetStream (`mcp-train detect --nats`).

    scripts/bench-nats.sh              # builds the release binary, installs nats-server, runs this
    bench-nats.py BIN NATS_SERVER [--lines N]

A synthetic wifi export of N records, a model trained on it, the records as NDJSON lines in a
stream (one message per line). Then, on the same lines: `detect` from a file; one worker
draining a fresh durable consumer; two workers sharing another. Each run ends when its workers
stop by themselves (no --follow: the consumer has nothing pending or unacknowledged). Lines per
second are wall-clock, start-up included. Needs nats-py (scripts/requirements-nats.txt).
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time

import nats


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nats-server did not start")


async def fill(url, lines):
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="LOGS", subjects=["logs.>"])
    for i, line in enumerate(lines):
        await nc.publish("logs.site1.ap1", line)
        if i % 10000 == 9999:
            await nc.flush()
    await nc.flush()
    for _ in range(600):
        info = await js.stream_info("LOGS")
        if info.state.messages == len(lines):
            break
        await asyncio.sleep(0.1)
    else:
        raise SystemExit(f"the stream holds {info.state.messages} of {len(lines)} lines")
    await nc.close()


def timed(commands):
    started = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands]
    errs = [p.communicate()[1].decode() for p in procs]
    elapsed = time.perf_counter() - started
    for p, err in zip(procs, errs):
        if p.returncode != 0:
            raise SystemExit(f"detect failed ({p.returncode}):\n{err}")
    return elapsed, errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("nats_server")
    ap.add_argument("--lines", type=int, default=200000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        export = os.path.join(work, "export.json")
        model = os.path.join(work, "model.json")
        subprocess.run([args.bin, "synth", "--records", str(args.lines), "--seed", "7",
                        "--out", export], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.bin, "train", export, "--seed", "7", "--out", model, "-q"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(export) as f:
            records = json.load(f)["data"]
        records.sort(key=lambda r: r["timestamp"])
        lines = [json.dumps(r, separators=(",", ":")).encode() for r in records]
        ndjson = os.path.join(work, "lines.ndjson")
        with open(ndjson, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")

        port = free_port()
        server = subprocess.Popen([args.nats_server, "-a", "127.0.0.1", "-p", str(port), "-js",
                                   "-sd", os.path.join(work, "js")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            url = f"nats://127.0.0.1:{port}"
            asyncio.run(fill(url, lines))
            n = len(lines)
            print(f"{n} lines, one NATS message each; {os.cpu_count()} cores")
            elapsed, _ = timed([[args.bin, "detect", model, ndjson]])
            print(f"detect from a file:          {elapsed:6.2f} s  {n / elapsed:10.0f} lines/s")
            for workers in (1, 2):
                consumer = f"bench{workers}"
                command = [args.bin, "detect", model, "--nats", url, "--nats-stream", "LOGS",
                           "--nats-subject", "logs.>", "--nats-consumer", consumer]
                elapsed, errs = timed([command] * workers)
                seen = sum(int(e.split(" messages from stream")[0].rsplit("\n", 1)[-1].split()[-1])
                           for e in errs)
                print(f"detect --nats, {workers} worker{'s' if workers > 1 else ' '}:   "
                      f"{elapsed:6.2f} s  {n / elapsed:10.0f} lines/s  ({seen} messages taken)")
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
