/**
 * The IDX format of the MNIST files (yann.lecun.com/exdb/mnist): a big-endian header
 *
 *   [0x00 0x00] [dtype code] [number of dims D] [D x u32 size]
 *
 * followed by the elements in row-major order. Only dtype 0x08 (unsigned byte) is read,
 * which is what MNIST uses.
 */

export interface IdxArray {
  shape: number[];
  /** A view into the input bytes (no copy). */
  data: Uint8Array;
}

const DTYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double',
};

export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.length < 4) throw new Error(`truncated IDX file: ${bytes.length} bytes, fewer than the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hint = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (gzip-compressed: decompress it first)' : '';
    throw new Error(`bad IDX magic number 0x${hex(magic)}: not an IDX file${hint}`);
  }
  const code = bytes[2];
  if (code !== 0x08) {
    const name = DTYPE_NAMES[code] ?? 'unknown';
    throw new Error(`bad IDX magic number 0x${hex(magic)}: dtype code 0x${code.toString(16).padStart(2, '0')} (${name}) is not supported, only 0x08 (unsigned byte)`);
  }
  const dims = bytes[3];
  const dataStart = 4 + 4 * dims;
  if (dims === 0) throw new Error(`bad IDX magic number 0x${hex(magic)}: zero dimensions`);
  if (bytes.length < dataStart) {
    throw new Error(`truncated IDX file: header needs ${dataStart} bytes for ${dims} dimensions, file has ${bytes.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const size = shape.reduce((a, b) => a * b, 1);
  const available = bytes.length - dataStart;
  if (available < size) {
    throw new Error(`truncated IDX file: shape [${shape.join(', ')}] needs ${size} data bytes, file has ${available}`);
  }
  if (available > size) {
    throw new Error(`bad IDX file: shape [${shape.join(', ')}] needs ${size} data bytes, file has ${available - size} extra bytes after them`);
  }
  return { shape, data: bytes.subarray(dataStart, dataStart + size) };
}

function hex(x: number): string {
  return x.toString(16).padStart(8, '0');
}
