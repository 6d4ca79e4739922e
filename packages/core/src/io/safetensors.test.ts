import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, parseSafetensorsHeader } from './safetensors.js';

/** A file built by hand from the format: u64 LE header length, JSON, raw data bytes. */
function buildFile(header: unknown, data: Uint8Array, headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength ?? json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('encodeSafetensors / decodeSafetensors', () => {
  it('round-trips names, shapes, bit-exact values and metadata', () => {
    const special = new Float32Array([0, -0, 1.5, -3.25e-39, Infinity, -Infinity, NaN, 3.4028234663852886e38]);
    new Uint32Array(special.buffer)[6] = 0x7fc12345; // a NaN with a payload
    const random = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453);
    const bytes = encodeSafetensors(
      [
        { name: '0.weight', shape: [2, 4], data: special },
        { name: 'scalar', shape: [], data: new Float32Array([7]) },
        { name: 'empty', shape: [0, 3], data: new Float32Array(0) },
        { name: 'héllo', shape: [3, 4, 5], data: random },
      ],
      { 'flotilla.spec': '{"layers":[]}', note: 'ünïcode' },
    );
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['0.weight', 'scalar', 'empty', 'héllo']);
    expect(file.tensors.get('0.weight')!.shape).toEqual([2, 4]);
    expect(file.tensors.get('0.weight')!.dtype).toBe('F32');
    expect(bits(file.tensors.get('0.weight')!.data)).toEqual(bits(special));
    expect(file.tensors.get('scalar')!.shape).toEqual([]);
    expect(Array.from(file.tensors.get('scalar')!.data)).toEqual([7]);
    expect(file.tensors.get('empty')!.data.length).toBe(0);
    expect(bits(file.tensors.get('héllo')!.data)).toEqual(bits(random));
    expect(file.metadata).toEqual({ 'flotilla.spec': '{"layers":[]}', note: 'ünïcode' });
  });

  it('accepts a record of tensors', () => {
    const file = decodeSafetensors(encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } }));
    expect(Array.from(file.tensors.get('a')!.data)).toEqual([1, 2]);
    expect(file.metadata).toEqual({});
  });

  it('writes exactly the reference layout: space-padded header, 8-aligned data, no gaps', () => {
    const bytes = encodeSafetensors([
      { name: 'w', shape: [2], data: new Float32Array([1, -2]) },
      { name: 'b', shape: [1], data: new Float32Array([0.5]) },
    ]);
    const json = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    const expected = buildFile(padded, f32Bytes([1, -2, 0.5]));
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('decodes a file built by hand from the format, at an unaligned offset, copying into aligned arrays', () => {
    const header = {
      __metadata__: { format: 'pt' },
      b: { dtype: 'F32', shape: [1, 1], data_offsets: [8, 12] },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    };
    const file = buildFile(header, f32Bytes([0.25, -1, 42]));
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const decoded = decodeSafetensors(shifted.subarray(3));
    const a = decoded.tensors.get('a')!;
    expect(a.data.byteOffset % 4).toBe(0);
    expect(a.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(a.data)).toEqual([0.25, -1]);
    expect(decoded.tensors.get('b')!.shape).toEqual([1, 1]);
    expect(Array.from(decoded.tensors.get('b')!.data)).toEqual([42]);
    expect(decoded.metadata).toEqual({ format: 'pt' });
    expect([...decoded.tensors.keys()]).toEqual(['a', 'b']); // data-section order
  });

  it('converts F64, F16, BF16, I64, I32 and U8 to float32', () => {
    const data = new Uint8Array(8 + 8 + 4 + 16 + 8 + 2);
    const v = new DataView(data.buffer);
    v.setFloat64(0, 0.1, true);
    v.setUint16(8, 0x3c00, true); v.setUint16(10, 0xc000, true); v.setUint16(12, 0x7c00, true); v.setUint16(14, 0x0001, true);
    v.setUint16(16, 0x3f80, true); v.setUint16(18, 0xc040, true);
    v.setBigInt64(20, -5n, true); v.setBigInt64(28, 2n ** 40n, true);
    v.setInt32(36, -7, true); v.setInt32(40, 123456, true);
    v.setUint8(44, 0); v.setUint8(45, 255);
    const file = buildFile({
      d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
      h: { dtype: 'F16', shape: [4], data_offsets: [8, 16] },
      bf: { dtype: 'BF16', shape: [2], data_offsets: [16, 20] },
      l: { dtype: 'I64', shape: [2], data_offsets: [20, 36] },
      i: { dtype: 'I32', shape: [2], data_offsets: [36, 44] },
      u: { dtype: 'U8', shape: [2], data_offsets: [44, 46] },
    }, data);
    const t = decodeSafetensors(file).tensors;
    expect(Array.from(t.get('d')!.data)).toEqual([Math.fround(0.1)]);
    expect(Array.from(t.get('h')!.data)).toEqual([1, -2, Infinity, 2 ** -24]);
    expect(Array.from(t.get('bf')!.data)).toEqual([1, -3]);
    expect(Array.from(t.get('l')!.data)).toEqual([-5, 2 ** 40]);
    expect(Array.from(t.get('i')!.data)).toEqual([-7, 123456]);
    expect(Array.from(t.get('u')!.data)).toEqual([0, 255]);
    expect(t.get('h')!.dtype).toBe('F16');
  });
});

describe('safetensors validation', () => {
  const good = () => encodeSafetensors([
    { name: 'a', shape: [2], data: new Float32Array([1, 2]) },
    { name: 'b', shape: [1], data: new Float32Array([3]) },
  ]);

  it('rejects a file shorter than 8 bytes', () => {
    expect(() => decodeSafetensors(new Uint8Array(5))).toThrow(/truncated: file has 5 bytes/);
  });

  it('rejects a header length larger than the file', () => {
    expect(() => decodeSafetensors(buildFile('{}', new Uint8Array(0), 100))).toThrow('truncated: header says 100 bytes, file has 2');
  });

  it('rejects a header that is not JSON or not an object', () => {
    expect(() => decodeSafetensors(buildFile('{"a": ', new Uint8Array(0)))).toThrow(/bad header: not valid JSON/);
    expect(() => decodeSafetensors(buildFile('[1,2]', new Uint8Array(0)))).toThrow('bad header: JSON is not an object');
    expect(() => decodeSafetensors(buildFile('null', new Uint8Array(0)))).toThrow('bad header: JSON is not an object');
  });

  it('names a tensor entry with a missing or invalid dtype, shape or offsets', () => {
    const data = f32Bytes([1, 2]);
    expect(() => decodeSafetensors(buildFile({ a: { shape: [2], data_offsets: [0, 8] } }, data)))
      .toThrow("tensor 'a' has no valid dtype");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, data)))
      .toThrow("tensor 'a' has dtype 'F8_E4M3', which this reader does not support");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data)))
      .toThrow("tensor 'a' has an invalid shape [-2]");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, data)))
      .toThrow("tensor 'a' has an invalid shape");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data)))
      .toThrow("tensor 'a' has invalid data_offsets [8,0]");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F32', shape: [2] } }, data)))
      .toThrow("tensor 'a' has invalid data_offsets");
  });

  it('rejects a shape whose size disagrees with the byte length', () => {
    const file = buildFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32Bytes([1, 2]));
    expect(() => decodeSafetensors(file)).toThrow("tensor 'a' has shape [3] of F32, which needs 12 bytes, but data_offsets span 8");
  });

  it('rejects overlapping offsets, gaps and trailing bytes', () => {
    const data = f32Bytes([1, 2, 3]);
    expect(() => decodeSafetensors(buildFile({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, data))).toThrow("tensor 'b' overlaps tensor 'a'");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data)))
      .toThrow("gap in the data section before tensor 'a'");
    expect(() => decodeSafetensors(buildFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data)))
      .toThrow('data section has 12 bytes but tensors end at 8');
  });

  it('names the tensor that runs past the end of a truncated file', () => {
    const bytes = good();
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow("truncated: tensor 'b' needs bytes up to 12, data has 8");
  });

  it('rejects non-string metadata values', () => {
    const file = buildFile({ __metadata__: { epoch: 3 }, a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } }, new Uint8Array(0));
    expect(() => decodeSafetensors(file)).toThrow("metadata value for key 'epoch' is not a string");
  });

  it('checks tensors it writes', () => {
    const t = { name: 'a', shape: [3], data: new Float32Array(2) };
    expect(() => encodeSafetensors([t])).toThrow('shape [3] has 3 elements, data has 2');
    const ok = { name: 'a', shape: [2], data: new Float32Array(2) };
    expect(() => encodeSafetensors([ok, ok])).toThrow("duplicate tensor name 'a'");
    expect(() => encodeSafetensors([ok], { n: 1 as unknown as string })).toThrow("key 'n' is not a string");
  });

  it('reports the data start after the padded header', () => {
    const bytes = good();
    const header = parseSafetensorsHeader(bytes);
    expect(header.dataStart % 8).toBe(0);
    expect(bytes.length - header.dataStart).toBe(12);
    expect(header.entries.map((e) => [e.name, e.begin, e.end])).toEqual([['a', 0, 8], ['b', 8, 12]]);
  });
});
