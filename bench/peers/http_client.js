// bench/http_client's Node peer: GET BASE?i=0..N-1 with C workers over fetch
// (undici's pool, keep-alive), bodies read and checked.
const [base, n, c] = [process.argv[2], +process.argv[3], +process.argv[4]];
let next = 0, failed = 0;
async function worker() {
  while (next < n) {
    const i = next++;
    try {
      const r = await fetch(`${base}?i=${i}`);
      await r.arrayBuffer();
      if (r.status !== 200) failed++;
    } catch (e) { failed++; }
  }
}
const t0 = process.hrtime.bigint();
Promise.all(Array.from({length: c}, worker)).then(() => {
  const e = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`node: ${n} requests, ${failed} failed, ${e.toFixed(3)} s, ${(n / e).toFixed(0)} requests/s`);
});
