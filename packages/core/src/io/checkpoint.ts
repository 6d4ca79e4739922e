/**
 * Flotilla checkpoints (DESIGN 9): a safetensors file holding the flat parameter and buffer
 * vectors (DESIGN 1) as PyTorch-named tensors (`0.weight` [out, in], `1.running_mean`, ...),
 * with metadata
 *
 *   flotilla.format  version of this layout ("1")
 *   flotilla.spec    JSON model spec
 *   flotilla.state   JSON training state (epoch, step, optimizer settings, ...)
 *   flotilla.crc32   CRC-32 of the whole data section (all tensor bytes), 8 hex digits
 *
 * Reading is two steps, because the spec is needed to build the model that owns the flat
 * buffers: `decodeCheckpoint` (verifies format and checksum, returns spec, state, tensors),
 * then `loadCheckpointInto` (copies tensors into the flat buffers by name, after checking
 * that every name and shape matches, so a failed load leaves the buffers untouched).
 */
import { sizeOf } from '../dtype.js';
import { crc32, crc32Hex } from './crc32.js';
import { float32ToBytesLE } from './safetensors-dtypes.js';
import {
  type NamedTensor,
  type SafetensorsTensor,
  encodeSafetensors,
  parseSafetensorsHeader,
  readSafetensorsTensors,
} from './safetensors.js';

/** One tensor inside a flat buffer: elements [offset, offset + size). */
export interface TensorLayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** A flat vector and the tensors it holds; `prefix` is prepended to names in the file. */
export interface FlatTensors {
  layout: readonly TensorLayoutEntry[];
  data: Float32Array;
  prefix?: string;
}

export const CHECKPOINT_FORMAT_VERSION = '1';

export const CheckpointKeys = {
  format: 'flotilla.format',
  spec: 'flotilla.spec',
  state: 'flotilla.state',
  crc32: 'flotilla.crc32',
} as const;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface CheckpointContents {
  /** The model spec (DESIGN 2), stored as JSON. */
  spec: unknown;
  /** Training state, stored as JSON; `null` when absent. */
  state?: unknown;
  params: FlatTensors;
  buffers?: FlatTensors;
  /** More flat groups, e.g. `{ prefix: 'ema.', layout, data: emaParams }`. */
  extra?: readonly FlatTensors[];
  /** More metadata; keys starting with `flotilla.` are reserved. */
  metadata?: Readonly<Record<string, string>>;
}

export interface Checkpoint {
  spec: unknown;
  state: unknown;
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

export interface LoadTargets {
  params: FlatTensors;
  buffers?: FlatTensors;
  extra?: readonly FlatTensors[];
}

export interface LoadOptions {
  /** File tensors under these prefixes may be absent from the targets (e.g. `['ema.']`). */
  allowExtraPrefixes?: readonly string[];
}

/** Serialise a checkpoint into safetensors bytes (write them to disk atomically). */
export function encodeCheckpoint(contents: CheckpointContents): Uint8Array {
  const tensors: NamedTensor[] = [];
  for (const group of groupsOf(contents)) {
    for (const entry of group.layout) {
      tensors.push({ name: (group.prefix ?? '') + entry.name, shape: entry.shape, data: viewOf(group, entry) });
    }
  }
  let crc = 0;
  for (const t of tensors) crc = crc32(float32ToBytesLE(t.data), crc);

  for (const key of Object.keys(contents.metadata ?? {})) {
    if (key.startsWith('flotilla.')) throw new CheckpointError(`metadata key '${key}' is reserved`);
  }
  return encodeSafetensors(tensors, {
    ...contents.metadata,
    [CheckpointKeys.format]: CHECKPOINT_FORMAT_VERSION,
    [CheckpointKeys.spec]: JSON.stringify(contents.spec),
    [CheckpointKeys.state]: JSON.stringify(contents.state ?? null),
    [CheckpointKeys.crc32]: crc32Hex(crc),
  });
}

/** Parse a checkpoint, verify its format version and checksum, and read its tensors. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const header = parseSafetensorsHeader(bytes);
  const { metadata } = header;
  const format = metadata[CheckpointKeys.format];
  if (format === undefined) {
    throw new CheckpointError(`not a Flotilla checkpoint: metadata has no '${CheckpointKeys.format}'`);
  }
  if (format !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(`unsupported checkpoint format '${format}' (this version reads '${CHECKPOINT_FORMAT_VERSION}')`);
  }
  const stored = metadata[CheckpointKeys.crc32];
  if (stored === undefined) throw new CheckpointError(`corrupt checkpoint: metadata has no '${CheckpointKeys.crc32}'`);
  const actual = crc32Hex(crc32(bytes.subarray(header.dataStart)));
  if (actual !== stored.toLowerCase()) {
    throw new CheckpointError(`corrupt checkpoint: tensor data has CRC-32 ${actual}, metadata says ${stored}`);
  }
  return {
    spec: parseJsonField(metadata, CheckpointKeys.spec, true),
    state: parseJsonField(metadata, CheckpointKeys.state, false),
    metadata,
    tensors: readSafetensorsTensors(bytes, header),
  };
}

/**
 * Copy a checkpoint's tensors into the targets' flat buffers by name. Throws, before
 * copying anything, listing every missing tensor, shape mismatch and unexpected tensor.
 */
export function loadCheckpointInto(
  checkpoint: Pick<Checkpoint, 'tensors'>,
  targets: LoadTargets,
  options: LoadOptions = {},
): void {
  const problems: string[] = [];
  const copies: Array<{ from: Float32Array; to: Float32Array }> = [];
  const used = new Set<string>();
  for (const group of groupsOf(targets)) {
    for (const entry of group.layout) {
      const name = (group.prefix ?? '') + entry.name;
      const to = viewOf(group, entry);
      const tensor = checkpoint.tensors.get(name);
      used.add(name);
      if (tensor === undefined) {
        problems.push(`checkpoint has no tensor '${name}'`);
      } else if (!sameShape(tensor.shape, entry.shape)) {
        problems.push(`tensor '${name}' has shape ${formatShape(tensor.shape)}, model expects ${formatShape(entry.shape)}`);
      } else {
        copies.push({ from: tensor.data, to });
      }
    }
  }
  const allowed = options.allowExtraPrefixes ?? [];
  for (const name of checkpoint.tensors.keys()) {
    if (!used.has(name) && !allowed.some((p) => name.startsWith(p))) {
      problems.push(`checkpoint has unexpected tensor '${name}'`);
    }
  }
  if (problems.length > 0) throw new CheckpointError(`checkpoint does not match the model: ${problems.join('; ')}`);
  for (const { from, to } of copies) to.set(from);
}

function groupsOf(t: LoadTargets): FlatTensors[] {
  return [t.params, ...(t.buffers ? [t.buffers] : []), ...(t.extra ?? [])];
}

/** The entry's view into its flat buffer, after checking the layout is consistent. */
function viewOf(group: FlatTensors, entry: TensorLayoutEntry): Float32Array {
  const { name, shape, offset, size } = entry;
  if (sizeOf(shape) !== size || !Number.isSafeInteger(offset) || offset < 0 || offset + size > group.data.length) {
    throw new CheckpointError(
      `layout entry '${name}' (shape ${formatShape(shape)}, offset ${offset}, size ${size}) does not fit a flat buffer of ${group.data.length}`,
    );
  }
  return group.data.subarray(offset, offset + size);
}

function parseJsonField(metadata: Record<string, string>, key: string, required: boolean): unknown {
  const text = metadata[key];
  if (text === undefined) {
    if (required) throw new CheckpointError(`checkpoint metadata has no '${key}'`);
    return null;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`checkpoint metadata '${key}' is not valid JSON (${(e as Error).message})`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
