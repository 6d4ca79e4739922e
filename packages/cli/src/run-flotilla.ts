import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from './node-flags.js';

/** The committed launcher of the `flotilla` command (the same file from src/ and dist/). */
export const FLOTILLA_BIN = fileURLToPath(new URL('../bin/flotilla.js', import.meta.url));

/** Node's arguments for `flotilla ARGS` with the flags the launcher's shebang passes (or `nodeFlags`). */
export function flotillaArgv(args: readonly string[], nodeFlags: readonly string[] = NODE_FLAGS): string[] {
  return [...nodeFlags, FLOTILLA_BIN, ...args];
}

export interface FlotillaResult {
  status: number | null;
  /** The signal that ended it (SIGTERM when the time limit did), else null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunFlotillaOptions {
  /** Killed after this long [default: 120 s]: a run that hangs fails instead of waiting forever. */
  timeoutMs?: number;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  nodeFlags?: readonly string[];
}

/** Runs `flotilla ARGS` (the built dist) to completion in a child process and captures its output. */
export function runFlotilla(args: readonly string[], options: RunFlotillaOptions = {}): FlotillaResult {
  const r = spawnSync(process.execPath, flotillaArgv(args, options.nodeFlags), {
    encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, env: { ...process.env, ...options.env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object a `--json` command prints as the last line of its stdout. */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}
