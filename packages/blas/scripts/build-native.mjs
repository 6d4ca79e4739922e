// Builds the optional native matmul kernel (node-gyp: python3, make and a C compiler, with
// Node's headers). Without them the build warns and goes on: the kernel then reports itself
// unavailable, and Flotilla runs on its WebAssembly kernels as before.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Leaves no addon behind (a stale one would load in place of the sources') and says why. */
function skip(why) {
  rmSync(resolve(root, 'build'), { recursive: true, force: true });
  process.stderr.write(`@flotilla/blas: the native kernel was not built (${why}); FLOTILLA_MATMUL=openblas will be unavailable\n`);
}

let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  gyp = null; // installed without dev dependencies
}
if (gyp === null) skip('node-gyp is not installed');
else {
  // Node's own headers where they sit beside its binary (Debian's nodejs, the official
  // tarballs), unless npm already says where (npm_config_nodedir): node-gyp would otherwise
  // download them, which an offline machine cannot (and a silent network would hang: hence
  // the time limit).
  const prefix = resolve(dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir === undefined && existsSync(resolve(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
  const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) skip((r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-3).join(' | '));
}
