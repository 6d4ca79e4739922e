import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './files.js';

/** A run folder: config.json, metrics.jsonl, checkpoints/. */
export class RunDir {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
    mkdirSync(join(this.path, 'checkpoints'), { recursive: true });
  }

  /**
   * A run folder for a new run: refuses one that already holds a run (its config.json or
   * metrics.jsonl), whose metrics the new run would otherwise be appended to and whose
   * checkpoints it would mix with its own. Nothing in it is touched.
   */
  static forNewRun(path: string): RunDir {
    const dir = resolve(path);
    const holds = ['config.json', 'metrics.jsonl'].filter((f) => existsSync(join(dir, f)));
    if (holds.length > 0) {
      throw new Error(`run folder ${dir} already holds a run (${holds.join(', ')}); choose another --out (a distributed run continues with --resume ${path})`);
    }
    return new RunDir(dir);
  }

  /** `runs/<UTC timestamp>` under the current folder. */
  static defaultPath(now = new Date()): string {
    return join('runs', now.toISOString().replace(/[:.]/g, '-').replace('Z', ''));
  }

  /** Where a run's timeline goes: timeline.json, or for a run resumed at a step, timeline-from-step-N.json beside the earlier ones. */
  timelinePath(resumedAt = 0): string {
    return join(this.path, resumedAt > 0 ? `timeline-from-step-${resumedAt}.json` : 'timeline.json');
  }

  /**
   * The timelines recorded in the run folder at `path`, in the order they were recorded:
   * timeline.json, then each resume's timeline-from-step-N.json by N. Reads only (a reader
   * must not create the folder's checkpoints/, as the constructor does).
   */
  static timelinesIn(path: string): string[] {
    const resumed = readdirSync(path)
      .map((f) => /^timeline-from-step-(\d+)\.json$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((m) => join(path, m[0]));
    const first = join(path, 'timeline.json');
    return existsSync(first) ? [first, ...resumed] : resumed;
  }

  /** The step records of metrics.jsonl in the run folder at `path`, in order. Reads only, as timelinesIn. */
  static stepsIn(path: string): Array<Record<string, number>> {
    return readFileSync(join(path, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.kind === 'step') as Array<Record<string, number>>;
  }

  checkpointPath(name: string): string {
    return join(this.path, 'checkpoints', `${name}.safetensors`);
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomic(join(this.path, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON object per line, appended as it happens so a crash keeps what was logged. */
  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(join(this.path, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  /**
   * Before a run resumes after `step` completed steps: drops the metrics of the steps it will
   * redo (step records from `step` on, epoch records past it) and a line torn by a crash, so
   * metrics.jsonl has each step once. Returns how many lines were dropped.
   */
  truncateMetricsAt(step: number): number {
    const path = join(this.path, 'metrics.jsonl');
    if (!existsSync(path)) return 0;
    const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
    const kept = lines.filter((line) => {
      let record: { kind?: unknown; step?: unknown };
      try {
        record = JSON.parse(line) as { kind?: unknown; step?: unknown };
      } catch {
        return false; // torn by the crash
      }
      if (typeof record.step !== 'number') return true;
      if (record.kind === 'step') return record.step < step;
      if (record.kind === 'epoch') return record.step <= step;
      return true;
    });
    if (kept.length !== lines.length) writeFileAtomic(path, kept.map((line) => `${line}\n`).join(''));
    return lines.length - kept.length;
  }
}
