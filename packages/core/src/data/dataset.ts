/**
 * An in-memory classification data set: `count` samples, each `sizeOf(inputShape)` float32
 * features stored contiguously in `inputs`, and one integer label in [0, numClasses).
 */
export interface Dataset {
  inputs: Float32Array;
  /** Per-sample shape, e.g. [784]. */
  inputShape: number[];
  labels: Int32Array;
  count: number;
  numClasses: number;
}
