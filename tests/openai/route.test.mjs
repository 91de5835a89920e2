// `anychip route` in front of three `anychip serve` workers (one static, two joined with prices
// and a profile): the openai client works through it unchanged, and a worker killed under load
// loses no request: each one completes or, when its stream was cut, ends with an error event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { BIN, TINY, metrics, startRouter, startServer } from './server.mjs';

let router, workers = [], client;

async function waitFor(what, cond, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${router?.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthy = async () => (await metrics(router.baseURL))['anychip_router_workers_healthy'];

before(async () => {
  const profile = path.join(os.tmpdir(), `anychip-profile-${process.pid}.json`);
  fs.writeFileSync(profile, execFileSync(BIN, ['bench', '-m', TINY, '--batch', '1,4', '-p', '16', '-n', '16', '--json', '-t', '1']));
  const fixed = await startServer(TINY, ['--max-seqs', '4']);
  workers.push(fixed);
  router = await startRouter(['--worker', fixed.baseURL, '--health-interval', '0.2']);
  workers.push(await startServer(TINY, ['--max-seqs', '8', '--join', router.baseURL, '--price-per-hour', '0.5',
    '--profile-json', profile]));
  workers.push(await startServer(TINY, ['--max-seqs', '16', '--join', router.baseURL, '--price-per-hour', '2']));
  fs.rmSync(profile, { force: true });
  await waitFor('3 healthy workers', async () => (await healthy()) === 3);
  client = new OpenAI({ baseURL: `${router.baseURL}/v1`, apiKey: 'none', maxRetries: 0 });
});

after(async () => {
  for (const w of workers) await w.stop();
  if (router) assert.equal(await router.stop(), 0);
});

test('health and the union of models', async () => {
  assert.equal((await fetch(`${router.baseURL}/health`)).status, 200);
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['aidreams-260k']);
});

test('chat and completions, streamed and not, through the router', async () => {
  const chat = await client.chat.completions.create({
    model: 'aidreams-260k', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8, temperature: 0,
  });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.usage.completion_tokens, 8);
  assert.ok(chat.choices[0].message.content.length > 0);

  let streamed = '';
  const stream = await client.chat.completions.create({
    model: 'aidreams-260k', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8, temperature: 0, stream: true,
  });
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(streamed, chat.choices[0].message.content);  // greedy: same on every worker

  const text = await client.completions.create({ model: 'aidreams-260k', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
  assert.equal(text.object, 'text_completion');
  let streamedText = '';
  const s2 = await client.completions.create({
    model: 'aidreams-260k', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, stream: true,
  });
  for await (const chunk of s2) streamedText += chunk.choices[0]?.text ?? '';
  assert.equal(streamedText, text.choices[0].text);
});

test('cost-slo sends an idle fleet\'s requests to the profiled worker that meets the SLO', async () => {
  const key = `anychip_router_worker_requests_total{worker="${workers[1].baseURL}"}`;
  const before = (await metrics(router.baseURL))[key];
  for (let i = 0; i < 5; ++i) await client.completions.create({ model: 'aidreams-260k', prompt: 'Once', max_tokens: 2 });
  assert.equal((await metrics(router.baseURL))[key] - before, 5);
});

test("a worker's request errors pass through as the worker's OpenAI errors", async () => {
  await assert.rejects(client.completions.create({ model: 'aidreams-260k', prompt: 'x', max_tokens: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400);
  const r = await fetch(`${router.baseURL}/v1/nowhere`);
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.code, 'unknown_url');
});

test('a worker killed under load: no request lost or hung', async () => {
  const before = await metrics(router.baseURL);
  const run = new Promise((resolve, reject) => {
    execFile(BIN, ['loadgen', '--url', router.baseURL, '--endpoint', 'completions', '--concurrency', '16',
      '--requests', '200', '--prompt-tokens', '4', '--gen-tokens', '100', '--timeout', '30', '--json'],
    { timeout: 120000 }, (err, stdout, stderr) => {
      // loadgen exits 1 when requests fail; the report still comes on stdout.
      if (!stdout) reject(new Error(`loadgen: ${err} ${stderr}`)); else resolve(JSON.parse(stdout));
    });
  });
  // Kill the busiest worker, so the kill surely hits requests in flight (cost-slo sends most
  // traffic to the cheap profiled worker).
  let victim, inFlight = 0;
  await waitFor('requests in flight', async () => {
    const m = await metrics(router.baseURL);
    for (const w of workers) {
      const n = m[`anychip_router_worker_in_flight{worker="${w.baseURL}"}`] ?? 0;
      if (n > inFlight) { inFlight = n; victim = w; }
    }
    return inFlight >= 4;
  });
  victim.proc.kill('SIGKILL');
  const r = await run;
  console.log(`killed ${victim.baseURL} with ${inFlight} in flight: ${r.completed} completed, ${r.failed} cut streams`);
  assert.equal(r.completed + r.failed, 200, JSON.stringify(r));
  for (const [reason, n] of Object.entries(r.failure_reasons)) {
    // Only streams the dead worker had started may fail, and only with the router's error event.
    assert.match(reason, /server error in stream: The worker serving this stream failed/, `${n}x ${reason}`);
  }
  assert.ok(r.completed >= 200 - 16, JSON.stringify(r.failure_reasons));
  const after = await metrics(router.baseURL);
  assert.equal(after['anychip_router_broken_streams_total'] - before['anychip_router_broken_streams_total'], r.failed);
  // Requests sent to it after the kill (before it was dropped) went elsewhere invisibly.
  console.log(`retries: ${after['anychip_router_retries_total'] - before['anychip_router_retries_total']}`);
  // Dropped (no heartbeats, or failed health checks) within ~3 s; the router still serves.
  await waitFor('the killed worker to be dropped', async () => (await healthy()) === 2, 10000);
  const ok = await client.completions.create({ model: 'aidreams-260k', prompt: 'Once', max_tokens: 4 });
  assert.equal(ok.usage.completion_tokens, 4);
});
