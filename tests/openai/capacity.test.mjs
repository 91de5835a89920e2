// Load and lifecycle: a full queue answers 429 with Retry-After; a client that disconnects frees
// its sequence; SIGTERM lets in-flight requests finish, refuses new ones, and exits 0.
// The tiny model writes 100 tokens in milliseconds, too fast for requests to overlap; these tests
// use the largest conformance model and long generations (about a second each).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import http from 'node:http';
import path from 'node:path';
import { startServer, SHARED, metrics } from './server.mjs';

const MODEL = path.join(SHARED, 'conformance', 'c-llama-s7-f32.gguf');
const N = 4000;

let server;
let client;

before(async () => {
  // A drain long enough for two full generations in the slowest build (ASan on a loaded CI
  // machine took over 30 s, the default, and the drain rightly cut the streams short).
  server = await startServer(MODEL, ['--max-seqs', '1', '--max-queue', '1', '--ctx-size', '4096', '--drain-timeout', '600']);
  // One connection per request. The first test reads its running stream only after the others
  // have finished, seconds after the server wrote its last byte: the server's keep-alive window
  // (5 s) counts from that write, the client's (4 s) from its late read, so a pooled socket could
  // be reused just as the server closes it (a CI run failed the next test on that race).
  const httpAgent = new http.Agent({ keepAlive: false });
  client = new OpenAI({ apiKey: 'unused', baseURL: `${server.baseURL}/v1`, maxRetries: 0, timeout: 60000, httpAgent });
});

after(async () => {
  await server.stop('SIGKILL');
});

const long = { prompt: 'I dreamed', max_tokens: N, temperature: 0, ignore_eos: true };

// Drains a stream; returns its last finish_reason.
async function finishOf(iterator) {
  let finish = null;
  for (let r = await iterator.next(); !r.done; r = await iterator.next()) finish = r.value.choices[0]?.finish_reason ?? finish;
  return finish;
}

// A streamed request that is running: its first tokens have arrived. (A request counts as
// queued until the engine's loop admits it, so wait for that before sending the next.)
async function running() {
  const it = (await client.completions.create({ ...long, stream: true }))[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.done, false);
  return it;
}

test('429 with Retry-After when the queue is full', async () => {
  const busy = await running();
  // One sequence runs, one request may wait: of these, one is queued and the rest refused. (The
  // engine counts its queue from a snapshot taken each step, so at a step boundary one more
  // may slip in; at least one must be refused.)
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => client.completions.create(long)));
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.ok(refused.length >= 1, `statuses: ${results.map((r) => r.status)}`);
  for (const r of refused) {
    assert.ok(r.reason instanceof OpenAI.RateLimitError, String(r.reason));
    assert.equal(r.reason.status, 429);
    assert.equal(r.reason.headers['retry-after'], '1');
    assert.equal(r.reason.type, 'rate_limit_error');
  }
  for (const r of ok) assert.equal(r.value.usage.completion_tokens, N);
  assert.equal(await finishOf(busy), 'length');
});

test('a client that disconnects mid-stream is cancelled', async () => {
  const before = await metrics(server.baseURL);
  const abort = new AbortController();
  const stream = await client.completions.create({ ...long, stream: true }, { signal: abort.signal });
  let seen = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.text) seen += 1;
      if (seen >= 2) abort.abort();
    }
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIUserAbortError || e.name === 'AbortError', String(e));
  }
  const deadline = Date.now() + 5000;
  let m;
  do {
    await new Promise((r) => setTimeout(r, 50));
    m = await metrics(server.baseURL);
  } while (m.anychip_requests_running > 0 && Date.now() < deadline);
  assert.equal(m.anychip_requests_running, 0);
  const generated = m.anychip_generation_tokens_total - before.anychip_generation_tokens_total;
  assert.ok(generated < N / 2, `the sequence ran on after the client left (${generated} tokens)`);
});

test('SIGTERM drains in-flight requests and exits 0', async () => {
  // One request running, one queued behind it: both are in flight and both must complete.
  const first = await running();
  const second = (await client.completions.create({ ...long, stream: true }))[Symbol.asyncIterator]();
  server.proc.kill('SIGTERM');
  // Give the signal a moment to land; then new requests are refused while the streams go on.
  await new Promise((r) => setTimeout(r, 100));
  const health = await fetch(`${server.baseURL}/health`);
  assert.equal(health.status, 503);
  assert.deepEqual(await health.json(), { status: 'draining' });
  const refused = await client.completions.create({ prompt: 'I', max_tokens: 2 }).catch((e) => e);
  assert.equal(refused.status, 503);
  assert.equal(await finishOf(first), 'length');
  assert.equal(await finishOf(second), 'length');
  assert.equal(await server.stop(), 0, server.log());
});
