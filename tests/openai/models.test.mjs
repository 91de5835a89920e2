// The conformance models of ../shared (llama, qwen2, qwen3 shapes, quantized) through the server:
// greedy completions equal `anychip run`, chat and streaming work on each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { startServer, SHARED, TINY, runGreedy, tokenize, renderChat } from './server.mjs';

const MODELS = ['c-llama-s7-q4_k_m.gguf', 'c-qwen2-s7-q8_0.gguf', 'c-qwen3-s7-q4_k_m.gguf'];

for (const name of MODELS) {
  const file = path.join(SHARED, 'conformance', name);
  test(name, { skip: !fs.existsSync(file) && `${file} not found` }, async () => {
    const server = await startServer(file, ['--alias', 'conf']);
    try {
      const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.baseURL}/v1`, maxRetries: 0 });
      const prompt = fs.readFileSync(file.replace(/\.gguf$/, '.p0.prompt'), 'utf8');
      const expected = runGreedy(file, prompt, 12);
      const r = await client.completions.create({ model: 'conf', prompt, max_tokens: 12, temperature: 0, ignore_eos: true });
      assert.equal(r.choices[0].text, expected.text);
      assert.equal(r.usage.prompt_tokens, expected.prompt_ids.length);
      assert.equal(r.usage.completion_tokens, 12);

      const chat = await client.chat.completions.create({ model: 'conf', messages: [{ role: 'user', content: prompt }], max_tokens: 6, temperature: 0 });
      assert.equal(chat.choices[0].message.role, 'assistant');
      assert.ok(chat.usage.completion_tokens >= 1 && chat.usage.completion_tokens <= 6);

      let text = '';
      for await (const c of await client.completions.create({ prompt, max_tokens: 12, temperature: 0, ignore_eos: true, stream: true })) {
        text += c.choices[0].text;
      }
      assert.equal(text, expected.text);
    } finally {
      assert.equal(await server.stop(), 0, server.log());
    }
  });
}

// --chat-template FILE: the prompt is the file's rendering (exact usage), and a conversation the
// template refuses (Gemma raises on a system turn) is a 400 on 'messages', not a server error.
const TEMPLATES = path.join(SHARED, 'templates');
test('--chat-template renders with the given template', { skip: !fs.existsSync(TEMPLATES) && 'no templates' }, async () => {
  const model = path.join(SHARED, 'conformance', 'c-qwen2-s7-q8_0.gguf');
  const qwen = path.join(TEMPLATES, 'Qwen-Qwen2.5-7B-Instruct.jinja');
  const server = await startServer(model, ['--chat-template', qwen]);
  try {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.baseURL}/v1`, maxRetries: 0 });
    const messages = [{ role: 'user', content: 'Hello there' }];
    const r = await client.chat.completions.create({ messages, max_tokens: 3, temperature: 0, ignore_eos: true });
    assert.equal(r.usage.prompt_tokens, tokenize(model, renderChat(qwen, messages), { bos: false }).length);
  } finally {
    assert.equal(await server.stop(), 0, server.log());
  }
  const gemma = await startServer(TINY, ['--chat-template', path.join(TEMPLATES, 'google-gemma-2-2b-it.jinja')]);
  try {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gemma.baseURL}/v1`, maxRetries: 0 });
    const e = await client.chat.completions.create({ messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'y' }] })
      .catch((err) => err);
    assert.equal(e.status, 400);
    assert.equal(e.param, 'messages');
    assert.match(e.message, /System role not supported/);
  } finally {
    assert.equal(await gemma.stop(), 0, gemma.log());
  }
});
