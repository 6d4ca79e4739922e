import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { finalParams, flotilla, flotillaAsync, referenceParams, freePort, lastJson, metricsOf, relativeL2, stepsLogged, waitFor } from './cli.js';

const base = mkdtempSync(join(tmpdir(), 'flotilla-faults-'));
const TOKEN = 'fault-test-token';
const env = { FLOTILLA_TOKEN: TOKEN };
// 60 steps of batch 100 with dropout and SyncBN: long enough to break things mid-run.
const RUN = ['--steps', '60', '--batch', '100', '--train-limit', '2000', '--test-limit', '300', '--seed', '5'];

let reference: Float32Array;
beforeAll(() => { reference = referenceParams(RUN, join(base, 'reference')); });

type Proc = ReturnType<typeof flotillaAsync>;

async function startCoordinator(out: string, workers: number, extra: string[] = []): Promise<{ coordinator: Proc; url: string }> {
  const coordinator = flotillaAsync(['coordinator', '--port', '0', '--workers', String(workers), ...RUN, '--out', out, '--json', ...extra], { env });
  const port = await waitFor('the coordinator to listen', () => /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(coordinator.output().stderr)?.[1], 60_000);
  return { coordinator, url: `ws://127.0.0.1:${port}` };
}

const startWorker = (url: string): Proc => flotillaAsync(['worker', '--connect', url, '--retry-for', '30'], { env, timeoutMs: 240_000 });

describe('worker loss', () => {
  it('one of 3 workers killed with SIGKILL mid-run: the run completes with the uninterrupted parameters', async () => {
    const out = join(base, 'sigkill');
    const { coordinator, url } = await startCoordinator(out, 3);
    const workers = [startWorker(url), startWorker(url), startWorker(url)];
    await waitFor('10 steps', () => stepsLogged(out) >= 10);
    workers[1].child.kill('SIGKILL');
    const result = await coordinator.done;
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/worker \d left: connection closed/);
    const summary = lastJson(result.stdout);
    expect(summary).toMatchObject({ steps: 60, workers: 2, dropped_workers: 1 });
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-4);
    for (const w of [workers[0], workers[2]]) expect((await w.done).status).toBe(0);
    // CPU per step: the coordinator's every step; the workers' every step except the first (a
    // connection's first gradient would carry its start-up) and any redone one (its abandoned
    // attempt's CPU went out with gradients that were dropped).
    const redone = [...new Set([...result.stderr.matchAll(/step (\d+) redone/g)].map((m) => Number(m[1])))];
    const records = metricsOf(out, 'step');
    for (const r of records) expect(r.coordinator_cpu_ms).toBeGreaterThan(0);
    expect(records.filter((r) => r.workers_cpu_ms === undefined).map((r) => r.step)).toEqual([0, ...redone].sort((a, b) => a - b));
    for (const r of records.filter((r) => r.workers_cpu_ms !== undefined)) expect(r.workers_cpu_ms).toBeGreaterThan(0);
  });

  it('one of 3 workers stopped with SIGSTOP: dropped within the heartbeat timeout, rejoins after SIGCONT, results unchanged', async () => {
    const out = join(base, 'sigstop');
    const { coordinator, url } = await startCoordinator(out, 3, ['--heartbeat-timeout', '3']);
    const workers = [startWorker(url), startWorker(url), startWorker(url)];
    await waitFor('10 steps', () => stepsLogged(out) >= 10);
    const stoppedAt = Date.now();
    workers[2].child.kill('SIGSTOP');
    await waitFor('the heartbeat timeout', () => /left: heartbeat timeout: silent for/.test(coordinator.output().stderr), 15_000);
    // Within the 3 s timeout plus the watchdog's period (at most 1 s) and some scheduling slack.
    expect(Date.now() - stoppedAt).toBeLessThan(6_000);
    workers[2].child.kill('SIGCONT');
    const result = await coordinator.done;
    expect(result.status).toBe(0);
    const summary = lastJson(result.stdout);
    expect(summary.steps).toBe(60);
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-4);
    // The stopped worker either rejoined (and left with the bye) or was refused cleanly.
    expect((await workers[2].done).status).toBe(0);
  });
});

describe('coordinator resume', () => {
  it('killed with SIGKILL and resumed from its run folder: the final parameters equal an uninterrupted run within 1e-5', async () => {
    const out = join(base, 'resume');
    const port = await freePort();
    const first = flotillaAsync(['coordinator', '--port', String(port), '--workers', '2', ...RUN, '--checkpoint-every', '5', '--out', out, '--json'], { env });
    const url = `ws://127.0.0.1:${port}`;
    await waitFor('the coordinator to listen', () => /listening/.test(first.output().stderr));
    const workers = [startWorker(url), startWorker(url)];
    await waitFor('23 steps', () => stepsLogged(out) >= 23);
    first.child.kill('SIGKILL');
    await first.done;
    // The workers keep knocking; a resumed coordinator on the same port takes them back.
    const second = flotillaAsync(['coordinator', '--port', String(port), '--workers', '2', '--resume', out, '--json'], { env });
    const result = await second.done;
    expect(result.stderr).toMatch(/resumed at step (20|25)/);
    expect(result.status).toBe(0);
    expect(lastJson(result.stdout)).toMatchObject({ steps: 60 });
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-5);
    // The redone steps replace their first records: metrics.jsonl has every step once, in order.
    const steps = metricsOf(out, 'step').map((r) => r.step);
    expect(steps).toEqual(Array.from({ length: 60 }, (_, i) => i));
    for (const w of workers) expect((await w.done).status).toBe(0);
  });

  it('a missing run folder or one without checkpoints is a clear error', () => {
    const r = flotilla(['coordinator', '--resume', join(base, 'nowhere')], { env, timeoutMs: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Cannot read config .*nowhere\/config\.json: no such file/);
  });
});

describe('flotilla train as an elastic launcher', () => {
  it('restarts a crashed local worker process and finishes with the uninterrupted parameters', async () => {
    const out = join(base, 'restart');
    const run = flotillaAsync(['train', '--workers', '2', ...RUN, '--out', out, '--json']);
    await waitFor('10 steps', () => stepsLogged(out) >= 10);
    const { spawnSync } = await import('node:child_process');
    const children = spawnSync('pgrep', ['-P', String(run.child.pid), '-f', 'worker'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    expect(children).toHaveLength(2);
    process.kill(Number(children[0]), 'SIGKILL');
    const result = await run.done;
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/worker process \d exited with SIGKILL.*; restarting it \(1 of 3\)/);
    expect(lastJson(result.stdout)).toMatchObject({ steps: 60, workers: 2 });
    expect(relativeL2(finalParams(out), reference)).toBeLessThan(1e-4);
  });
});
