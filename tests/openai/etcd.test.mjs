// Two `anychip route` replicas sharing one fleet through a real etcd on loopback (issue #6,
// acceptance 4): a worker registered through either is used by both; a worker whose heartbeats
// stop leaves both within the lease TTL; a router restart loses no worker; killing a router
// leaves the other serving every worker. run.sh skips this file when etcd is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TINY, fleet, freePort, startRouter, startServer, waitFor } from './server.mjs';
import { startEtcd } from './etcd.mjs';

const TTL_S = 3;
const prefix = `/anychip-test-${process.pid}`;
let etcd, portA, routerA, routerB, w1, w2, both;

const routerArgs = () => ['--etcd', etcd.url, '--etcd-prefix', prefix, '--heartbeat-ttl', String(TTL_S),
  '--health-interval', '0.2', '--policy', 'round-robin'];
const ids = async (router) => (await fleet(router.baseURL)).workers.map((w) => w.id).sort();
const lists = async (router, expected) => JSON.stringify(await ids(router)) === JSON.stringify(expected);
const logs = () => [['router A', routerA], ['router B', routerB], ['w1', w1], ['w2', w2], ['etcd', etcd]]
  .filter(([, p]) => p).map(([name, p]) => `--- ${name}\n${p.log().slice(-3000)}`).join('\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One completion through `router`; returns the worker that served it.
async function complete(router) {
  const r = await fetch(`${router.baseURL}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'Once', max_tokens: 2 }),
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return r.headers.get('x-anychip-worker');
}

async function servedBy(router, n = 6) {
  const seen = new Set();
  for (let i = 0; i < n; ++i) seen.add(await complete(router));
  return [...seen].sort();
}

before(async () => {
  etcd = await startEtcd();
  portA = await freePort();
  routerA = await startRouter(routerArgs(), { port: portA });
  routerB = await startRouter(routerArgs());
  // w1 registers through A, w2 through B; each falls back to the other router.
  w1 = await startServer(TINY, ['--join', routerA.baseURL, '--join', routerB.baseURL]);
  w2 = await startServer(TINY, ['--join', routerB.baseURL, '--join', routerA.baseURL]);
  both = [w1.baseURL, w2.baseURL].sort();
});

after(async () => {
  if (w2) w2.proc.kill('SIGCONT');
  for (const p of [w1, w2, routerA, routerB]) if (p) await p.stop();
  if (etcd) await etcd.stop();
});

test('a worker registered through either router is used by both', async () => {
  await waitFor('both routers to list both workers',
    async () => (await lists(routerA, both)) && (await lists(routerB, both)), 10000, logs);
  const a = (await fleet(routerA.baseURL)).workers;
  assert.deepEqual(a.find((w) => w.id === w1.baseURL).sources, ['joined', 'etcd']);
  assert.deepEqual(a.find((w) => w.id === w2.baseURL).sources, ['etcd']);  // it joined B
  assert.deepEqual(await servedBy(routerA), both);
  assert.deepEqual(await servedBy(routerB), both);
});

test("stopping a worker's heartbeats removes it from both routers within the lease TTL", async () => {
  w2.proc.kill('SIGSTOP');
  const stopped = Date.now();
  // Its last heartbeat came at most a second before the stop; etcd expires leases on a 0.5 s tick.
  await waitFor('both routers to drop the silent worker',
    async () => (await lists(routerA, [w1.baseURL])) && (await lists(routerB, [w1.baseURL])), (TTL_S + 1.5) * 1000, logs);
  console.log(`dropped by both routers ${((Date.now() - stopped) / 1000).toFixed(1)} s after its heartbeats stopped (TTL ${TTL_S} s)`);
  assert.deepEqual(await servedBy(routerA, 3), [w1.baseURL]);
  assert.deepEqual(await servedBy(routerB, 3), [w1.baseURL]);
  w2.proc.kill('SIGCONT');
  await waitFor('the resumed worker to be back in both',
    async () => (await lists(routerA, both)) && (await lists(routerB, both)), 10000, logs);
});

test('a router restart loses no registered worker', async () => {
  let missedByB = 0;
  let watching = true;
  const watchB = (async () => {
    while (watching) {
      if (!(await lists(routerB, both))) ++missedByB;
      await sleep(100);
    }
  })();
  await routerA.stop('SIGKILL');
  routerA = await startRouter(routerArgs(), { port: portA });
  // It lists the shared fleet before it listens: every worker is back at once.
  assert.deepEqual(await ids(routerA), both);
  assert.deepEqual(await servedBy(routerA), both);
  // Past the lease TTL the leases the old process held have run out: nothing left with them.
  await sleep((TTL_S + 1) * 1000);
  watching = false;
  await watchB;
  assert.equal(missedByB, 0, 'router B missed a worker during the restart');
  assert.deepEqual(await ids(routerA), both);
  assert.deepEqual(await servedBy(routerA), both);
});

test('killing one router leaves the other serving every worker', async () => {
  await routerA.stop('SIGKILL');
  // Past the TTL: the workers that talked to A moved to B, which renews their leases now.
  await sleep((TTL_S + 1.5) * 1000);
  assert.deepEqual(await ids(routerB), both);
  assert.deepEqual(await servedBy(routerB), both);
  const b = (await fleet(routerB.baseURL)).workers;
  for (const w of b) assert.deepEqual(w.sources, ['joined', 'etcd'], JSON.stringify(w));
});

test('with etcd unreachable a router still serves the workers that join it', async () => {
  const lone = await startRouter(['--etcd', `http://127.0.0.1:${await freePort()}`, '--health-interval', '0.2']);
  const w = await startServer(TINY, ['--join', lone.baseURL]);
  try {
    await waitFor('the worker to join', async () => lists(lone, [w.baseURL]), 10000, () => lone.log());
    assert.equal(await complete(lone), w.baseURL);
    assert.match(lone.log(), /etcd: .*retrying/);
  } finally {
    await w.stop();
    assert.equal(await lone.stop(), 0);
  }
});
