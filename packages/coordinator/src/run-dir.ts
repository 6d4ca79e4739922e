import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './files.js';

/** A run folder: config.json, metrics.jsonl, checkpoints/. */
export class RunDir {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
    mkdirSync(join(this.path, 'checkpoints'), { recursive: true });
  }

  /** `runs/<UTC timestamp>` under the current folder. */
  static defaultPath(now = new Date()): string {
    return join('runs', now.toISOString().replace(/[:.]/g, '-').replace('Z', ''));
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
}
