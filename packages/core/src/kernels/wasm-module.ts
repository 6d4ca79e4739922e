/*
 * What the embedded WebAssembly kernels share: the little of the WebAssembly JS API they use
 * (`lib` is ES2022 only: core must not depend on DOM or Node typings), base64 decoding, a
 * synchronous instantiation that reports "unavailable" instead of throwing, and memory growth.
 */

export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }

declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
};

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes standard base64 (no Buffer/atob: neither is in ES2022). */
export function decodeBase64(text: string): Uint8Array {
  const lookup = new Uint8Array(128);
  for (let i = 0; i < B64.length; i++) lookup[B64.charCodeAt(i)] = i;
  let len = text.length;
  while (len > 0 && text[len - 1] === '=') len--;
  const out = new Uint8Array((len * 3) >> 2);
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const a = lookup[text.charCodeAt(i)];
    const b = lookup[text.charCodeAt(i + 1)];
    const c = i + 2 < len ? lookup[text.charCodeAt(i + 2)] : 0;
    const d = i + 3 < len ? lookup[text.charCodeAt(i + 3)] : 0;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/**
 * The exports of an embedded module, compiled and instantiated synchronously on the first
 * call (a few KB; Chrome refuses this on its main thread above 4 KB) after `before` has seen
 * its bytes. Null where WebAssembly or the module's SIMD proposal is unavailable, so callers
 * stay on their TypeScript kernels.
 */
export function lazyInstance<T>(base64: string, before: (bytes: Uint8Array) => void = () => {}): () => T | null {
  let exports: T | null | undefined; // undefined: not tried yet
  return () => {
    if (exports === undefined) {
      const bytes = decodeBase64(base64);
      before(bytes);
      try {
        exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as T;
      } catch {
        exports = null;
      }
    }
    return exports;
  };
}

/**
 * Lets V8 compile the relaxed-SIMD `bytes` where that proposal is still behind a flag:
 * Node 20 (V8 11.3; on by default from V8 11.4: Node 21 and later, current browsers). It sets
 * the flag with node:v8's setFlagsFromString, reached through process.getBuiltinModule
 * (Node ≥ 20.16) since core imports no Node modules, and only if the bytes do not validate
 * already. V8 flags are process-wide: worker threads started later see it too. Elsewhere
 * it does nothing, and the caller falls back to its plain-SIMD build.
 */
export function allowRelaxedSimd(bytes: Uint8Array): void {
  try {
    if (WebAssembly.validate(bytes)) return;
    const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const v8 = process?.getBuiltinModule?.('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
    v8?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
  } catch {
    // No WebAssembly at all: instantiation will say so.
  }
}

/** Grows `memory` until it holds at least `end` bytes. */
export function ensureMemory(memory: WasmMemory, end: number): void {
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
}
