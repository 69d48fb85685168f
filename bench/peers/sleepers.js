'use strict';
// sleepers: what a million async functions that each sleep cost in time and memory.
//
// N async functions each await a setTimeout promise of 1 s and return their
// index; Promise.all awaits them all. overhead = wall time - 1 s; RSS per
// task = (peak RSS - RSS before starting) / N, read from /proc/self/status.
// Prints one JSON line.
//
// usage: node sleepers.js [n]

const fs = require('fs');

const SLEEP_MS = 1000;
const n = Number(process.argv[2] || 100000);
if (!(n > 0)) {
  console.error('usage: node sleepers.js [n > 0]');
  process.exit(2);
}

function statusKiB(field) {
  const line = fs.readFileSync('/proc/self/status', 'utf8')
    .split('\n').find((l) => l.startsWith(field));
  return line ? Number(line.split(/\s+/)[1]) : NaN;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function sleeper(i) {
  await sleep(SLEEP_MS);
  return i;
}

async function main() {
  const base = statusKiB('VmRSS:');
  const t0 = process.hrtime.bigint();
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = sleeper(i);
  const results = await Promise.all(ps);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const peak = statusKiB('VmHWM:');
  let sum = 0;
  for (const r of results) sum += r;
  if (sum !== (n * (n - 1)) / 2) throw new Error('wrong results');
  console.log(JSON.stringify({
    n,
    wall_s: +wall.toFixed(4),
    overhead_s: +(wall - SLEEP_MS / 1000).toFixed(4),
    rss_per_task_kib: +((peak - base) / n).toFixed(3),
  }));
}

main();
