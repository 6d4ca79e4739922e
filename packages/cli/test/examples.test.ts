import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel } from '@flotilla/core';
import { readConfigFile, resolveRunConfig } from '@flotilla/coordinator';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));

describe('examples/', () => {
  it('every example is a valid run config', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) expect(() => resolveRunConfig(readConfigFile(dir + f), {}), f).not.toThrow();
  });
  it('the character models have the parameter counts of the reference PyTorch models', () => {
    const count = (f: string): number => buildModel(readConfigFile(dir + f).model).parameterCount;
    // Flat (Bengio et al.): 27·10 + 80·200 + 2·200 + 200·27 + 27.
    expect(count('mlp-names.json')).toBe(22_097);
    // WaveNet: 27·24 + 48·128 + 3·2·128 + 2·256·128 + 128·27 + 27.
    expect(count('wavenet-names.json')).toBe(76_579);
    expect(count('wavenet-words.json')).toBe(76_579);
  });
});
