/**
 * The safetensors format (huggingface/safetensors):
 *
 *   [u64 little-endian N] [N bytes of UTF-8 JSON header] [data section]
 *
 * The header maps each tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets
 * relative to the data section) plus an optional `"__metadata__": {string: string}`. Like the
 * reference writer we pad the header with spaces so the data section starts 8-byte aligned,
 * and lay tensors out in order with no gaps. Like the reference reader we reject overlaps,
 * gaps and trailing bytes. Writing is float32 only; reading converts every supported dtype
 * into an aligned Float32Array.
 */
import { sizeOf } from '../dtype.js';
import { SAFETENSORS_DTYPE_BYTES, bytesToFloat32, float32ToBytesLE, isSupportedDtype } from './safetensors-dtypes.js';
import { utf8Decode, utf8Encode } from './utf8.js';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** A tensor to write. */
export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** A tensor read back: `dtype` is the file's, `data` always float32. */
export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** One validated header entry; `begin`/`end` are byte offsets into the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Entries in data-section order. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data section within the file. */
  dataStart: number;
}

const METADATA_KEY = '__metadata__';
/** The reference reader's limit on the header length. */
const MAX_HEADER_BYTES = 100_000_000;

// ---------------------------------------------------------------------------------------
// Writing

/** Serialise float32 tensors (in the given order) and string metadata. */
export function encodeSafetensors(
  tensors: readonly NamedTensor[] | Readonly<Record<string, Omit<NamedTensor, 'name'>>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const list: readonly NamedTensor[] = Array.isArray(tensors)
    ? tensors
    : Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  checkMetadata(metadata);

  // Built by hand rather than JSON.stringify(object) so integer-like names keep their order.
  const parts: string[] = [];
  if (Object.keys(metadata).length > 0) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  const seen = new Set<string>();
  let offset = 0;
  for (const t of list) {
    checkTensorToWrite(t, seen);
    const end = offset + t.data.length * 4;
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: 'F32', shape: [...t.shape], data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = utf8Encode(`{${parts.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const t of list) {
    out.set(float32ToBytesLE(t.data), pos);
    pos += t.data.length * 4;
  }
  return out;
}

function checkTensorToWrite(t: NamedTensor, seen: Set<string>): void {
  if (typeof t.name !== 'string' || t.name === '' || t.name === METADATA_KEY) {
    throw new SafetensorsError(`invalid tensor name ${JSON.stringify(t.name)}`);
  }
  if (seen.has(t.name)) throw new SafetensorsError(`duplicate tensor name '${t.name}'`);
  seen.add(t.name);
  if (!(t.data instanceof Float32Array)) throw new SafetensorsError(`tensor '${t.name}': data must be a Float32Array`);
  if (!isShape(t.shape)) throw new SafetensorsError(`tensor '${t.name}': invalid shape ${JSON.stringify(t.shape)}`);
  if (sizeOf(t.shape) !== t.data.length) {
    throw new SafetensorsError(
      `tensor '${t.name}': shape [${t.shape.join(', ')}] has ${sizeOf(t.shape)} elements, data has ${t.data.length}`,
    );
  }
}

function checkMetadata(metadata: unknown): asserts metadata is Record<string, string> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError('bad header: __metadata__ is not an object');
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(`bad header: metadata value for key '${key}' is not a string (got ${typeof value})`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Reading

/** Parse and validate the header (not the tensor data). */
export function parseSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) {
    throw new SafetensorsError(`truncated: file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`bad header: length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  if (headerLength > bytes.length - 8) {
    throw new SafetensorsError(`truncated: header says ${headerLength} bytes, file has ${bytes.length - 8} after the 8-byte length`);
  }
  const dataStart = 8 + headerLength;
  const header = parseJsonObject(bytes.subarray(8, dataStart));

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      checkMetadata(value);
      metadata = value;
    } else {
      entries.push(parseEntry(name, value));
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkLayout(entries, bytes.length - dataStart);
  return { entries, metadata, dataStart };
}

/** Read every tensor of a validated header into aligned Float32Arrays. */
export function readSafetensorsTensors(bytes: Uint8Array, header: SafetensorsHeader): Map<string, SafetensorsTensor> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: bytesToFloat32(e.dtype, raw, sizeOf(e.shape)) });
  }
  return tensors;
}

/** Decode a whole file. The input may sit at any byte offset; tensor data is copied. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes);
  return { tensors: readSafetensorsTensors(bytes, header), metadata: header.metadata };
}

function parseJsonObject(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = utf8Decode(headerBytes);
  } catch {
    throw new SafetensorsError('bad header: not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`bad header: not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SafetensorsError('bad header: JSON is not an object');
  }
  return parsed as Record<string, unknown>;
}

function parseEntry(name: string, value: unknown): SafetensorsEntry {
  const bad = (what: string) => new SafetensorsError(`bad header: tensor '${name}' ${what}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('is not an object');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad(`has no valid dtype (got ${JSON.stringify(dtype)})`);
  if (!isSupportedDtype(dtype)) {
    throw new SafetensorsError(
      `tensor '${name}' has dtype '${dtype}', which this reader does not support (supported: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`,
    );
  }
  if (!isShape(shape)) throw bad(`has an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
    throw bad(`has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = sizeOf(shape) * SAFETENSORS_DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw bad(`has shape [${shape.join(', ')}] of ${dtype}, which needs ${expected} bytes, but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: [...shape], begin, end };
}

/** Entries sorted by offset must tile the data section exactly. */
function checkLayout(entries: readonly SafetensorsEntry[], dataLength: number): void {
  let previous: SafetensorsEntry | undefined;
  let covered = 0;
  for (const e of entries) {
    if (e.begin < covered) {
      throw new SafetensorsError(`bad header: tensor '${e.name}' overlaps tensor '${previous?.name}' (bytes ${e.begin} < ${covered})`);
    }
    if (e.begin > covered) {
      throw new SafetensorsError(`bad header: gap in the data section before tensor '${e.name}' (bytes ${covered}..${e.begin})`);
    }
    if (e.end > dataLength) {
      throw new SafetensorsError(`truncated: tensor '${e.name}' needs bytes up to ${e.end}, data has ${dataLength}`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(`bad file: data section has ${dataLength} bytes but tensors end at ${covered}`);
  }
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isShape(x: unknown): x is number[] {
  return Array.isArray(x) && x.every(isIndex);
}
