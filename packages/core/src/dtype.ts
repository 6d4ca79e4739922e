/**
 * Element types. Training runs in float32; float64 exists so gradient checks can use
 * central differences without float32 round-off drowning the signal (PyTorch's gradcheck
 * does the same).
 */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

export function allocFloat(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
