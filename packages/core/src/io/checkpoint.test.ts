import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpointInto, type TensorLayoutEntry } from './checkpoint.js';
import { crc32, crc32Hex } from './crc32.js';
import { decodeSafetensors, encodeSafetensors, parseSafetensorsHeader } from './safetensors.js';

// A small MLP: linear(2 -> 3), batchnorm(3), relu, linear(3 -> 1).
const spec = { input: [2], layers: [{ type: 'linear', out: 3 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'linear', out: 1 }] };
const paramLayout: TensorLayoutEntry[] = [
  { name: '0.weight', shape: [3, 2], offset: 0, size: 6 },
  { name: '0.bias', shape: [3], offset: 6, size: 3 },
  { name: '1.weight', shape: [3], offset: 9, size: 3 },
  { name: '1.bias', shape: [3], offset: 12, size: 3 },
  { name: '3.weight', shape: [1, 3], offset: 15, size: 3 },
  { name: '3.bias', shape: [1], offset: 18, size: 1 },
];
const bufferLayout: TensorLayoutEntry[] = [
  { name: '1.running_mean', shape: [3], offset: 0, size: 3 },
  { name: '1.running_var', shape: [3], offset: 3, size: 3 },
];
const params = Float32Array.from({ length: 19 }, (_, i) => Math.fround(Math.cos(i * 1.7) / 3));
const buffers = Float32Array.from([0.1, -0.2, 0.3, 1.5, 0.9, 1.1]);
const state = { epoch: 3, step: 1200, optimizer: { type: 'adam', lr: 0.001 } };

function write(extra = false): Uint8Array {
  return encodeCheckpoint({
    spec, state,
    params: { layout: paramLayout, data: params },
    buffers: { layout: bufferLayout, data: buffers },
    extra: extra ? [{ prefix: 'ema.', layout: paramLayout, data: params.map((x) => x * 2) }] : [],
    metadata: { createdBy: 'test' },
  });
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32Hex(crc32(new TextEncoder().encode('123456789')))).toBe('cbf43926');
    const bytes = new TextEncoder().encode('hello, world');
    expect(crc32(bytes.subarray(5), crc32(bytes.subarray(0, 5)))).toBe(crc32(bytes));
  });
});

describe('checkpoints', () => {
  it('writes PyTorch-named tensors and Flotilla metadata', () => {
    const file = decodeSafetensors(write());
    expect([...file.tensors.keys()]).toEqual([...paramLayout, ...bufferLayout].map((e) => e.name));
    expect(file.tensors.get('0.weight')!.shape).toEqual([3, 2]);
    expect(Array.from(file.tensors.get('3.weight')!.data)).toEqual(Array.from(params.subarray(15, 18)));
    expect(Array.from(file.tensors.get('1.running_var')!.data)).toEqual(Array.from(buffers.subarray(3)));
    expect(file.metadata['flotilla.format']).toBe('1');
    expect(JSON.parse(file.metadata['flotilla.spec']!)).toEqual(spec);
    expect(JSON.parse(file.metadata['flotilla.state']!)).toEqual(state);
    expect(file.metadata.createdBy).toBe('test');
  });

  it('stores the CRC-32 of the data section', () => {
    const bytes = write();
    const { dataStart, metadata } = parseSafetensorsHeader(bytes);
    expect(metadata['flotilla.crc32']).toBe(crc32Hex(crc32(bytes.subarray(dataStart))));
  });

  it('round-trips into fresh flat buffers', () => {
    const ckpt = decodeCheckpoint(write());
    expect(ckpt.spec).toEqual(spec);
    expect(ckpt.state).toEqual(state);
    const p = new Float32Array(19);
    const b = new Float32Array(6);
    loadCheckpointInto(ckpt, { params: { layout: paramLayout, data: p }, buffers: { layout: bufferLayout, data: b } });
    expect(Array.from(p)).toEqual(Array.from(params));
    expect(Array.from(b)).toEqual(Array.from(buffers));
  });

  it('detects a corrupt byte in the tensor data', () => {
    const bytes = write();
    bytes[bytes.length - 5] ^= 0x10;
    expect(() => decodeCheckpoint(bytes)).toThrow(/corrupt checkpoint: tensor data has CRC-32 [0-9a-f]{8}, metadata says [0-9a-f]{8}/);
  });

  it('detects a wrong stored checksum', () => {
    const original = decodeSafetensors(write());
    const tensors = [...original.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    const forged = encodeSafetensors(tensors, { ...original.metadata, 'flotilla.crc32': '00000000' });
    expect(() => decodeCheckpoint(forged)).toThrow('metadata says 00000000');
  });

  it('names a tensor whose shape disagrees with the model, and leaves the buffers untouched', () => {
    const ckpt = decodeCheckpoint(write());
    const wrong = paramLayout.map((e) => (e.name === '0.weight' ? { ...e, shape: [2, 3] } : e));
    const p = new Float32Array(19);
    expect(() => loadCheckpointInto(ckpt, { params: { layout: wrong, data: p }, buffers: { layout: bufferLayout, data: new Float32Array(6) } }))
      .toThrow("tensor '0.weight' has shape [3, 2], model expects [2, 3]");
    expect(p.every((x) => x === 0)).toBe(true);
  });

  it('names a missing tensor', () => {
    const ckpt = decodeCheckpoint(write());
    expect(() => loadCheckpointInto(ckpt, { params: { layout: paramLayout, data: new Float32Array(19) } }))
      .toThrow(/unexpected tensor '1.running_mean'.*unexpected tensor '1.running_var'/);
    const more = [...bufferLayout, { name: '1.num_batches_tracked', shape: [1], offset: 6, size: 1 }];
    expect(() => loadCheckpointInto(ckpt, { params: { layout: paramLayout, data: new Float32Array(19) }, buffers: { layout: more, data: new Float32Array(7) } }))
      .toThrow("checkpoint has no tensor '1.num_batches_tracked'");
  });

  it('rejects unexpected tensors unless their prefix is allowed, and loads prefixed groups', () => {
    const ckpt = decodeCheckpoint(write(true));
    const targets = { params: { layout: paramLayout, data: new Float32Array(19) }, buffers: { layout: bufferLayout, data: new Float32Array(6) } };
    expect(() => loadCheckpointInto(ckpt, targets)).toThrow("checkpoint has unexpected tensor 'ema.0.weight'");
    loadCheckpointInto(ckpt, targets, { allowExtraPrefixes: ['ema.'] });
    expect(Array.from(targets.params.data)).toEqual(Array.from(params));
    const ema = new Float32Array(19);
    loadCheckpointInto(ckpt, { ...targets, extra: [{ prefix: 'ema.', layout: paramLayout, data: ema }] });
    expect(Array.from(ema)).toEqual(Array.from(params.map((x) => x * 2)));
  });

  it('rejects files that are not Flotilla checkpoints and reserved metadata keys', () => {
    const plain = encodeSafetensors([{ name: 'a', shape: [1], data: new Float32Array(1) }]);
    expect(() => decodeCheckpoint(plain)).toThrow("not a Flotilla checkpoint: metadata has no 'flotilla.format'");
    expect(() => encodeCheckpoint({ spec, params: { layout: paramLayout, data: params }, metadata: { 'flotilla.spec': 'x' } }))
      .toThrow("metadata key 'flotilla.spec' is reserved");
  });

  it('rejects a layout that does not fit its flat buffer', () => {
    expect(() => encodeCheckpoint({ spec, params: { layout: paramLayout, data: new Float32Array(10) } }))
      .toThrow("layout entry '1.weight' (shape [3], offset 9, size 3) does not fit a flat buffer of 10");
  });
});
