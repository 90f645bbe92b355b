// Shared pieces of bench/run.mjs and bench/soak.mjs: pinned server processes, autocannon runs with
// sub-ms latencies, and small statistics.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

/** taskset is there and this machine has at least 2 CPUs: servers on CPU 1, load generator on CPU 0. */
export const PIN = process.env.BENCH_PIN !== '0' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Pins this process (every thread) to CPU 0: autocannon runs here. */
export function pinSelf() {
  if (PIN) spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
}

/**
 * Starts `node args…` (pinned to CPU 1) and resolves when it prints its `listening on URL` line.
 * Returns { url, proc, readyMs, stop() }; readyMs counts from spawn.
 */
export function startServer(nodeArgs, { env = {}, label = 'server', readyTimeoutMs = 30_000 } = {}) {
  const cmd = PIN ? 'taskset' : process.execPath;
  const args = PIN ? ['-c', '1', process.execPath, ...nodeArgs] : nodeArgs;
  const t0 = performance.now();
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    if (stderr.length < 20_000) stderr += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`${label}: not ready after ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    const fail = (err) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${err.message}\n${stderr.slice(0, 2000)}`));
    };
    proc.once('exit', (code) => fail(new Error(`${label}: exited with ${code} before it was ready`)));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.stdout.removeAllListeners('data');
      proc.stdout.resume();
      const exited = new Promise((r) => proc.once('exit', r));
      resolve({
        url: m[1],
        proc,
        readyMs: performance.now() - t0,
        t0,
        stderr: () => stderr,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        },
      });
    });
  });
}

/**
 * A server as the A/B scripts take it on their command line: `label=[NAME=value …] <node args…>`,
 * `@` standing for the project folder (`mock=MALLOC_ARENA_MAX=2 @dist/cli.js --port 0`).
 */
export function serverSpec(text) {
  const i = text.indexOf('=');
  const words = text
    .slice(i + 1)
    .split(' ')
    .filter(Boolean)
    .map((a) => a.replace(/^@/, `${ROOT}/`));
  // leading NAME=value words are the server's environment
  const env = {};
  while (words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift().split('=');
    env[name] = value.join('=');
  }
  return { label: text.slice(0, i), env, args: words };
}

/** Resident set size of a process in MiB (from /proc), or null. */
export function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc; null where /proc is missing. */
export function cpuSeconds(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * One autocannon run. `requests` as autocannon takes them; every response's latency is kept at
 * sub-ms precision (autocannon's own histogram has 1 ms buckets). Resolves with req/s, p50/p99 (ms),
 * status counts, errors and timeouts.
 */
export function load({ url, requests, connections = 50, duration = 5, pid, timeout = 10 }) {
  let lat = new Float64Array(1 << 17);
  let n = 0;
  const cpu0 = pid ? cpuSeconds(pid) : null;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const inst = autocannon({ url, connections, pipelining: 1, duration, timeout, requests }, (err, res) => {
      if (err) return reject(err);
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = pid ? cpuSeconds(pid) : null;
      const sorted = lat.subarray(0, n).sort();
      const statuses = {};
      for (const [code, v] of Object.entries(res.statusCodeStats ?? {})) statuses[code] = v.count;
      resolve({
        rps: res.requests.mean,
        total: res.requests.total,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        statuses,
        errors: res.errors,
        timeouts: res.timeouts,
        serverCpu: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / wall,
        // server CPU µs per answered request: steadier than req/s when other work shares the core
        cpuUs:
          cpu0 === null || cpu1 === null || !res.requests.total
            ? null
            : ((cpu1 - cpu0) * 1e6) / res.requests.total,
      });
    });
    inst.on('response', (_client, _status, _bytes, ms) => {
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = ms;
    });
  });
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Open-loop load at a fixed offered rate, spread evenly in time (autocannon's overallRate sends each
 * second's quota in a burst, so its latencies measure the burst's queue). Requests go out over at most
 * `connections` keep-alive sockets; one whose socket is busy waits for it, and that wait counts.
 * Resolves with p50/p99 (ms), status counts, errors and how many were sent.
 */
export function paced({ url, requests, rate = 2000, duration = 5, connections = 50 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const total = Math.round(rate * duration);
  const lat = new Float64Array(total);
  const statuses = {};
  let sent = 0;
  let done = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const finish = () => {
      agent.destroy();
      const sorted = lat.subarray(0, done - errors).sort();
      resolve({ p50: percentile(sorted, 50), p99: percentile(sorted, 99), statuses, errors, sent });
    };
    const one = () => {
      const r = requests[sent % requests.length];
      sent++;
      const start = performance.now();
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: r.method ?? 'GET',
          path: r.path,
          agent,
          headers: r.headers,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            lat[done - errors] = performance.now() - start;
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (++done === total) finish();
          });
        },
      );
      req.on('error', () => {
        errors++;
        if (++done === total) finish();
      });
      req.end(r.body);
    };
    const tick = () => {
      // every request whose moment has come goes out now; the timer only wakes us up
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (sent < due) one();
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}
