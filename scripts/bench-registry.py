#!/usr/bin/env python3
"""Registry operations per second: a directory against object storage (moto's S3 server on
loopback), through `mcp-train serve` over HTTP, as the replicas of a team would use it.

    scripts/bench-registry.sh            # builds the release binary, installs moto, runs this
    bench-registry.py BIN MOTO_SERVER [--ops N] [--threads T]

Operations: register (POST /api/models, a new version each time), deploy (POST
/api/models/V/deploy), read (GET /api/models), and registrations from T threads split over two
replicas at once (compare-and-swap retries included). Standard library only.
"""

import argparse
import calendar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()


def serve(bin_path, work, name, registry, env):
    out = open(os.path.join(work, f"{name}.out"), "w+")
    proc = subprocess.Popen(
        [bin_path, "serve", "--addr", "127.0.0.1:0", "--data-dir", os.path.join(work, name),
         "--registry", registry, "--dist", os.path.join(work, "none")],
        stdout=out, stderr=subprocess.DEVNULL, env={**os.environ, **env, "RUST_LOG": "warn"})
    for _ in range(300):
        out.seek(0)
        m = re.search(r"http://[0-9.:]+/", out.read())
        if m:
            return proc, m.group(0).rstrip("/")
        time.sleep(0.1)
    raise SystemExit(f"{name}: mcp-train serve did not start")


def versions_of(model, count, start):
    """`count` copies of the model under consecutive versions from `start` seconds on."""
    version = json.loads(model)["version"]
    base = calendar.timegm(time.strptime(version, "%Y%m%d_%H%M%S"))
    out = []
    for i in range(count):
        other = time.strftime("%Y%m%d_%H%M%S", time.gmtime(base + start + i))
        out.append(model.replace(version.encode(), other.encode()))
    return out


def measure(label, ops, fn):
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    print(f"  {label:<44} {ops:>5} ops  {dt:7.2f} s  {ops / dt:8.1f} ops/s")
    return ops / dt


def bench(bin_path, work, registry, env, model, ops, threads):
    a, url_a = serve(bin_path, work, "a" + str(abs(hash(registry)) % 1000), registry, env)
    b, url_b = serve(bin_path, work, "b" + str(abs(hash(registry)) % 1000), registry, env)
    try:
        copies = versions_of(model, ops * 2 + threads * ops, 0)
        registered = []

        def register():
            for body in copies[:ops]:
                status, reply = request("POST", f"{url_a}/api/models", body)
                assert status == 201, reply
                registered.append(json.loads(reply)["version"])

        def deploy():
            for v in registered:
                status, reply = request("POST", f"{url_a}/api/models/{v}/deploy", b"{}")
                assert status == 200, reply

        def read():
            for _ in range(ops):
                request("GET", f"{url_b}/api/models")

        def racing():
            bodies = copies[ops:ops + threads * ops]

            def worker(i):
                url = url_a if i % 2 == 0 else url_b
                for body in bodies[i::threads]:
                    status, reply = request("POST", f"{url}/api/models", body)
                    assert status == 201, reply

            ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()

        measure("register (POST /api/models)", ops, register)
        measure("deploy (POST /api/models/V/deploy)", ops, deploy)
        measure("read (GET /api/models, other replica)", ops, read)
        measure(f"register, {threads} threads over 2 replicas", threads * ops, racing)
        status, reply = request("GET", f"{url_b}/api/models")
        listed = len(json.loads(reply)["models"])
        expected = ops + threads * ops
        print(f"  listed afterwards: {listed} (expected {expected})")
        assert listed == expected
    finally:
        a.kill()
        b.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bin")
    p.add_argument("moto_server")
    p.add_argument("--ops", type=int, default=50)
    p.add_argument("--threads", type=int, default=4)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as work:
        export = os.path.join(work, "e.json")
        subprocess.run([args.bin, "synth", "--records", "3000", "--seed", "7", "--out", export,
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        model_path = os.path.join(work, "m.json")
        subprocess.run([args.bin, "train", export, "--seed", "1", "--out", model_path,
                        "--quiet"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
        model = open(model_path, "rb").read()
        print(f"model.json {len(model):,} bytes; {os.cpu_count()} cores")

        print("directory registry (file lock)")
        bench(args.bin, work, os.path.join(work, "registry"), {}, model, args.ops, args.threads)

        port = free_port()
        moto = subprocess.Popen([args.moto_server, "-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            request("PUT", f"http://127.0.0.1:{port}/bench")
            env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                   "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                   "AWS_ALLOW_HTTP": "true"}
            print("object storage (moto S3 on loopback, compare-and-swap)")
            bench(args.bin, work, "s3://bench/registry", env, model, args.ops, args.threads)
        finally:
            moto.kill()


if __name__ == "__main__":
    sys.exit(main())
