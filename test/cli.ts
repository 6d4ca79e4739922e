import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { flotillaArgv, runFlotilla, type FlotillaResult } from '@flotilla/cli';
import { decodeModelCheckpoint } from '@flotilla/core';

export { FLOTILLA_BIN as CLI, lastJsonLine as lastJson } from '@flotilla/cli';
export type Finished = FlotillaResult;

/** Runs `flotilla ARGS` to completion, killed after `timeoutMs` (default 240 s: these runs train). */
export function flotilla(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Finished {
  return runFlotilla(args, { ...options, timeoutMs: options.timeoutMs ?? 240_000 });
}

/** Starts `flotilla ARGS` in the background; `done` resolves when it exits (killed after `timeoutMs`). */
export function flotillaAsync(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(process.execPath, flotillaArgv(args), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
  const done = new Promise<Finished>((resolve) => child.on('exit', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); }));
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function finalParams(runDir: string): Float32Array {
  return checkpointParams(runDir, 'final');
}

/** The parameters in checkpoint `name` (final, epoch-1, step-20, ...) of a run folder. */
export function checkpointParams(runDir: string, name: string): Float32Array {
  const bytes = new Uint8Array(readFileSync(`${runDir}/checkpoints/${name}.safetensors`));
  return decodeModelCheckpoint(bytes).model.params as Float32Array;
}

/** ‖a − b‖ / ‖b‖. */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, n = 0;
  for (let i = 0; i < b.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(d / n);
}

/** A free TCP port on loopback (bound, read, released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it returns a value, failing after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The records of one kind in a run folder's metrics.jsonl, in order. */
export function metricsOf(runDir: string, kind: 'step' | 'epoch'): Array<Record<string, number>> {
  return readFileSync(`${runDir}/metrics.jsonl`, 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.kind === kind) as Array<Record<string, number>>;
}

/** Optimizer steps logged so far in a run folder's metrics.jsonl. */
export function stepsLogged(runDir: string): number {
  try {
    return readFileSync(`${runDir}/metrics.jsonl`, 'utf8').split('\n').filter((l) => l.includes('"kind":"step"')).length;
  } catch {
    return 0;
  }
}

/**
 * The parameters of an uninterrupted single-process run of `args`: with topology-independent
 * randomness any uninterrupted run is the reference for a distributed one, and this is the cheapest.
 */
export function referenceParams(args: string[], out: string): Float32Array {
  const r = flotilla(['train', '--local', ...args, '--out', out]);
  if (r.status !== 0) throw new Error(`reference run failed: ${r.stderr}`);
  return finalParams(out);
}
