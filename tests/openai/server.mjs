// Starts and stops `anychip serve` for the tests: --port 0, the port read from the listening line
// on stderr, ready when /health says ok. Paths come from the environment run.sh sets.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.ANYCHIP_BIN ?? path.resolve(here, '../../build/anychip');
export const SOURCE = path.resolve(here, '../..');
export const SHARED = process.env.ANYCHIP_SHARED ?? path.resolve(SOURCE, '../shared');
export const TINY = path.join(SOURCE, 'models/aidreams-260k.gguf');

export async function startServer(model, extraArgs = []) {
  // ANYCHIP_SERVE_ARGS (e.g. "--device vulkan") runs the whole suite on another backend.
  const envArgs = (process.env.ANYCHIP_SERVE_ARGS ?? '').split(' ').filter(Boolean);
  const args = ['serve', '-m', model, '--host', '127.0.0.1', '--port', '0', '--threads', '1', ...envArgs, ...extraArgs];
  const proc = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = once(proc, 'exit');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s:\n${log}`)), 30000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}:\n${log}`)); });
  });
  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    const r = await fetch(`${baseURL}/health`).catch(() => null);
    if (r && r.status === 200) break;
    if (r) await r.arrayBuffer();
    if (Date.now() > deadline) throw new Error(`not ready in 30 s:\n${log}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  return {
    proc,
    port,
    baseURL,
    log: () => log,
    // SIGTERM and the exit code.
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

// Starts `anychip route` on `port` (0: any free one; ready once listening; workers may join later).
export async function startRouter(extraArgs = [], { port: wanted = 0 } = {}) {
  const proc = spawn(BIN, ['route', '--host', '127.0.0.1', '--port', String(wanted), ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = once(proc, 'exit');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s:\n${log}`)), 30000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`route exited with ${code}:\n${log}`)); });
  });
  return {
    proc,
    port,
    baseURL: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

// The CLI's own answers, to compare the server with.
export function tokenize(model, text, { bos = true } = {}) {
  const out = execFileSync(BIN, ['tokenize', '-m', model, '--json', ...(bos ? [] : ['--no-bos']), text]);
  return JSON.parse(out.toString());
}

// The server's device (from ANYCHIP_SERVE_ARGS), so `run` is compared on the same backend.
function deviceArgs() {
  const a = (process.env.ANYCHIP_SERVE_ARGS ?? '').split(' ').filter(Boolean);
  const i = a.indexOf('--device');
  return i >= 0 && i + 1 < a.length ? ['--device', a[i + 1]] : [];
}

export function runGreedy(model, prompt, n) {
  const out = execFileSync(BIN, ['run', '-m', model, '-p', prompt, '-n', String(n), '--temp', '0', '--json', '-t', '1',
    ...deviceArgs()]);
  return JSON.parse(out.toString());
}

// ChatML as the server falls back to for models without a template (src/template/default_template.h).
export const CHATML = path.join(here, 'chatml.jinja');

export function renderChat(templateFile, messages) {
  const file = path.join(os.tmpdir(), `anychip-msgs-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(messages));
  try {
    return execFileSync(BIN, ['template', '--template', templateFile, '--messages', file, '--add-generation-prompt']).toString();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

export async function metrics(baseURL) {
  const text = await (await fetch(`${baseURL}/metrics`)).text();
  const values = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return values;
}

// The router's GET /fleet.
export async function fleet(baseURL) {
  const r = await fetch(`${baseURL}/fleet`);
  if (r.status !== 200) throw new Error(`GET /fleet: HTTP ${r.status}`);
  return r.json();
}

// Polls cond() every 100 ms until it is true; throws after ms, with log() in the message.
export async function waitFor(what, cond, ms = 15000, log = () => '') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A TCP port free right now (bound and released: for servers that cannot take port 0).
export async function freePort() {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
