// Every error a client can provoke, with its status, OpenAI-style body and param, as the official
// client surfaces them (and raw HTTP where the client cannot send the request).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, TINY } from './server.mjs';

const KEY = 'test-key';
let server;
let client;

before(async () => {
  server = await startServer(TINY, ['--api-key', KEY]);
  client = new OpenAI({ apiKey: KEY, baseURL: `${server.baseURL}/v1`, maxRetries: 0 });
});

after(async () => {
  assert.equal(await server.stop(), 0, server.log());
});

const hello = [{ role: 'user', content: 'Hello' }];

// The APIError the client throws for a request.
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, String(e));
    return e;
  }
  assert.fail('the request succeeded');
}

function checkBody(body) {
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
}

async function raw(path, init = {}) {
  const r = await fetch(`${server.baseURL}${path}`, {
    ...init, headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

test('401 without the right API key; /health stays open', async () => {
  const wrong = new OpenAI({ apiKey: 'nope', baseURL: `${server.baseURL}/v1`, maxRetries: 0 });
  const e = await failure(wrong.chat.completions.create({ messages: hello, max_tokens: 2 }));
  assert.ok(e instanceof OpenAI.AuthenticationError);
  assert.equal(e.status, 401);
  const none = await fetch(`${server.baseURL}/v1/models`);
  assert.equal(none.status, 401);
  checkBody(await none.json());
  const health = await fetch(`${server.baseURL}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
});

test('400 names the field', async () => {
  const cases = [
    [{ messages: hello, max_tokens: 'abc' }, 'max_tokens'],
    [{ messages: hello, temperature: -1 }, 'temperature'],
    [{ messages: 'Hello' }, 'messages'],
    [{ messages: [] }, 'messages'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: hello, n: 2 }, 'n'],
    [{ messages: hello, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ messages: hello, top_p: 7 }, 'top_p'],
  ];
  for (const [body, param] of cases) {
    const e = await failure(client.chat.completions.create(body));
    assert.ok(e instanceof OpenAI.BadRequestError, `${JSON.stringify(body)}: ${e}`);
    assert.equal(e.status, 400);
    assert.equal(e.param, param, JSON.stringify(body));
    assert.equal(e.type, 'invalid_request_error');
  }
  const t = await failure(client.completions.create({ prompt: 5 }));
  assert.equal(t.status, 400);
  assert.equal(t.param, 'prompt');
});

test('400 when prompt plus max_tokens exceeds the context', async () => {
  const long = await failure(client.completions.create({ prompt: 'I dreamed', max_tokens: 1000 }));
  assert.equal(long.status, 400);
  assert.equal(long.param, 'max_tokens');
  const huge = await failure(client.chat.completions.create({ messages: [{ role: 'user', content: 'dream '.repeat(300) }] }));
  assert.equal(huge.status, 400);
  assert.equal(huge.param, 'messages');
  const ids = await failure(client.completions.create({ prompt: [1, 99999] }));
  assert.equal(ids.status, 400);
  assert.equal(ids.param, 'prompt');
});

test('404 model_not_found for another model; a missing model is fine', async () => {
  const e = await failure(client.chat.completions.create({ model: 'gpt-4o', messages: hello, max_tokens: 2 }));
  assert.ok(e instanceof OpenAI.NotFoundError);
  assert.equal(e.code, 'model_not_found');
  assert.equal(e.param, 'model');
  const m = await failure(client.models.retrieve('gpt-4o'));
  assert.equal(m.status, 404);
  const ok = await client.chat.completions.create({ messages: hello, max_tokens: 2 });
  assert.equal(ok.choices.length, 1);
});

test('malformed JSON, unknown path, wrong method, oversized body', async () => {
  let r = await raw('/v1/chat/completions', { method: 'POST', body: '{"messages": [' });
  assert.equal(r.status, 400);
  checkBody(r.body);
  assert.equal(r.body.error.param, null);
  r = await raw('/v1/nothing', { method: 'POST', body: '{}' });
  assert.equal(r.status, 404);
  checkBody(r.body);
  r = await raw('/v1/chat/completions', { method: 'GET' });
  assert.equal(r.status, 405);
  checkBody(r.body);
  r = await raw('/v1/completions', { method: 'PUT' });
  assert.equal(r.status, 405);
  r = await raw('/v1/chat/completions', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(9 << 20) }] }) });
  assert.equal(r.status, 413);
  checkBody(r.body);
  // The server is still healthy after all that.
  const ok = await client.completions.create({ prompt: 'I', max_tokens: 2 });
  assert.equal(ok.choices.length, 1);
});
