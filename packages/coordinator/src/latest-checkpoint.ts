import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointKeys, decodeCheckpoint, parseSafetensorsHeader } from '@flotilla/core';

export interface CheckpointCandidate {
  path: string;
  step: number;
}

/**
 * A run folder's checkpoints, newest step first, from their headers alone. Files whose
 * header cannot be read are reported through `onBad` and skipped.
 */
export function checkpointsByStep(runDir: string, onBad: (path: string, problem: string) => void): CheckpointCandidate[] {
  const dir = join(runDir, 'checkpoints');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.safetensors'));
  } catch {
    throw new Error(`Cannot resume from ${runDir}: it has no checkpoints folder`);
  }
  const found: CheckpointCandidate[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const { metadata } = parseSafetensorsHeader(new Uint8Array(readFileSync(path)));
      const state = JSON.parse(metadata[CheckpointKeys.state] ?? 'null') as { step?: unknown } | null;
      if (!state || !Number.isInteger(state.step)) throw new Error('no training step in its metadata');
      found.push({ path, step: state.step as number });
    } catch (error) {
      onBad(path, (error as Error).message);
    }
  }
  if (found.length === 0) throw new Error(`Cannot resume from ${runDir}: no usable checkpoint in ${dir}`);
  return found.sort((a, b) => b.step - a.step);
}

/** The newest checkpoint of a run folder that decodes cleanly (checksum included). */
export function latestGoodCheckpoint(runDir: string, warn: (message: string) => void): { bytes: Uint8Array; path: string; step: number } {
  const onBad = (path: string, problem: string): void => warn(`skipping checkpoint ${path}: ${problem}`);
  for (const { path, step } of checkpointsByStep(runDir, onBad)) {
    const bytes = new Uint8Array(readFileSync(path));
    try {
      decodeCheckpoint(bytes);
      return { bytes, path, step };
    } catch (error) {
      onBad(path, (error as Error).message);
    }
  }
  throw new Error(`Cannot resume from ${runDir}: every checkpoint is damaged`);
}
