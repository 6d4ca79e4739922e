import { relu, sum, tanh, Tensor, noGrad } from '@flotilla/core';

export interface MemoryBench {
  op: string;
  floats: number;
  gb_per_sec: number;
}

function bestMs(fn: () => void, minMs: number): number {
  fn();
  let best = Infinity;
  const deadline = performance.now() + minMs;
  do {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  } while (performance.now() < deadline);
  return best;
}

/**
 * Bandwidth of the elementwise and reduction paths through the real ops (allocation of the
 * output included, as training pays it): bytes read + written per second, one thread.
 */
export function benchMemory(floats = 1 << 22, minMs = 300): MemoryBench[] {
  const x = Tensor.zeros([floats]);
  for (let i = 0; i < floats; i++) x.data[i] = (i % 7) - 3;
  const relMs = noGrad(() => bestMs(() => relu(x), minMs));
  const tanhMs = noGrad(() => bestMs(() => tanh(x), minMs));
  const sumMs = noGrad(() => bestMs(() => sum(x), minMs));
  return [
    { op: 'relu (elementwise)', floats, gb_per_sec: (8 * floats) / relMs / 1e6 },
    { op: 'tanh (elementwise, float64 polynomial)', floats, gb_per_sec: (8 * floats) / tanhMs / 1e6 },
    { op: 'sum (reduction)', floats, gb_per_sec: (4 * floats) / sumMs / 1e6 },
  ];
}
