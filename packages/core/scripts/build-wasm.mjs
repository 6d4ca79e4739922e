// Compiles the AssemblyScript kernels and embeds each module into a TypeScript file
// (scripts/embed-wasm-module.mjs) that @flotilla/core instantiates synchronously.
// matmul is built twice: plain SIMD, and relaxed SIMD for fused multiply-add (matmul-wasm.ts
// picks the second where the runtime takes it). Usage: node scripts/build-wasm.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODULES = [
  { source: 'assembly/matmul.ts', wasm: 'dist/matmul.wasm', out: 'src/kernels/matmul-wasm-bytes.ts', name: 'MATMUL_WASM_BASE64', features: ['simd'] },
  { source: 'assembly/matmul.ts', wasm: 'dist/matmul-fma.wasm', out: 'src/kernels/matmul-fma-wasm-bytes.ts', name: 'MATMUL_FMA_WASM_BASE64', features: ['simd', 'relaxed-simd'] },
  { source: 'assembly/elementwise.ts', wasm: 'dist/elementwise.wasm', out: 'src/kernels/elementwise-wasm-bytes.ts', name: 'ELEMENTWISE_WASM_BASE64', features: ['simd'] },
];

mkdirSync(resolve(root, 'dist'), { recursive: true });
for (const m of MODULES) {
  const enable = m.features.flatMap((f) => ['--enable', f]);
  execFileSync('npx', ['asc', m.source, '-O3', '--runtime', 'stub', ...enable, '--noAssert', '-o', m.wasm], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/embed-wasm-module.mjs', m.wasm, m.out, m.name, m.source], { cwd: root, stdio: 'inherit' });
}
