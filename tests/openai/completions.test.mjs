// Chat and text completions through the official openai client (v4) against `anychip serve` on
// the tiny real model: shapes, streaming, exact usage, greedy text equal to `anychip run`, stop
// sequences, seeded sampling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, TINY, tokenize, runGreedy, renderChat, CHATML, metrics } from './server.mjs';

const KEY = 'test-key';
let server;
let client;

before(async () => {
  server = await startServer(TINY, ['--api-key', KEY]);
  client = new OpenAI({ apiKey: KEY, baseURL: `${server.baseURL}/v1`, maxRetries: 0, timeout: 60000 });
});

after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, server.log());
});

async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

test('models lists the served model by its file stem', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), ['aidreams-260k']);
  const one = await client.models.retrieve('aidreams-260k');
  assert.equal(one.id, 'aidreams-260k');
});

test('text completion: greedy text equals anychip run, usage is exact', async () => {
  const prompt = 'I dreamed';
  const expected = runGreedy(TINY, prompt, 24);
  const r = await client.completions.create({
    model: 'aidreams-260k', prompt, max_tokens: 24, temperature: 0, ignore_eos: true,
  });
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.model, 'aidreams-260k');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].text, expected.text);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.prompt_tokens, tokenize(TINY, prompt).length);
  assert.equal(r.usage.prompt_tokens, expected.prompt_ids.length);
  assert.equal(r.usage.completion_tokens, 24);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 24);

  // The same prompt as token ids.
  const ids = await client.completions.create({ prompt: expected.prompt_ids, max_tokens: 24, temperature: 0, ignore_eos: true });
  assert.equal(ids.choices[0].text, expected.text);
  assert.equal(ids.usage.prompt_tokens, expected.prompt_ids.length);
});

test('text completion streamed: same text, usage chunk, then the stream ends', async () => {
  const prompt = 'I dreamed';
  const expected = runGreedy(TINY, prompt, 20);
  const chunks = await collect(await client.completions.create({
    prompt, max_tokens: 20, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true },
  }));
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: expected.prompt_ids.length, completion_tokens: 20, total_tokens: expected.prompt_ids.length + 20 });
  const body = chunks.slice(0, -1);
  assert.equal(body.at(-1).choices[0].finish_reason, 'length');
  for (const c of body.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null);
  assert.equal(body.map((c) => c.choices[0].text).join(''), expected.text);
  assert.ok(body.every((c) => c.object === 'text_completion' && c.id === body[0].id));
});

test('chat completion: ChatML prompt, exact usage, OpenAI shape', async () => {
  const messages = [{ role: 'system', content: 'You dream.' }, { role: 'user', content: 'Hello' }];
  const promptTokens = tokenize(TINY, renderChat(CHATML, messages), { bos: false }).length;
  const r = await client.chat.completions.create({
    model: 'aidreams-260k', messages, max_tokens: 10, temperature: 0, ignore_eos: true,
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(typeof r.created, 'number');
  assert.equal(r.choices[0].index, 0);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.choices[0].logprobs, null);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.deepEqual(r.usage, { prompt_tokens: promptTokens, completion_tokens: 10, total_tokens: promptTokens + 10 });

  // Content given as text parts renders the same prompt.
  const parts = await client.chat.completions.create({
    messages: [{ role: 'system', content: [{ type: 'text', text: 'You dream.' }] }, { role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    max_completion_tokens: 10, temperature: 0, ignore_eos: true,
  });
  assert.equal(parts.usage.prompt_tokens, promptTokens);
  assert.equal(parts.choices[0].message.content, r.choices[0].message.content);
});

test('chat completion streamed: role first, deltas, finish, usage', async () => {
  const messages = [{ role: 'user', content: 'Hello' }];
  const whole = await client.chat.completions.create({ messages, max_tokens: 12, temperature: 0, ignore_eos: true });
  const chunks = await collect(await client.chat.completions.create({
    messages, max_tokens: 12, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true },
  }));
  assert.equal(chunks[0].object, 'chat.completion.chunk');
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, whole.usage);
  const last = chunks.at(-2);
  assert.equal(last.choices[0].finish_reason, 'length');
  assert.deepEqual(last.choices[0].delta, {});
  const text = chunks.slice(1, -2).map((c) => c.choices[0].delta.content).join('');
  assert.equal(text, whole.choices[0].message.content);
  for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);

  // Without include_usage there is no usage chunk.
  const plain = await collect(await client.chat.completions.create({ messages, max_tokens: 4, temperature: 0, ignore_eos: true, stream: true }));
  assert.equal(plain.at(-1).choices[0].finish_reason, 'length');
  assert.ok(plain.every((c) => c.usage === undefined));
});

test('stop sequences end the text before the stop string', async () => {
  const prompt = 'I dreamed';
  const full = runGreedy(TINY, prompt, 30).text;
  const stop = ' the';
  const cut = full.indexOf(stop);
  assert.ok(cut > 0, `greedy text has no '${stop}': ${full}`);
  const r = await client.completions.create({ prompt, max_tokens: 30, temperature: 0, stop: [stop, 'zzzz'] });
  assert.equal(r.choices[0].text, full.slice(0, cut));
  assert.equal(r.choices[0].finish_reason, 'stop');
  const streamed = await collect(await client.completions.create({ prompt, max_tokens: 30, temperature: 0, stop, stream: true }));
  assert.equal(streamed.map((c) => c.choices[0].text).join(''), full.slice(0, cut));
  assert.equal(streamed.at(-1).choices[0].finish_reason, 'stop');
});

test('seeded sampling is reproducible', async () => {
  const ask = (seed) => client.completions.create({ prompt: 'Once', max_tokens: 24, temperature: 1, seed, ignore_eos: true })
    .then((r) => r.choices[0].text);
  const a = await ask(1234);
  assert.equal(await ask(1234), a);
  const others = [await ask(1), await ask(2), await ask(3)];
  assert.ok(others.some((t) => t !== a), 'different seeds should not all give the same text');
});

test('metrics count the requests and tokens', async () => {
  // The engine publishes its gauges after each step, so the last request may still count as
  // running for a moment after its answer arrived.
  let m = await metrics(server.baseURL);
  for (const deadline = Date.now() + 5000; m.anychip_requests_running !== 0 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 20));
    m = await metrics(server.baseURL);
  }
  assert.ok(m['anychip_http_requests_total{code="200"}'] >= 10);
  assert.ok(m.anychip_generation_tokens_total > 100);
  assert.ok(m.anychip_time_to_first_token_seconds_count >= 10);
  assert.equal(m['anychip_time_to_first_token_seconds_bucket{le="+Inf"}'], m.anychip_time_to_first_token_seconds_count);
  assert.ok(m.anychip_kv_blocks_total > 0);
  assert.equal(m.anychip_requests_running, 0);
  assert.ok(m.anychip_prefix_cache_queries_total > 0);
  assert.ok('anychip_prefix_cache_hit_rate' in m && 'anychip_preemptions_total' in m && 'anychip_requests_waiting' in m);
});
