import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../src/node-flags.js';

export const CLI = fileURLToPath(new URL('../bin/flotilla.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `flotilla` executable (built dist) with a hard time limit, with the flags its shebang passes. */
export function runCli(args: string[], timeoutMs = 120_000, nodeFlags: readonly string[] = NODE_FLAGS, env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [...nodeFlags, CLI, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object on the last line of stdout. */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}
