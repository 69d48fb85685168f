'use strict';
// switch: what it costs to pass control from one async function to another.
//
// Two async functions ping-pong: each awaits a promise of its own that the
// other resolves, then makes itself a fresh one and resolves the other's.
// Then two async functions yield in a loop: `await null` lets every other
// ready function run once through the microtask queue (Node's nearest
// sleep(0)); a setImmediate round trip, which goes through the event loop as
// asyncio.sleep(0) does, is measured on fewer rounds. Then an async generator
// yields `rounds` values to a `for await`. Prints one JSON line.
//
// usage: node switch.js [rounds]

const rounds = Number(process.argv[2] || 1000000);
if (!(rounds > 0)) {
  console.error('usage: node switch.js [rounds > 0]');
  process.exit(2);
}

const now = () => process.hrtime.bigint();

// A round is two hand-offs: A wakes B, B wakes A.
async function handoff(rounds) {
  const inbox = [null, null];
  const wake = [null, null];
  const fresh = (me) => {
    inbox[me] = new Promise((resolve) => { wake[me] = resolve; });
  };
  async function side(me) {
    for (let i = 0; i < rounds; i++) {
      await inbox[me];
      // The fresh inbox must exist before the other side can resolve it.
      fresh(me);
      wake[1 - me]();
    }
  }
  fresh(0);
  fresh(1);
  wake[0]();
  const t0 = now();
  await Promise.all([side(0), side(1)]);
  return Number(now() - t0) / (2 * rounds);
}

async function yields(rounds, yieldOnce) {
  async function side() {
    for (let i = 0; i < rounds; i++) await yieldOnce();
  }
  const t0 = now();
  await Promise.all([side(), side()]);
  return Number(now() - t0) / (2 * rounds);
}

async function genValues(rounds) {
  async function* countUp() {
    for (let i = 0; i < rounds; i++) yield i;
  }
  const t0 = now();
  let n = 0;
  for await (const v of countUp()) n += v === n ? 1 : 0;
  if (n !== rounds) throw new Error('lost a value');
  return Number(now() - t0) / rounds;
}

const microtask = () => null;
const immediate = () => new Promise((resolve) => setImmediate(resolve));

async function main() {
  const immediateRounds = Math.max(1, Math.floor(rounds / 10));
  // Let the JIT compile the loops before anything is timed.
  await handoff(10000);
  await yields(10000, microtask);
  await yields(1000, immediate);
  await genValues(10000);
  const h = await handoff(rounds);
  const y = await yields(rounds, microtask);
  const s = await yields(immediateRounds, immediate);
  const g = await genValues(rounds);
  console.log(JSON.stringify({
    rounds,
    ns_per_handoff: +h.toFixed(2),
    ns_per_sleep0: +y.toFixed(2),
    setimmediate_rounds: immediateRounds,
    ns_per_setimmediate: +s.toFixed(2),
    ns_per_gen_value: +g.toFixed(2),
  }));
}

main();
