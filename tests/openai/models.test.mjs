// The conformance models of ../shared (llama, qwen2, qwen3 shapes, quantized) through the server:
// greedy completions equal `anychip run`, chat and streaming work on each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { startServer, SHARED, runGreedy } from './server.mjs';

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
