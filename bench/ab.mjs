// A/B of server variants on one case: interleaved rounds, CPU µs per request of each server process.
//   node bench/ab.mjs '<label>=[NAME=value …] <node args…>' … [--path /v1.0/me] [--rounds 3] [--duration 4]
import { parseArgs } from 'node:util';
import { load, median, pinSelf, serverSpec, startServer } from './lib.mjs';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    path: { type: 'string', default: '/v1.0/me' },
    method: { type: 'string', default: 'GET' },
    body: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
  },
});
pinSelf();
const servers = [];
for (const p of positionals) {
  const { label, env, args } = serverSpec(p);
  env.RESPONSES_FILE ??= process.env.RESPONSES_FILE ?? '';
  servers.push({
    label,
    s: await startServer(args, { label, env }),
    cpu: [],
    rps: [],
  });
}
const requests = [
  {
    method: opt.method,
    path: opt.path,
    body: opt.body,
    headers: opt.body ? { 'content-type': 'application/json' } : {},
  },
];
for (const x of servers) await load({ url: x.s.url, requests, duration: 2, connections: 50 });
for (let r = 0; r < Number(opt.rounds); r++) {
  for (const x of r % 2 ? [...servers].reverse() : servers) {
    const res = await load({
      url: x.s.url,
      requests,
      duration: Number(opt.duration),
      connections: Number(opt.connections),
      pid: x.s.proc.pid,
    });
    x.cpu.push(res.cpuUs);
    x.rps.push(res.rps);
    process.stdout.write(
      `${x.label.padEnd(16)} ${res.rps.toFixed(0).padStart(6)} req/s ${res.cpuUs.toFixed(1).padStart(6)} µs/req ${JSON.stringify(res.statuses)}\n`,
    );
  }
}
for (const x of servers)
  process.stdout.write(
    `== ${x.label.padEnd(16)} median ${median(x.rps).toFixed(0)} req/s, ${median(x.cpu).toFixed(1)} µs/req\n`,
  );
await Promise.all(servers.map((x) => x.s.stop()));
