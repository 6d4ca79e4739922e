/**
 * Element types. Training runs in float32; float64 exists so gradient checks can use
 * central differences without float32 round-off drowning the signal (PyTorch's gradcheck
 * does the same).
 */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/** A zero-filled array. */
export function allocFloat(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/** Below this many elements zeroing costs less than a buffer of its own. */
const EMPTY_MIN_LENGTH = 1024;
/** Node's Buffer, whose allocUnsafeSlow skips the zero fill; absent elsewhere. */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(bytes: number): Uint8Array } }).Buffer;
/**
 * FLOTILLA_POISON_EMPTY=1 (the test suites set it) fills every allocFloatEmpty array with
 * NaN, so an element read before it was written shows up in every check downstream instead
 * of passing on memory that happened to be zero.
 */
const POISON_EMPTY = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FLOTILLA_POISON_EMPTY === '1';

/**
 * An array for a caller that writes every element before reading any (torch.empty, where
 * allocFloat is torch.zeros): large ones skip the zero fill. Activations and their
 * gradients are allocated afresh each step, megabytes of them; filling them with zeros that
 * are overwritten at once cost about 8% of a training step of the default model.
 */
export function allocFloatEmpty(dtype: DType, length: number): FloatArray {
  let a: FloatArray;
  if (NodeBuffer !== undefined && length >= EMPTY_MIN_LENGTH) {
    const bytes = NodeBuffer.allocUnsafeSlow(length * (dtype === 'float64' ? 8 : 4));
    a = dtype === 'float64' ? new Float64Array(bytes.buffer, bytes.byteOffset, length) : new Float32Array(bytes.buffer, bytes.byteOffset, length);
  } else {
    a = allocFloat(dtype, length);
  }
  if (POISON_EMPTY) a.fill(NaN);
  return a;
}

export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
