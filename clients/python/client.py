#!/usr/bin/env python3
"""Reference external client for nitro-scenario, standard library only.

C worker threads, each with its own keep-alive http.client connection, POST the payload to
BASE + ROUTE in a closed loop for WARMUP_SECONDS (discarded), then T seconds (measured).
Prints the per-point JSON object on stdout and writes it to RESULTS_FILE when that is set.
The protocol (variables, fields, definitions) is in clients/README.md.
"""

import datetime
import http.client
import json
import math
import os
import socket
import sys
import threading
import time
import urllib.parse

REQUEST_TIMEOUT_SECS = 30.0


def seed_payload(size, model):
    """The benchmark framework's body, for runs without PAYLOAD_FILE."""
    repeat = {"S": 50, "M": 1600, "L": 12800}.get(size, 50)
    message = {"role": "user", "content": "Hello, world!" * repeat}
    return json.dumps({"model": model, "messages": [message]}).encode()


class Config:
    def __init__(self, env, argv):
        self.base = env.get("BASE", "http://127.0.0.1:3000").rstrip("/")
        self.route = env.get("ROUTE") or (argv[1] if len(argv) > 1 else "/v1/chat/completions")
        self.concurrency = int(env.get("C", "32"))
        self.measure_secs = float(env.get("T", env.get("BENCHMARK_SECONDS", "60")))
        self.warmup_secs = float(env.get("WARMUP_SECONDS", "0"))
        self.size = env.get("SIZE", "S")
        stream = env.get("STREAM")
        self.stream = self.route.endswith(":stream") if stream is None else stream in ("1", "true")
        self.results_file = env.get("RESULTS_FILE")
        if env.get("PAYLOAD_FILE"):
            with open(env["PAYLOAD_FILE"], "rb") as f:
                self.body = f.read()
        else:
            self.body = seed_payload(self.size, env.get("MODEL", "test-model"))
        self.headers = {"Content-Type": "application/json"}
        if env.get("HEADERS_FILE"):
            with open(env["HEADERS_FILE"], encoding="utf-8") as f:
                self.headers.update(json.load(f))
        url = urllib.parse.urlsplit(self.base + self.route)
        self.https = url.scheme == "https"
        self.host = url.hostname
        self.port = url.port or (443 if self.https else 80)
        self.path = url.path + ("?" + url.query if url.query else "")


class Stats:
    """One worker's measure-phase figures; merged after the run."""

    def __init__(self):
        self.reqs = 0
        self.latency_ms = []
        self.ttft_ms = []
        self.non2xx = 0
        self.timeouts = 0
        self.other = 0
        self.stream_bytes = 0
        self.transfer_secs = 0.0

    def merge(self, o):
        self.reqs += o.reqs
        self.latency_ms += o.latency_ms
        self.ttft_ms += o.ttft_ms
        self.non2xx += o.non2xx
        self.timeouts += o.timeouts
        self.other += o.other
        self.stream_bytes += o.stream_bytes
        self.transfer_secs += o.transfer_secs


class BadAnswer(Exception):
    """A 2xx answer that is not what the route promises (bad JSON, broken stream)."""


def read_stream(resp, started):
    """Read an SSE answer to `data: [DONE]`: (bytes, seconds to first content or None)."""
    nbytes = 0
    first = None
    while True:
        line = resp.readline()
        if not line:
            raise BadAnswer("stream ended before [DONE]")
        nbytes += len(line)
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            # The rest (a blank line, the chunked terminator) frees the connection for reuse.
            nbytes += len(resp.read())
            return nbytes, first
        try:
            event = json.loads(data)
        except ValueError as e:
            raise BadAnswer("event is not JSON") from e
        if "error" in event:
            raise BadAnswer("error event")
        if first is None:
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content") or delta.get("reasoning_content"):
                    first = time.monotonic() - started
                    break


def worker(cfg, measure_start, measure_end, out):
    stats = Stats()
    conn = None
    while True:
        started = time.monotonic()
        if started >= measure_end:
            break
        counted = started >= measure_start
        if conn is None:
            kind = http.client.HTTPSConnection if cfg.https else http.client.HTTPConnection
            conn = kind(cfg.host, cfg.port, timeout=REQUEST_TIMEOUT_SECS)
        try:
            conn.request("POST", cfg.path, body=cfg.body, headers=cfg.headers)
            resp = conn.getresponse()
            headers_at = time.monotonic()
            status_ok = 200 <= resp.status < 300
            if status_ok and cfg.stream:
                nbytes, first = read_stream(resp, started)
            else:
                body = resp.read()
                nbytes, first = len(body), None
                if status_ok:
                    try:
                        json.loads(body)
                    except ValueError as e:
                        raise BadAnswer("body is not JSON") from e
            ended = time.monotonic()
            if not counted:
                continue
            stats.reqs += 1
            if not status_ok:
                stats.non2xx += 1
                continue
            stats.latency_ms.append((ended - started) * 1000.0)
            if cfg.stream:
                stats.stream_bytes += nbytes
                stats.transfer_secs += ended - headers_at
                if first is not None:
                    stats.ttft_ms.append(first * 1000.0)
        except (TimeoutError, socket.timeout):
            conn.close()
            conn = None
            if counted:
                stats.reqs += 1
                stats.timeouts += 1
        except (OSError, http.client.HTTPException, BadAnswer):
            conn.close()
            conn = None
            if counted:
                stats.reqs += 1
                stats.other += 1
    if conn is not None:
        conn.close()
    out.append(stats)


def percentiles(values):
    """p50/p95/p99 by nearest rank, ms; null when nothing was recorded."""
    values = sorted(values)

    def rank(q):
        if not values:
            return None
        return round(values[max(0, math.ceil(q / 100.0 * len(values)) - 1)], 3)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99)}


def summarize(cfg, s):
    failed = s.non2xx + s.timeouts + s.other
    result = {
        "lang": "python",
        "route": cfg.route,
        "concurrency": cfg.concurrency,
        "payload_size": cfg.size,
        "reqs": s.reqs,
        "throughput_rps": s.reqs / cfg.measure_secs if cfg.measure_secs > 0 else 0.0,
        "latency_ms": percentiles(s.latency_ms),
        "errors": {"non2xx": s.non2xx, "timeouts": s.timeouts, "total": failed},
        "success_rate": (s.reqs - failed) * 100.0 / s.reqs if s.reqs else None,
        "timestamp": datetime.datetime.now(datetime.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "test_config": {
            "route": cfg.route,
            "concurrency": cfg.concurrency,
            "payload_size": cfg.size,
            "duration_seconds": cfg.measure_secs,
            "warmup_seconds": cfg.warmup_secs,
            "mockoon_base": cfg.base,
        },
    }
    if cfg.stream:
        rate = s.stream_bytes / s.transfer_secs if s.transfer_secs > 0 else None
        result["sse_bytes_per_sec"] = rate
        result["time_to_first_ms"] = percentiles(s.ttft_ms)
        result["total_bytes"] = s.stream_bytes
    return result


def main():
    cfg = Config(os.environ, sys.argv)
    start = time.monotonic()
    measure_start = start + cfg.warmup_secs
    measure_end = measure_start + cfg.measure_secs
    done = []
    threads = [
        threading.Thread(target=worker, args=(cfg, measure_start, measure_end, done))
        for _ in range(cfg.concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = Stats()
    for s in done:
        total.merge(s)
    text = json.dumps(summarize(cfg, total))
    if cfg.results_file:
        with open(cfg.results_file, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
