import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, finalParams, flotillaAsync, lastJson, referenceParams, relativeL2, stepsLogged, waitFor } from './cli.js';

/**
 * A worker on its own network host: a network namespace joined to this one by a veth link
 * that the test takes down and brings back. Needs root and iproute2.
 */
const id = process.pid % 200;
const NS = `flotilla-t${id}`;
const HOST_IF = `flv${id}a`;
const NS_IF = `flv${id}b`;
const HOST_IP = `10.231.${id}.1`;
const NS_IP = `10.231.${id}.2`;

function sh(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, err: (r.stderr ?? '') + (r.error?.message ?? '') };
}

function setUpNamespace(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = sh(['ip', 'netns', 'add', NS]);
  if (!probe.ok) return `cannot create a network namespace: ${probe.err.trim()}`;
  for (const cmd of [
    ['ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF],
    ['ip', 'link', 'set', NS_IF, 'netns', NS],
    ['ip', 'addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF],
    ['ip', 'link', 'set', HOST_IF, 'up'],
    ['ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF],
    ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up'],
    ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up'],
  ]) {
    const r = sh(cmd);
    if (!r.ok) return `${cmd.join(' ')} failed: ${r.err.trim()}`;
  }
  return null;
}

const unavailable = setUpNamespace();
if (unavailable) console.warn(`netns test skipped: ${unavailable} (run as root with iproute2 to include it)`);

afterAll(() => {
  sh(['ip', 'netns', 'del', NS]);
  sh(['ip', 'link', 'del', HOST_IF]);
});

describe('a worker on another network host', () => {
  it.skipIf(unavailable !== null)('is dropped within the heartbeat timeout when its link is cut, the run goes on, and it rejoins when the link returns', async () => {
    const base = mkdtempSync(join(tmpdir(), 'flotilla-netns-'));
    const RUN = ['--steps', '400', '--epochs', '20', '--batch', '100', '--train-limit', '2000', '--test-limit', '300', '--seed', '2'];
    const reference = referenceParams(RUN, join(base, 'reference'));
    const out = join(base, 'run');
    const env = { FLOTILLA_TOKEN: 'netns-token' };
    const coordinator = flotillaAsync(['coordinator', '--host', HOST_IP, '--port', '0', '--workers', '2', '--heartbeat-timeout', '3', ...RUN, '--out', out, '--json'], { env, timeoutMs: 240_000 });
    const port = await waitFor('the coordinator', () => new RegExp(`listening on ws://${HOST_IP.replace(/\./g, '\\.')}:(\\d+)`).exec(coordinator.output().stderr)?.[1]);
    const url = `ws://${HOST_IP}:${port}`;
    const local = flotillaAsync(['worker', '--connect', url], { env, timeoutMs: 240_000 });
    const remote = spawn('ip', ['netns', 'exec', NS, process.execPath, CLI, 'worker', '--connect', url, '--retry-for', '120'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const remoteDone = new Promise<number | null>((resolve) => remote.on('exit', resolve));
    try {
      await waitFor('20 steps', () => stepsLogged(out) >= 20, 120_000);
      const cutAt = Date.now();
      expect(sh(['ip', 'link', 'set', HOST_IF, 'down']).ok).toBe(true);
      await waitFor('the remote worker to be dropped', () => /left: heartbeat timeout/.test(coordinator.output().stderr), 20_000);
      expect(Date.now() - cutAt).toBeLessThan(6_000);
      const stepsAtCut = stepsLogged(out);
      await waitFor('training to go on without it', () => stepsLogged(out) >= stepsAtCut + 20, 60_000);
      expect(sh(['ip', 'link', 'set', HOST_IF, 'up']).ok).toBe(true);
      await waitFor('the remote worker to rejoin', () => (coordinator.output().stderr.match(/joined/g) ?? []).length >= 3, 60_000);
      const result = await coordinator.done;
      expect(result.status).toBe(0);
      const summary = lastJson(result.stdout);
      expect(summary.steps, JSON.stringify(summary)).toBe(400);
      // The redone step sums the gradient in another order (1 worker, not 2): the losses agree
      // to 1e-7 for the next 100 steps, then, as the training loss on these 2,000 samples falls
      // towards 0.004, Adam amplifies that rounding to about 1e-3 by step 400. The 60-step
      // fault tests check equality at 1e-4; here: the same run, learned as well.
      expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-2);
      expect(summary.test_accuracy).toBeGreaterThan(0.9);
      expect((await local.done).status).toBe(0);
    } finally {
      remote.kill('SIGKILL');
      coordinator.child.kill('SIGKILL');
      local.child.kill('SIGKILL');
      await remoteDone;
    }
  });
});
