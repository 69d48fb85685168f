'use strict';
// spawn: how many trivial async tasks can be started, run and finished per second.
//
// spawn+finish: a batch of async function calls, then Promise.all on the
// batch. create+await: a batch of calls, then each promise awaited in turn
// (tulip: tl_create_task + tl_await). call+await: each call awaited at once,
// one after another. An async function that never awaits runs to its end
// inside the call, which is Node's own cost for this idiom. Prints one JSON
// line.
//
// usage: node spawn.js [n [batch]]

const n = Number(process.argv[2] || 1000000);
const batch = Number(process.argv[3] || 1000);
if (!(n > 0 && batch > 0)) {
  console.error('usage: node spawn.js [n > 0 [batch > 0]]');
  process.exit(2);
}

const now = () => process.hrtime.bigint();
const rate = (t0) => n / (Number(now() - t0) / 1e9);

async function trivial(i) {
  return i;
}

function check(sum) {
  if (sum !== (n * (n - 1)) / 2) throw new Error('wrong results');
}

async function spawnFinish() {
  const t0 = now();
  let sum = 0;
  for (let base = 0; base < n; base += batch) {
    const m = Math.min(batch, n - base);
    const ps = new Array(m);
    for (let i = 0; i < m; i++) ps[i] = trivial(base + i);
    for (const r of await Promise.all(ps)) sum += r;
  }
  const r = rate(t0);
  check(sum);
  return r;
}

async function createAwait() {
  const t0 = now();
  let sum = 0;
  for (let base = 0; base < n; base += batch) {
    const m = Math.min(batch, n - base);
    const ps = new Array(m);
    for (let i = 0; i < m; i++) ps[i] = trivial(base + i);
    for (let i = 0; i < m; i++) sum += await ps[i];
  }
  const r = rate(t0);
  check(sum);
  return r;
}

async function callAwait() {
  const t0 = now();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await trivial(i);
  const r = rate(t0);
  check(sum);
  return r;
}

async function main() {
  const sf = await spawnFinish();
  const ca = await createAwait();
  const cw = await callAwait();
  console.log(JSON.stringify({
    n,
    batch,
    spawn_per_s: Math.round(sf),
    create_await_per_s: Math.round(ca),
    call_await_per_s: Math.round(cw),
  }));
}

main();
