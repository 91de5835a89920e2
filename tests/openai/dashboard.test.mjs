// The router's dashboard (GET /) in a real browser (issue #6, acceptance 5): headless Chromium
// loads the page, which polls GET /fleet and /fleet/history, and the DOM it builds lists every
// worker with its price and health. run.sh skips this file when chromium is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TINY, fleet, startRouter, startServer, waitFor } from './server.mjs';

let router, workers = [], generated = 0;

// Chromium's DOM after the page has run for a few seconds of (virtual) time.
function dumpDom(url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'anychip-chromium-'));
  return new Promise((resolve, reject) => {
    execFile('chromium', ['--headless', '--disable-gpu', '--no-sandbox', `--user-data-dir=${profile}`,
      '--virtual-time-budget=5000', '--dump-dom', url], { timeout: 60000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      fs.rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium: ${err}\n${stderr}`)); else resolve(stdout);
    });
  });
}

before(async () => {
  router = await startRouter(['--health-interval', '0.2']);
  workers.push(await startServer(TINY, ['--join', router.baseURL, '--price-per-hour', '0.4']));
  workers.push(await startServer(TINY, ['--join', router.baseURL, '--price-per-hour', '1.25']));
  await waitFor('2 workers', async () => (await fleet(router.baseURL)).totals.healthy_workers === 2, 10000, () => router.log());
  for (let i = 0; i < 8; ++i) {
    const r = await fetch(`${router.baseURL}/v1/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt: 'Once', max_tokens: 8 }),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    generated += JSON.parse(text).usage.completion_tokens;  // up to 8: the model may end sooner
  }
});

after(async () => {
  for (const w of workers) await w.stop();
  if (router) assert.equal(await router.stop(), 0);
});

test('the page is one self-contained HTML document', async () => {
  const r = await fetch(`${router.baseURL}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const html = await r.text();
  assert.match(html, /<canvas id="c-tps">/);
  // Nothing loaded from elsewhere: no external scripts, styles, images or fonts.
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|<img|@import|url\(/);
});

test('GET /fleet reports each worker with its price, tokens and cost', async () => {
  const f = await fleet(router.baseURL);
  assert.equal(f.policy, 'cost-slo');
  assert.deepEqual(f.workers.map((w) => w.id).sort(), workers.map((w) => w.baseURL).sort());
  assert.deepEqual(f.workers.map((w) => w.price_per_hour).sort(), [0.4, 1.25]);
  assert.equal(f.totals.generated_tokens, generated);
  assert.ok(f.totals.cost > 0, JSON.stringify(f.totals));
  for (const w of f.workers) assert.deepEqual(w.sources, ['joined']);
});

test('headless Chromium renders a row per worker', async () => {
  const dom = await dumpDom(`${router.baseURL}/`);
  for (const w of workers) {
    const row = dom.match(new RegExp(`<tr data-worker="${w.baseURL}">(.*?)</tr>`, 's'));
    assert.ok(row, `no row for ${w.baseURL} in:\n${dom.slice(0, 4000)}`);
    assert.match(row[1], /healthy/);
    assert.match(row[1], /aidreams-260k/);
  }
  assert.match(dom, /\$0\.40<span class="minor">\/h/);
  assert.match(dom, /\$1\.25<span class="minor">\/h/);
  assert.match(dom, /id="k-workers">2 \/ 2</);
  assert.match(dom, /id="status">serving</);
});
