import { Tensor, needsGrad, record } from '../../autodiff/tensor.js';
import { logSoftmaxRows } from '../softmax.js';

export interface CrossEntropyOptions {
  /** Label smoothing α ∈ [0, 1): targets (1 − α)·onehot + α/C (seed 004). */
  smoothing?: number;
  /**
   * What the summed loss is divided by; defaults to the number of rows. A data-parallel
   * shard passes the global batch size, so shard gradients sum to the global mean's.
   */
  divisor?: number;
}

/**
 * Fused softmax cross-entropy on logits [..., C] with integer labels (one per row):
 *   L = (1/D) Σ_rows −Σ_k q_k log p_k,  p = softmax(z),  q = (1 − α)·onehot(y) + α/C.
 * log p comes from the max-shifted log-sum-exp, so large logits neither overflow nor lose
 * precision; the VJP is the closed form dL/dz = (p − q)/D.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Int32Array, options: CrossEntropyOptions = {}): Tensor {
  const alpha = options.smoothing ?? 0;
  if (!(alpha >= 0 && alpha < 1)) throw new Error(`softmaxCrossEntropy: label smoothing must be in [0, 1), got ${alpha}`);
  const c = logits.shape[logits.rank - 1];
  const rows = labels.length;
  if (rows * c !== logits.size) throw new Error(`softmaxCrossEntropy: ${rows} labels for logits [${logits.shape.join(', ')}]`);
  const divisor = options.divisor ?? rows;
  const logp = new Float64Array(logits.size);
  logSoftmaxRows(logits.data, logp, rows, c);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!(label >= 0 && label < c)) throw new Error(`softmaxCrossEntropy: label ${label} at row ${r} is outside [0, ${c})`);
    const base = r * c;
    let sumLogp = 0;
    for (let j = 0; j < c; j++) sumLogp += logp[base + j];
    total -= (1 - alpha) * logp[base + label] + (alpha / c) * sumLogp;
  }
  const out = Tensor.from([divisor > 0 ? total / divisor : 0], [], logits.dtype);
  return record(out, 'softmaxCrossEntropy', [logits], () => {
    if (!needsGrad(logits) || divisor === 0) return;
    const scale = out.grad![0] / divisor;
    const gz = logits.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const base = r * c;
      for (let j = 0; j < c; j++) {
        const q = (j === labels[r] ? 1 - alpha : 0) + alpha / c;
        gz[base + j] += scale * (Math.exp(logp[base + j]) - q);
      }
    }
  });
}

function checkSameSize(op: string, a: Tensor, b: ArrayLike<number>): void {
  if (a.size !== b.length) throw new Error(`${op}: prediction has ${a.size} elements, target ${b.length}`);
}

/** Mean squared error (1/n) Σ (p − t)². VJP: 2(p − t)/n. */
export function mse(pred: Tensor, target: ArrayLike<number>): Tensor {
  checkSameSize('mse', pred, target);
  const n = pred.size;
  let s = 0;
  for (let i = 0; i < n; i++) { const d = pred.data[i] - target[i]; s += d * d; }
  const out = Tensor.from([s / n], [], pred.dtype);
  return record(out, 'mse', [pred], () => {
    if (!needsGrad(pred)) return;
    const g = out.grad![0], gp = pred.gradBuffer();
    for (let i = 0; i < n; i++) gp[i] += (g * 2 * (pred.data[i] - target[i])) / n;
  });
}

/**
 * Binary cross-entropy on probabilities, −(1/n) Σ t·log p + (1 − t)·log(1 − p), with p clamped
 * to [ε, 1 − ε] as PyTorch clamps the logs. Prefer `bceWithLogits` after a sigmoid.
 */
export function binaryCrossEntropy(prob: Tensor, target: ArrayLike<number>, eps = 1e-7): Tensor {
  checkSameSize('binaryCrossEntropy', prob, target);
  const n = prob.size;
  const clamp = (p: number): number => Math.min(1 - eps, Math.max(eps, p));
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = clamp(prob.data[i]);
    s -= target[i] * Math.log(p) + (1 - target[i]) * Math.log(1 - p);
  }
  const out = Tensor.from([s / n], [], prob.dtype);
  return record(out, 'binaryCrossEntropy', [prob], () => {
    if (!needsGrad(prob)) return;
    const g = out.grad![0], gp = prob.gradBuffer();
    for (let i = 0; i < n; i++) {
      const raw = prob.data[i];
      if (raw < eps || raw > 1 - eps) continue; // clamped: flat in p
      gp[i] += (g * (raw - target[i])) / (raw * (1 - raw) * n);
    }
  });
}

/** BCE on logits z, (1/n) Σ max(z, 0) − z·t + log(1 + e^{−|z|}), stable for any z. VJP: (σ(z) − t)/n. */
export function bceWithLogits(logits: Tensor, target: ArrayLike<number>): Tensor {
  checkSameSize('bceWithLogits', logits, target);
  const n = logits.size;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const z = logits.data[i];
    s += Math.max(z, 0) - z * target[i] + Math.log1p(Math.exp(-Math.abs(z)));
  }
  const out = Tensor.from([s / n], [], logits.dtype);
  return record(out, 'bceWithLogits', [logits], () => {
    if (!needsGrad(logits)) return;
    const g = out.grad![0], gz = logits.gradBuffer();
    for (let i = 0; i < n; i++) {
      const z = logits.data[i];
      const sig = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      gz[i] += (g * (sig - target[i])) / n;
    }
  });
}
