import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeMessage, encodeMessage, type ProtocolErrorCode } from '../src/index.js';
import { atOffset, bytesOf, expectSameMessage, sampleMessages, seeded } from './helpers.js';

const CODES: ProtocolErrorCode[] = ['bad-frame', 'bad-header', 'unknown-type', 'version', 'bad-field', 'bad-length', 'non-finite'];
/** msgpack type bytes worth planting: bin, ext, fixext, array32, map32, str32, uint64, int64, float32, nil, never-used. */
const MSGPACK_TOKENS = [0xc4, 0xc7, 0xd4, 0xd6, 0xdd, 0xdf, 0xdb, 0xcf, 0xd3, 0xca, 0xc0, 0xc1, 0x90, 0x80, 0xa0, 0xff];

describe('fuzz', () => {
  it('decode returns a valid message or throws ProtocolError for 3,000 mutated frames', () => {
    const rand = seeded(20240607);
    const int = (n: number) => Math.floor(rand() * n);
    const frames = sampleMessages().map((m) => encodeMessage(m));
    const outcomes = new Map<string, number>();

    for (let iteration = 0; iteration < 3000; iteration++) {
      const source = frames[int(frames.length)];
      let bytes: Uint8Array = source.slice();
      const headerLength = new DataView(bytes.buffer).getUint32(0, true);
      const mutations = 1 + int(3);
      for (let m = 0; m < mutations; m++) {
        switch (int(8)) {
          case 0: // flip a bit anywhere
            if (bytes.length) bytes[int(bytes.length)] ^= 1 << int(8);
            break;
          case 1: // random byte inside the header
            bytes[4 + int(Math.min(headerLength, Math.max(bytes.length - 4, 1)))] = int(256);
            break;
          case 2: // plant a msgpack type byte inside the header
            bytes[4 + int(Math.min(headerLength, Math.max(bytes.length - 4, 1)))] = MSGPACK_TOKENS[int(MSGPACK_TOKENS.length)];
            break;
          case 3: // truncate
            bytes = bytes.subarray(0, int(bytes.length + 1));
            break;
          case 4: { // extend with random bytes
            const longer = new Uint8Array(bytes.length + 1 + int(16));
            longer.set(bytes);
            for (let i = bytes.length; i < longer.length; i++) longer[i] = int(256);
            bytes = longer;
            break;
          }
          case 5: // rewrite the length prefix
            if (bytes.length >= 4) {
              const value = rand() < 0.5 ? headerLength + int(17) - 8 : int(2 ** 32);
              new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, value >>> 0, true);
            }
            break;
          case 6: { // splice the head of one frame onto the tail of another
            const other = frames[int(frames.length)];
            const cut = int(Math.min(bytes.length, other.length) + 1);
            const spliced = new Uint8Array(cut + other.length - cut);
            spliced.set(bytes.subarray(0, cut));
            spliced.set(other.subarray(cut), cut);
            bytes = spliced;
            break;
          }
          default: // overwrite a payload float's exponent byte (NaN/Inf and wild values)
            if (bytes.length > 8) bytes[bytes.length - 1 - int(Math.min(8, bytes.length - 8))] = 0x7f | (int(2) << 7);
        }
      }
      const input = atOffset(bytes, int(8));
      let outcome: string;
      try {
        const message = decodeMessage(input);
        outcome = `ok ${message.type}`;
        // Anything accepted is a well-formed message: it re-encodes and survives another round.
        expectSameMessage(decodeMessage(encodeMessage(message)), message, expect);
      } catch (err) {
        if (!(err instanceof ProtocolError)) {
          throw new Error(`iteration ${iteration}: ${String(err)} for bytes ${bytesOf(input).slice(0, 64).join(',')}`);
        }
        expect(CODES).toContain(err.code);
        expect(err.message.length).toBeGreaterThan(0);
        outcome = err.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }

    const accepted = [...outcomes].filter(([k]) => k.startsWith('ok')).reduce((a, [, n]) => a + n, 0);
    expect(accepted).toBeGreaterThan(50);
    for (const code of ['bad-frame', 'bad-header', 'bad-field', 'bad-length', 'non-finite']) {
      expect(outcomes.get(code) ?? 0, `no mutation produced ${code}: ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
  }, 10_000);
});
