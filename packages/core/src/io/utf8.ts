/**
 * UTF-8 through the platform's TextEncoder/TextDecoder (present in browsers and Node). Core
 * compiles against lib ES2022 without DOM types, so the two classes are typed here.
 */

interface Encoder { encode(text: string): Uint8Array }
interface Decoder { decode(bytes: Uint8Array): string }
interface TextCodecs {
  TextEncoder: new () => Encoder;
  TextDecoder: new (label: string, options: { fatal: boolean }) => Decoder;
}

const codecs = globalThis as unknown as TextCodecs;
const encoder = new codecs.TextEncoder();
const strictDecoder = new codecs.TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decode UTF-8; throws a TypeError on malformed input. */
export function utf8Decode(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}
