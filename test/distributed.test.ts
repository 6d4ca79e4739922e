import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBlasUnavailable } from '@flotilla/blas';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointParams, finalParams, flotilla, flotillaAsync, lastJson, metricsOf, relativeL2, stepsLogged, waitFor } from './cli.js';

const base = mkdtempSync(join(tmpdir(), 'flotilla-e2e-'));
// 20 steps of batch 60 with dropout on: enough for masks, BatchNorm and Adam to matter.
const DATA = ['--batch', '60', '--train-limit', '1200', '--test-limit', '500', '--seed', '3'];
const RUN = ['--steps', '20', ...DATA, '--json'];

/** grad_parts of each step in a run's metrics.jsonl: gradient parts the coordinator received. */
function gradParts(name: string): number[] {
  return metricsOf(join(base, name), 'step').map((m) => m.grad_parts);
}

function train(name: string, extra: string[]): { params: Float32Array; summary: Record<string, unknown> } {
  const out = join(base, name);
  const r = flotilla(['train', ...extra, ...RUN, '--out', out]);
  if (r.status !== 0) throw new Error(`flotilla train ${extra.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { params: finalParams(out), summary: lastJson(r.stdout) };
}

describe('data-parallel training on real processes equals one process', () => {
  let single: ReturnType<typeof train>;
  beforeAll(() => { single = train('1x1', ['--workers', '1', '--threads', '1']); });

  it('2 workers x 1 thread and 2 workers x 2 threads (uneven shards: 60 rows over 4 threads) match 1 x 1 within 1e-4', () => {
    expect(single.summary).toMatchObject({ steps: 20, workers: 1, threads: 1, skipped_steps: 0 });
    for (const [w, t] of [[2, 1], [2, 2]]) {
      const run = train(`${w}x${t}`, ['--workers', String(w), '--threads', String(t)]);
      expect(run.summary).toMatchObject({ steps: 20, workers: w, threads: w * t });
      expect(relativeL2(run.params, single.params)).toBeLessThan(1e-4);
      // Each worker's own log lands in the run folder.
      for (let i = 0; i < w; i++) expect(readFileSync(join(base, `${w}x${t}`, `worker-${i}.log`), 'utf8')).toMatch(/joined run .* with \d thread/);
      // By default (--bucket-mb 0.25) each worker sends layers 4 to 8 (0.5 MiB) as a part
      // when backward passes the first BatchNorm; the output layer alone is too small.
      expect(gradParts(`${w}x${t}`)).toEqual(new Array(20).fill(w));
    }
  });

  it('gradient parts sent during backward change no bits: --bucket-mb 0.001 (a part at each BatchNorm) equals whole gradients', () => {
    const args = ['--workers', '2', '--threads', '2'];
    const whole = train('2x2-whole', [...args, '--bucket-mb', '0']);
    const parts = train('2x2-parts', [...args, '--bucket-mb', '0.001']);
    expect(gradParts('2x2-whole')).toEqual(new Array(20).fill(0));
    expect(gradParts('2x2-parts')).toEqual(new Array(20).fill(4));
    expect(parts.params).toEqual(whole.params);
    expect(relativeL2(whole.params, single.params)).toBeLessThan(1e-4);
  });

  it('on OpenBLAS (FLOTILLA_MATMUL=openblas, in every process and thread) 2 x 1 trains the model 1 x 1 does on WebAssembly, within 1e-4', () => {
    const out = join(base, '2x1-openblas');
    const r = flotilla(['train', '--workers', '2', '--threads', '1', ...RUN, '--out', out], { env: { FLOTILLA_MATMUL: 'openblas' } });
    const why = openBlasUnavailable();
    if (why !== null) { // this machine has no OpenBLAS: the run is refused, saying why (blas's tests say whether it should have one)
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`flotilla: FLOTILLA_MATMUL: matmul kernel "openblas" is unavailable here: ${why}`);
      return;
    }
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/computes with matmul kernel/); // every worker reported openblas, as the coordinator uses
    expect(lastJson(r.stdout)).toMatchObject({ steps: 20, workers: 2, skipped_steps: 0 });
    const params = finalParams(out);
    expect(relativeL2(params, single.params)).toBeLessThan(1e-4);
    // Another kernel, other roundings: not the same topology on WebAssembly under another name.
    const onWasm = existsSync(join(base, '2x1')) ? finalParams(join(base, '2x1')) : train('2x1-wasm', ['--workers', '2', '--threads', '1']).params;
    expect(relativeL2(params, onWasm)).toBeGreaterThan(0);
  });

  it('the single-process trainer (--local) computes the same model, on one thread or three', () => {
    const local = train('local', ['--local']);
    expect(relativeL2(local.params, single.params)).toBeLessThan(1e-4);
    // --threads 3: each batch of 60 split over 3 threads of the one process, no sockets.
    const threaded = train('local-3', ['--local', '--threads', '3']);
    expect(threaded.summary).toMatchObject({ steps: 20, threads: 3, skipped_steps: 0 });
    expect(relativeL2(threaded.params, local.params)).toBeLessThan(1e-4);
    // Not the one-thread path under another name: three shards sum in another order.
    expect(relativeL2(threaded.params, local.params)).toBeGreaterThan(0);
  });

  it('--grad-dtype f16 and bf16 change plain SGD by about their rounding (bf16 more than f16), not by a scale', () => {
    // SGD applies the gradient as it is, so a wrong f16 scale or a garbled payload would show
    // in full; Adam would hide a scale error (its update is scale-invariant).
    const sgd = ['--workers', '2', '--threads', '1', '--optimizer', 'sgd', '--lr', '0.05'];
    const exact = train('2x1-sgd', sgd);
    const f16 = train('2x1-sgd-f16', [...sgd, '--grad-dtype', 'f16']);
    const bf16 = train('2x1-sgd-bf16', [...sgd, '--grad-dtype', 'bf16']);
    const f16Error = relativeL2(f16.params, exact.params);
    const bf16Error = relativeL2(bf16.params, exact.params);
    // One gradient round trip is off by 2.1e-4 (f16) and 1.7e-3 (bf16) relative L2; 20 steps
    // with dropout and ReLUs grow that to about 5e-4 and 1.6e-3 here.
    expect(f16Error).toBeGreaterThan(0); // the option is live
    expect(f16Error).toBeLessThan(2e-3);
    expect(bf16Error).toBeGreaterThan(2 * f16Error);
    expect(bf16Error).toBeLessThan(1e-2);
  });

  it('--bn-sync local (per-shard statistics) gives a different model, so the check can fail', () => {
    const run = train('2x2-local', ['--workers', '2', '--threads', '2', '--bn-sync', 'local']);
    expect(relativeL2(run.params, single.params)).toBeGreaterThan(1e-3);
    // Without backward barriers the threads post their progress, and parts still go out
    // during backward (layers 4 to 8 by default, as with SyncBN); they change no bits.
    expect(gradParts('2x2-local')).toEqual(new Array(20).fill(2));
    const whole = train('2x2-local-whole', ['--workers', '2', '--threads', '2', '--bn-sync', 'local', '--bucket-mb', '0']);
    expect(gradParts('2x2-local-whole')).toEqual(new Array(20).fill(0));
    expect(run.params).toEqual(whole.params);
  });
});

describe('a diverging distributed run', () => {
  it('skips its non-finite steps and stops, naming the last good checkpoint; nobody waits for statistics that cannot be sent', () => {
    // SGD at lr 1e30: step 0 is finite, then BatchNorm statistics overflow in the forward pass,
    // inside a SyncBN round, with whole gradients and with gradient parts.
    for (const bucket of ['0', '0.001']) {
      const out = join(base, `diverge-${bucket}`);
      const r = flotilla(['train', '--workers', '2', '--threads', '1', '--optimizer', 'sgd', '--lr', '1e30', '--bucket-mb', bucket,
        '--checkpoint-every', '1', '--steps', '20', ...DATA, '--out', out], { timeoutMs: 120_000 });
      expect(r.status, r.stderr).toBe(1);
      const said = r.stdout + r.stderr;
      for (let step = 1; step <= 5; step++) expect(said).toMatch(new RegExp(`step ${step} skipped: worker [01](, [01])? computed non-finite values`));
      expect(r.stderr).toContain(`5 non-finite steps in a row; stopping. Last good checkpoint: ${join(out, 'checkpoints', 'step-5.safetensors')}`);
      // Skipped steps leave the weights alone: the last checkpoint holds step 0's update, finite.
      const last = checkpointParams(out, 'step-5');
      expect(last.every(Number.isFinite)).toBe(true);
      expect(last).toEqual(checkpointParams(out, 'step-1'));
    }
  });
});

describe('bad input', () => {
  it('a worker with the wrong token is refused with a clear error and the run goes on', async () => {
    const token = 'the-right-token';
    const out = join(base, 'auth');
    const coordinator = flotillaAsync(['coordinator', '--port', '0', '--workers', '1', ...DATA, '--steps', '3', '--out', out, '--json'], { env: { FLOTILLA_TOKEN: token } });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(coordinator.output().stderr);
        if (m) { clearInterval(timer); resolve(Number(m[1])); }
      }, 50);
      void coordinator.done.then(() => { clearInterval(timer); reject(new Error(`coordinator exited: ${coordinator.output().stderr}`)); });
    });
    const url = `ws://127.0.0.1:${port}`;
    const intruder = flotilla(['worker', '--connect', url, '--retry-for', '5'], { env: { FLOTILLA_TOKEN: 'wrong' }, timeoutMs: 60_000 });
    expect(intruder.status).toBe(1);
    expect(intruder.stderr).toMatch(/refused by the coordinator: authentication failed: wrong token/);
    const worker = flotilla(['worker', '--connect', url], { env: { FLOTILLA_TOKEN: token }, timeoutMs: 120_000 });
    expect(worker.status).toBe(0);
    const result = await coordinator.done;
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/refused a connection: authentication failed: wrong token/);
    expect(lastJson(result.stdout)).toMatchObject({ steps: 3, workers: 1 });
    expect(result.stderr + result.stdout).not.toContain(token);
  });

  it('a worker on another matmul kernel is named in a warning, and the run goes on', async () => {
    const out = join(base, 'kernels');
    const coordinator = flotillaAsync(['coordinator', '--port', '0', '--workers', '1', ...DATA, '--steps', '3', '--out', out, '--json'], { env: { FLOTILLA_TOKEN: 'k' } });
    const port = await waitFor('the coordinator to listen', () => /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(coordinator.output().stderr)?.[1], 60_000);
    const worker = flotilla(['worker', '--connect', `ws://127.0.0.1:${port}`], { env: { FLOTILLA_TOKEN: 'k', FLOTILLA_MATMUL: 'wasm-simd' }, timeoutMs: 120_000 });
    expect(worker.status).toBe(0);
    const result = await coordinator.done;
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/worker 0 \(.+\) computes with matmul kernel wasm-simd, this coordinator with wasm-fma/);
    expect(lastJson(result.stdout)).toMatchObject({ steps: 3, workers: 1 });
  });

  it('bench scaling prints its JSON summary last and runs each topology afresh in its --out', () => {
    const out = join(base, 'bench');
    const args = ['bench', 'scaling', '--topologies', '1x1,2x1', '--steps', '6', '--untimed', '2', ...DATA, '--out', out, '--json'];
    for (let run = 0; run < 2; run++) { // the second run replaces the first one's folders, and records timelines
      const r = flotilla(run === 0 ? args : [...args, '--timeline'], { timeoutMs: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const { runs, matmul, scaling, cores } = lastJson(r.stdout) as { runs: Array<Record<string, number>>; matmul: string; scaling: string; cores: number };
      // The cores the CPU floor divides by: this machine's CPUs, or fewer under a cgroup quota.
      expect(cores).toBeGreaterThan(0);
      expect(cores).toBeLessThanOrEqual(availableParallelism());
      expect(matmul).toBe('wasm-fma');
      expect(scaling).toBe('strong');
      expect(runs.map((x) => [x.workers, x.threads, x.steps, x.batch])).toEqual([[1, 1, 4, 60], [2, 1, 4, 60]]);
      expect(runs[0].efficiency).toBe(1);
      for (const x of runs) expect(x.samples_per_sec).toBeGreaterThan(0);
      for (const t of ['1x1', '2x1']) expect(stepsLogged(join(out, t))).toBe(6);
      // The step-time spread, from the timed steps in the run's own metrics (step 2 on; with 4
      // of them the 90th percentile is the slowest, stats.test.ts tells the ranks apart).
      for (const [i, t] of ['1x1', '2x1'].entries()) {
        const stepMs = metricsOf(join(out, t), 'step').filter((m) => m.step >= 2).map((m) => m.step_ms).sort((a, b) => a - b);
        expect(stepMs).toHaveLength(4);
        expect(runs[i].step_ms).toBeCloseTo(stepMs.reduce((a, b) => a + b, 0) / 4, 9);
        expect(runs[i].step_ms_median).toBe(stepMs[2]);
        expect(runs[i].step_ms_p90).toBe(stepMs[3]);
      }
      // CPU per step, from the processes themselves: the coordinator's and the workers' sum,
      // both means over the timed steps of metrics.jsonl, and their total over the cores.
      for (const [i, t] of ['1x1', '2x1'].entries()) {
        const timed = metricsOf(join(out, t), 'step').filter((m) => m.step >= 2);
        const mean = (key: string): number => timed.reduce((s, m) => s + m[key], 0) / timed.length;
        const { coordinator_cpu_ms: coordinator, workers_cpu_ms: workers, cpu_floor_ms: floor } = runs[i];
        expect(coordinator).toBeCloseTo(mean('coordinator_cpu_ms'), 9);
        expect(workers).toBeCloseTo(mean('workers_cpu_ms'), 9);
        expect(floor).toBeCloseTo((coordinator + workers) / cores, 9);
        // Workers compute every step, so their CPU is real; and no process can use more CPU than
        // the machine has over a step. Both bounds are loose (other tests may share the cores),
        // but a µs/ms or ms/s slip breaks one of them by 1000×.
        for (const m of timed) expect(m.workers_cpu_ms).toBeGreaterThan(0.05 * m.compute_ms);
        expect(floor).toBeLessThan(1.5 * runs[i].step_ms);
        expect(coordinator).toBeGreaterThan(0);
      }
      // With --timeline each run records its timed steps (after the 2 untimed ones), nothing else.
      const timeline = join(out, '2x1', 'timeline.json');
      if (run === 0) expect(existsSync(timeline)).toBe(false);
      else {
        const steps = (JSON.parse(readFileSync(timeline, 'utf8')) as Array<{ name: string; pid: number }>).filter((e) => e.pid === 0 && /^step \d+$/.test(e.name));
        expect(steps.map((e) => e.name)).toEqual(['step 2', 'step 3', 'step 4', 'step 5']);
      }
    }
  });

  it('bench scaling --repeats runs the topologies in turn and reports each one\'s median run and its spread', () => {
    const out = join(base, 'bench-repeats');
    const r = flotilla(['bench', 'scaling', '--topologies', '1x1,2x1', '--steps', '4', '--untimed', '1', '--repeats', '3', ...DATA, '--out', out, '--json'], { timeoutMs: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    // In turn: 1x1, 2x1, 1x1, 2x1, 1x1, 2x1, each run in a folder of its own.
    const order = [...r.stderr.matchAll(/^(\d) worker\(s\) × (\d) thread\(s\), run (\d) of 3:/gm)].map((m) => `${m[1]}x${m[2]} ${m[3]}`);
    expect(order).toEqual(['1x1 1', '2x1 1', '1x1 2', '2x1 2', '1x1 3', '2x1 3']);
    for (const t of ['1x1', '2x1']) for (const k of [1, 2, 3]) expect(stepsLogged(join(out, `${t}-run${k}`))).toBe(4);
    const { repeats, runs } = lastJson(r.stdout) as { repeats: number; runs: Array<{ samples_per_sec: number; samples_per_sec_runs: number[]; efficiency: number; steps: number; step_ms: number }> };
    expect(repeats).toBe(3);
    for (const [i, run] of runs.entries()) {
      expect(run.samples_per_sec_runs).toHaveLength(3);
      expect(run.samples_per_sec).toBe([...run.samples_per_sec_runs].sort((a, b) => a - b)[1]);
      expect(run.steps).toBe(3);
      // Every field is the median run's: its step time is that folder's mean over the timed steps.
      const k = run.samples_per_sec_runs.indexOf(run.samples_per_sec) + 1;
      const stepMs = metricsOf(join(out, `${['1x1', '2x1'][i]}-run${k}`), 'step').filter((m) => m.step >= 1).map((m) => m.step_ms);
      expect(run.step_ms).toBeCloseTo(stepMs.reduce((a, b) => a + b, 0) / stepMs.length, 9);
    }
    expect(runs[0].efficiency).toBe(1);
    expect(runs[1].efficiency).toBeCloseTo(runs[1].samples_per_sec / (2 * runs[0].samples_per_sec), 12);
  });

  it('bench scaling --weak gives every thread --batch rows: the global batch grows with the topology', () => {
    const out = join(base, 'bench-weak');
    const r = flotilla(['bench', 'scaling', '--weak', '--topologies', '1x1,2x1', '--steps', '3', '--untimed', '1', ...DATA, '--out', out, '--json'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const { scaling, runs } = lastJson(r.stdout) as { scaling: string; runs: Array<{ workers: number; batch: number; samples_per_sec: number; efficiency: number }> };
    expect(scaling).toBe('weak');
    expect(runs.map((x) => [x.workers, x.batch])).toEqual([[1, 60], [2, 120]]); // DATA's --batch 60
    // Every step of the 2 × 1 run trained 120 samples (the coordinator splits them 60 and 60).
    expect(metricsOf(join(out, '2x1'), 'step').map((m) => m.samples)).toEqual([120, 120, 120]);
    expect(runs[1].efficiency).toBeCloseTo(runs[1].samples_per_sec / (2 * runs[0].samples_per_sec), 12);
    expect(JSON.parse(readFileSync(join(out, 'scaling.json'), 'utf8')).scaling).toBe('weak');
  });

  it('a new run refuses a folder that holds a run, and leaves it alone', () => {
    const out = join(base, 'taken');
    expect(flotilla(['train', '--local', '--steps', '2', ...DATA, '--out', out]).status).toBe(0);
    const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const again = flotilla(['train', '--workers', '1', '--steps', '2', ...DATA, '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/run folder .*taken already holds a run \(config.json, metrics.jsonl\); choose another --out/);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(before);
  });

  it('an unknown optimizer or layer fails before any process starts, naming the problem', () => {
    const bad = flotilla(['train', '--workers', '2', '--optimizer', 'adamax', '--out', join(base, 'bad1')], { timeoutMs: 60_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Unknown optimizer "adamax"/);
    expect(bad.stdout + bad.stderr).not.toMatch(/coordinator on/);
    const spec = join(base, 'bad-layer.json');
    writeFileSync(spec, JSON.stringify({ input: [784], layers: [{ type: 'linear', out: 10 }, { type: 'maxpool' }] }));
    const badLayer = flotilla(['train', '--workers', '2', '--config', spec, '--out', join(base, 'bad2')], { timeoutMs: 60_000 });
    expect(badLayer.status).toBe(1);
    expect(badLayer.stderr).toMatch(/layers\[1\] \(maxpool\): unknown layer type/);
    expect(badLayer.stdout + badLayer.stderr).not.toMatch(/coordinator on/);
  });
});

describe('early stopping in a distributed run', () => {
  it('stops after --patience epochs without validation improvement and ends with the best weights', () => {
    const out = join(base, 'early');
    const r = flotilla(['train', '--workers', '1', '--config', fileURLToPath(new URL('../examples/mlp-names.json', import.meta.url)), '--train-limit', '640',
      '--test-limit', '500', '--epochs', '60', '--steps', '0', '--patience', '2', '--lr', '0.01', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const summary = lastJson(r.stdout);
    expect(summary.stopped_early).toBe(true);
    const epochs = metricsOf(out, 'epoch');
    expect(epochs.length).toBeLessThan(60);
    const best = Math.min(...epochs.map((m) => m.val_loss as number));
    // The last two epochs did not beat the best, and the final model is the best one again.
    expect(epochs.slice(-2).every((m) => m.val_loss > best)).toBe(true);
    expect(summary.val_loss).toBeCloseTo(best, 6);
  });
});
