import { buildModel } from '@flotilla/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Coordinator, newToken, type CoordinatorEvent, type RunConfig, type RunDir, type RunSummary } from '@flotilla/coordinator';
import { loadDataset } from '@flotilla/datasets';
import { ProgressBar } from '../run/progress.js';
import { checkModelFitsData, runData } from './run-data.js';
import { flotillaArgv } from '../run-flotilla.js';
import type { TimelineSteps } from './timeline-steps.js';

/** Turns coordinator events into log lines and a progress bar (step, loss, samples/s, ETA). */
export function progressReporter(log: (line: string) => void): (event: CoordinatorEvent) => void {
  let bar: ProgressBar | null = null;
  const started = Date.now();
  return (event) => {
    switch (event.kind) {
      case 'worker-joined': log(`worker ${event.workerId} joined (${event.threads} thread(s), ${event.host})`); return;
      case 'worker-refused': log(`refused a connection: ${event.reason}`); return;
      case 'worker-left': log(`worker ${event.workerId} left: ${event.reason}`); return;
      case 'warning': log(`warning: ${event.message}`); return;
      case 'step-redone': log(`step ${event.step} redone (attempt ${event.attempt}): ${event.reason}`); return;
      case 'resumed': log(`resumed at step ${event.step} from ${event.path}`); return;
      case 'step': {
        bar ??= new ProgressBar(event.totalSteps, 'training');
        const done = event.step + 1;
        const eta = ((Date.now() - started) / done) * (event.totalSteps - done) / 1000;
        bar.update(done, `epoch ${event.epoch + 1} · loss ${event.loss.toFixed(4)} · ${Math.round(event.samplesPerSec)} samples/s · ETA ${Math.round(eta)} s`);
        return;
      }
      case 'epoch':
        bar?.finish();
        log(`epoch ${event.epoch}: ${event.valLoss === undefined ? '' : `val loss ${event.valLoss.toFixed(4)}, `}test loss ${event.testLoss.toFixed(4)}, test accuracy ${(100 * event.testAccuracy).toFixed(2)}% (EMA ${(100 * event.emaAccuracy).toFixed(2)}%)`);
        return;
      default:
    }
  };
}

/**
 * `flotilla train --workers N --threads K`: a coordinator in this process and N worker
 * processes on loopback, sharing a fresh random token (passed in the environment, never on
 * a command line). Ctrl-C stops everything; the last checkpoint stays usable.
 */
export interface LaunchOptions {
  workers: number;
  threads: number;
  heartbeatTimeoutMs?: number;
  resume?: { bytes: Uint8Array; path: string };
  /** Restarts of a crashed worker process, per worker (an elastic launcher's bounded retries). */
  maxRestarts?: number;
  /** Record these steps of the run in its timeline (timeline.json in the run folder). */
  timeline?: TimelineSteps;
}

export async function runDistributedTraining(
  config: RunConfig, topology: LaunchOptions, runDir: RunDir, log: (line: string) => void,
): Promise<RunSummary> {
  const data = loadDataset(config.dataset);
  checkModelFitsData(buildModel(config.model), data, config.dataset);
  const token = newToken();
  const coordinator = new Coordinator({
    config, ...runData(data, config), runDir, token,
    host: '127.0.0.1', port: 0, workers: topology.workers, onEvent: progressReporter(log),
    heartbeatTimeoutMs: topology.heartbeatTimeoutMs, resume: topology.resume, timeline: topology.timeline,
  });
  const port = await coordinator.listen();
  log(`coordinator on ws://127.0.0.1:${port}; starting ${topology.workers} worker(s) × ${topology.threads} thread(s); run folder ${runDir.path}`);
  const children: ChildProcess[] = [];
  const failures: string[] = [];
  const maxRestarts = topology.maxRestarts ?? 3;
  const start = (i: number, restarts: number): void => {
    const child = spawn(process.execPath, flotillaArgv(['worker', '--connect', `ws://127.0.0.1:${port}`, '--threads', String(topology.threads)]), {
      env: { ...process.env, FLOTILLA_TOKEN: token },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children[i] = child;
    let tail = '';
    // Each worker's log goes to the run folder (a restarted worker appends to the same file),
    // as torchrun's --log-dir does; the last lines also go into the error if it fails.
    const logFile = createWriteStream(join(runDir.path, `worker-${i}.log`), { flags: 'a' });
    child.stderr?.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      tail = (tail + chunk.toString()).slice(-2000);
    });
    child.once('close', () => logFile.end());
    child.on('exit', (code, signal) => {
      if (code === 0 || stopping) return;
      const why = `worker process ${i} exited with ${signal ?? `code ${code}`}: ${tail.trim().split('\n').slice(-2).join(' | ')}`;
      if (restarts < maxRestarts) {
        log(`${why}; restarting it (${restarts + 1} of ${maxRestarts})`);
        start(i, restarts + 1);
      } else failures.push(why);
    });
  };
  for (let i = 0; i < topology.workers; i++) start(i, 0);
  let stopping = false;
  const stopAll = (): void => {
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  const onSignal = (): void => {
    log('interrupted: stopping the coordinator and workers (the last checkpoint is kept)');
    stopAll();
    void coordinator.close('interrupted').then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await coordinator.run();
    await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r)))));
    return summary;
  } catch (error) {
    const detail = failures.length > 0 ? `\n${failures.join('\n')}` : '';
    throw new Error(`${(error as Error).message}${detail}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopAll();
  }
}
