import { Tensor, noGrad } from '../autodiff/tensor.js';
import type { Model } from '../model/model.js';
import { logSoftmaxRows } from '../ops/softmax.js';
import { CounterRng, RngPurpose } from '../rng.js';

export interface SampleOptions {
  /** Characters by class index; index 0 ('.') ends a word and pads the context. */
  vocab: string;
  count: number;
  seed: number;
  /** Softmax temperature (1: the model's own distribution). */
  temperature?: number;
  maxLength?: number;
}

/**
 * Words from a character language model (seed 000's makemore): start from a context of
 * '.', repeatedly draw the next character from softmax(logits / T) and shift it in, until
 * '.' comes out. Word k's draws are uniforms of stream (sample, k), so a seed gives the
 * same words on any machine.
 */
export function sampleWords(model: Model, options: SampleOptions): string[] {
  const { vocab, count, seed } = options;
  const temperature = options.temperature ?? 1;
  const maxLength = options.maxLength ?? 64;
  if (model.spec.input.length !== 1) throw new Error(`sampleWords: the model must take a context of character indices, its input is [${model.spec.input.join(', ')}]`);
  const classes = model.outputShape.reduce((a, b) => a * b, 1);
  if (classes !== vocab.length) throw new Error(`sampleWords: the model predicts ${classes} classes but the vocabulary has ${vocab.length} characters`);
  if (!(temperature > 0)) throw new Error(`Invalid temperature: ${temperature} (expected > 0)`);
  const context = model.spec.input[0];
  const rng = new CounterRng(seed);
  const logp = new Float64Array(classes);
  const words: string[] = [];
  const wasTraining = model.root.training;
  model.eval();
  try {
    noGrad(() => {
      for (let k = 0; k < count; k++) {
        const window = new Float32Array(context);
        let word = '';
        for (let position = 0; position < maxLength; position++) {
          const logits = model.forward(new Tensor(window, [1, context]), { seed, step: 0, rowOffset: 0 });
          const scaled = Float64Array.from(logits.data, (v) => v / temperature);
          logSoftmaxRows(scaled, logp, 1, classes);
          let u = rng.uniform([RngPurpose.sample, k], position);
          let next = classes - 1;
          for (let j = 0; j < classes; j++) {
            u -= Math.exp(logp[j]);
            if (u < 0) { next = j; break; }
          }
          if (next === 0) break;
          word += vocab[next];
          window.copyWithin(0, 1);
          window[context - 1] = next;
        }
        words.push(word);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return words;
}
