import { describe, expect, it } from 'vitest';
import { sampleWords } from '../src/eval/sample.js';
import { buildModel } from '../src/model/model.js';

const spec = { input: [3], inputKind: 'index' as const, layers: [{ type: 'embedding', vocab: 4, dim: 2 }, { type: 'flatten' }, { type: 'linear', out: 4 }] };

describe('sampleWords', () => {
  it('is reproducible by seed, and different seeds give different words', () => {
    const model = buildModel(spec, { seed: 1 });
    const a = sampleWords(model, { vocab: '.abc', count: 20, seed: 7 });
    expect(sampleWords(model, { vocab: '.abc', count: 20, seed: 7 })).toEqual(a);
    expect(sampleWords(model, { vocab: '.abc', count: 20, seed: 8 })).not.toEqual(a);
    expect(a.every((w) => /^[abc]*$/.test(w))).toBe(true);
  });
  it('follows the model: a model that always says "a" then "." gives "a"', () => {
    const model = buildModel(spec, { seed: 1 });
    // Zero weights, bias favouring '.', except when the last context character is '.' (index 0):
    // embedding of '.' is (1, 0), of 'a' is (0, 0); the logit of 'a' grows with the last slot's first coordinate.
    model.params.fill(0);
    const emb = model.paramLayout[0], w = model.paramLayout[1], b = model.paramLayout[2];
    model.params[emb.offset] = 1; // '.' → (1, 0)
    model.params[w.offset + 1 * 6 + 4] = 40; // logit of 'a' += 40 · (last slot's first coordinate)
    model.params[b.offset] = 20; // logit of '.' = 20
    expect(sampleWords(model, { vocab: '.abc', count: 3, seed: 1 })).toEqual(['a', 'a', 'a']);
  });
});
