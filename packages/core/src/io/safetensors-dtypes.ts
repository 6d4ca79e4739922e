/**
 * Element types of the safetensors format and their conversion to and from little-endian
 * bytes. Everything is read into a fresh (so aligned) Float32Array: floats round to nearest,
 * integers above 2^24 lose precision.
 */

/** Bytes per element of each dtype this reader converts. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export function isSupportedDtype(dtype: string): boolean {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BYTES, dtype);
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 binary16 bits to a number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The little-endian bytes of `data`: a view on little-endian hosts, a copy otherwise. */
export function float32ToBytesLE(data: Float32Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/**
 * `count` elements of `dtype` stored little-endian in `bytes` (any byte offset), converted
 * into a new Float32Array. The caller has checked the dtype and that the length fits.
 */
export function bytesToFloat32(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32' && HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
    return out;
  }
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32: shift the bits back into place.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = elementReader(dtype, view);
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

function elementReader(dtype: string, v: DataView): (i: number) => number {
  switch (dtype) {
    case 'F64': return (i) => v.getFloat64(i * 8, true);
    case 'F32': return (i) => v.getFloat32(i * 4, true);
    case 'F16': return (i) => halfToFloat(v.getUint16(i * 2, true));
    case 'I64': return (i) => Number(v.getBigInt64(i * 8, true));
    case 'I32': return (i) => v.getInt32(i * 4, true);
    case 'I16': return (i) => v.getInt16(i * 2, true);
    case 'I8': return (i) => v.getInt8(i);
    case 'U8': case 'BOOL': return (i) => v.getUint8(i);
    default: throw new Error(`unsupported safetensors dtype '${dtype}'`);
  }
}
