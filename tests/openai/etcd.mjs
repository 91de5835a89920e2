// Starts a single-member etcd on loopback for a test: free ports, a temporary data directory
// removed at stop. Needs the `etcd` binary (Debian: etcd-server).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.mjs';

export async function startEtcd() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anychip-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const url = `http://127.0.0.1:${client}`;
  const proc = spawn('etcd', [
    '--name', 'test', '--data-dir', dir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `test=http://127.0.0.1:${peer}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d.toString(); });
  const exited = once(proc, 'exit');
  const deadline = Date.now() + 20000;
  for (;;) {
    const r = await fetch(`${url}/health`).catch(() => null);
    if (r && r.status === 200 && (await r.json()).health === 'true') break;
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}:\n${log}`);
    if (Date.now() > deadline) throw new Error(`etcd not healthy in 20 s:\n${log}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    url,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
