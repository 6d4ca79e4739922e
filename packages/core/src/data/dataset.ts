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

/** Samples [start, end) of a data set, as views (no copy). */
export function sliceDataset(data: Dataset, start: number, end: number): Dataset {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= data.count)) {
    throw new RangeError(`sliceDataset: [${start}, ${end}) is outside the ${data.count} samples`);
  }
  const features = data.count === 0 ? 0 : data.inputs.length / data.count;
  return { ...data, inputs: data.inputs.subarray(start * features, end * features), labels: data.labels.subarray(start, end), count: end - start };
}

/** The first `limit` samples (all of them when `limit` is 0 or at least the count). */
export function takeFirst(data: Dataset, limit: number): Dataset {
  return limit <= 0 || limit >= data.count ? data : sliceDataset(data, 0, limit);
}
