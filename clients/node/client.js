#!/usr/bin/env node
// Reference external client for nitro-scenario: Node's built-in `http`/`https` only, no npm
// install. C async workers share one keep-alive agent (at most C sockets) and POST the
// payload to BASE + ROUTE in a closed loop for WARMUP_SECONDS (discarded), then T seconds
// (measured). Prints the per-point JSON object on stdout and writes it to RESULTS_FILE when
// that is set. The protocol (variables, fields, definitions) is in clients/README.md.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { StringDecoder } = require('node:string_decoder');

const REQUEST_TIMEOUT_MS = 30000;

/** The benchmark framework's body, for runs without PAYLOAD_FILE. */
function seedPayload(size, model) {
  const repeat = { S: 50, M: 1600, L: 12800 }[size] ?? 50;
  const content = 'Hello, world!'.repeat(repeat);
  return Buffer.from(JSON.stringify({ model, messages: [{ role: 'user', content }] }));
}

function config(env, argv) {
  const base = (env.BASE ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const route = env.ROUTE || argv[2] || '/v1/chat/completions';
  const size = env.SIZE ?? 'S';
  const body = env.PAYLOAD_FILE
    ? fs.readFileSync(env.PAYLOAD_FILE)
    : seedPayload(size, env.MODEL ?? 'test-model');
  const headers = { 'content-type': 'application/json' };
  if (env.HEADERS_FILE) {
    for (const [k, v] of Object.entries(JSON.parse(fs.readFileSync(env.HEADERS_FILE, 'utf8')))) {
      headers[k.toLowerCase()] = v;
    }
  }
  headers['content-length'] = String(body.length);
  const stream = env.STREAM === undefined ? route.endsWith(':stream') : ['1', 'true'].includes(env.STREAM);
  return {
    base,
    route,
    url: new URL(base + route),
    concurrency: Number(env.C ?? 32),
    measureSecs: Number(env.T ?? env.BENCHMARK_SECONDS ?? 60),
    warmupSecs: Number(env.WARMUP_SECONDS ?? 0),
    size,
    stream,
    body,
    headers,
    resultsFile: env.RESULTS_FILE,
  };
}

class BadAnswer extends Error {}
class Timeout extends Error {}

/** Time to first content in one SSE answer; throws BadAnswer on a bad or unfinished stream. */
class SseReader {
  constructor(started) {
    this.started = started;
    this.decoder = new StringDecoder('utf8');
    this.pending = '';
    this.firstMs = null;
    this.done = false;
  }

  push(chunk, now) {
    this.pending += this.decoder.write(chunk);
    let newline;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (this.done || !line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        this.done = true;
        continue;
      }
      let event;
      try {
        event = JSON.parse(data);
      } catch {
        throw new BadAnswer('event is not JSON');
      }
      if (event.error !== undefined) throw new BadAnswer('error event');
      if (this.firstMs === null) {
        const hasContent = (event.choices ?? []).some(
          (c) => c.delta && (c.delta.content || c.delta.reasoning_content),
        );
        if (hasContent) this.firstMs = now - this.started;
      }
    }
  }
}

/** One request: resolves to its outcome; timings in ms from performance.now(). */
function send(cfg, agent) {
  const started = performance.now();
  const client = cfg.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const req = client.request(cfg.url, { method: 'POST', headers: cfg.headers, agent }, (res) => {
      const headersAt = performance.now();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const sse = ok && cfg.stream ? new SseReader(started) : null;
      const chunks = [];
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (sse) {
          try {
            sse.push(chunk, performance.now());
          } catch (e) {
            req.destroy(e);
          }
        } else if (ok) {
          chunks.push(chunk);
        }
      });
      res.on('end', () => {
        const ended = performance.now();
        if (!ok) return settle({ kind: 'non2xx' });
        if (sse && !sse.done) return settle({ kind: 'other' });
        if (!sse) {
          try {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return settle({ kind: 'other' });
          }
        }
        settle({
          kind: 'ok',
          latencyMs: ended - started,
          firstMs: sse ? sse.firstMs : null,
          bytes,
          transferMs: ended - headersAt,
        });
      });
      res.on('error', () => {});
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Timeout()));
    req.on('error', (e) => settle({ kind: e instanceof Timeout ? 'timeout' : 'other' }));
    req.on('close', () => settle({ kind: 'other' }));
    req.end(cfg.body);
  });
}

async function worker(cfg, agent, measureStart, measureEnd) {
  const s = { reqs: 0, latencyMs: [], firstMs: [], non2xx: 0, timeouts: 0, other: 0, bytes: 0, transferMs: 0 };
  for (;;) {
    const started = performance.now();
    if (started >= measureEnd) return s;
    const outcome = await send(cfg, agent);
    if (started < measureStart) continue;
    s.reqs += 1;
    if (outcome.kind === 'non2xx') s.non2xx += 1;
    else if (outcome.kind === 'timeout') s.timeouts += 1;
    else if (outcome.kind === 'other') s.other += 1;
    else {
      s.latencyMs.push(outcome.latencyMs);
      if (cfg.stream) {
        s.bytes += outcome.bytes;
        s.transferMs += outcome.transferMs;
        if (outcome.firstMs !== null) s.firstMs.push(outcome.firstMs);
      }
    }
  }
}

/** p50/p95/p99 by nearest rank, ms; null when nothing was recorded. */
function percentiles(values) {
  const sorted = Float64Array.from(values).sort();
  const rank = (q) =>
    sorted.length === 0
      ? null
      : Math.round(sorted[Math.max(0, Math.ceil((q / 100) * sorted.length) - 1)] * 1000) / 1000;
  return { p50: rank(50), p95: rank(95), p99: rank(99) };
}

function summarize(cfg, all) {
  const sum = (f) => all.reduce((a, s) => a + f(s), 0);
  const reqs = sum((s) => s.reqs);
  const non2xx = sum((s) => s.non2xx);
  const timeouts = sum((s) => s.timeouts);
  const failed = non2xx + timeouts + sum((s) => s.other);
  const out = {
    lang: 'node',
    route: cfg.route,
    concurrency: cfg.concurrency,
    payload_size: cfg.size,
    reqs,
    throughput_rps: cfg.measureSecs > 0 ? reqs / cfg.measureSecs : 0,
    latency_ms: percentiles(all.flatMap((s) => s.latencyMs)),
    errors: { non2xx, timeouts, total: failed },
    success_rate: reqs > 0 ? ((reqs - failed) * 100) / reqs : null,
    timestamp: new Date().toISOString(),
    test_config: {
      route: cfg.route,
      concurrency: cfg.concurrency,
      payload_size: cfg.size,
      duration_seconds: cfg.measureSecs,
      warmup_seconds: cfg.warmupSecs,
      mockoon_base: cfg.base,
    },
  };
  if (cfg.stream) {
    const bytes = sum((s) => s.bytes);
    const transferMs = sum((s) => s.transferMs);
    out.sse_bytes_per_sec = transferMs > 0 ? bytes / (transferMs / 1000) : null;
    out.time_to_first_ms = percentiles(all.flatMap((s) => s.firstMs));
    out.total_bytes = bytes;
  }
  return out;
}

async function main() {
  const cfg = config(process.env, process.argv);
  const Agent = cfg.url.protocol === 'https:' ? https.Agent : http.Agent;
  const agent = new Agent({ keepAlive: true, maxSockets: cfg.concurrency });
  const measureStart = performance.now() + cfg.warmupSecs * 1000;
  const measureEnd = measureStart + cfg.measureSecs * 1000;
  const workers = Array.from({ length: cfg.concurrency }, () => worker(cfg, agent, measureStart, measureEnd));
  const text = JSON.stringify(summarize(cfg, await Promise.all(workers)));
  agent.destroy();
  if (cfg.resultsFile) fs.writeFileSync(cfg.resultsFile, text + '\n');
  console.log(text);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
