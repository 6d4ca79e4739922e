import type { FloatArray } from '../dtype.js';
import { matmulReference } from './matmul-reference.js';

/*
 * Blocked single-threaded matmul in plain TypeScript, GotoBLAS-style (Goto & van de Geijn,
 * "Anatomy of high-performance matrix multiplication", 2008):
 *
 *   for jc over N in NC blocks
 *     for pc over K in KC blocks:  pack op(B)[pc:pc+KC, jc:jc+NC] into NR-column panels
 *       for ic over M in MC blocks: pack op(A)[ic:ic+MC, pc:pc+KC] into MR-row panels
 *         for each NR panel, for each MR panel: MR×NR micro-kernel over KC
 *
 * Packing absorbs transA/transB, so one micro-kernel serves all four transpose cases, and
 * packs to float64 so the micro-kernel's loads need no float32→float64 conversion
 * (measured ~10% faster than float32 panels). Sums are accumulated in doubles within a KC
 * block and added into C (float32) between blocks.
 *
 * V8 specifics this code relies on (each measured on Node 20 / V8 11.3, x64):
 * - The packing buffers are module-level `const` typed arrays of fixed size (the blocking
 *   bounds what a block needs). TurboFan then embeds their data pointer and length as
 *   constants in the micro-kernel: no map checks or base-pointer reloads per load
 *   (~20% faster than passing the buffers as parameters or growing them on demand).
 * - Index arithmetic is written `(i + c) | 0` so it compiles to a plain 32-bit add with no
 *   overflow check (~5%).
 * - MR×NR = 4×3: 12 accumulators plus 4 A values and one B value fit the 15 allocatable
 *   XMM registers, so nothing spills; larger tiles (4×4, 4×6, 8×4, 6×6) spilled and were
 *   slower, smaller ones did more loads per flop.
 *
 * The float32 path is monomorphic: anything that is not float32 throughout (gradient
 * checks run in float64) goes to the reference triple loop, which accumulates in double
 * and is exact enough for central differences. C with one or two rows or columns takes a
 * matrix-vector path instead of mostly-padding tiles.
 *
 * C must not alias A or B.
 */

/** Micro-tile rows (op(A) rows per panel). The micro-kernel below is written out for 4. */
const MR = 4;
/** Micro-tile columns (op(B) columns per panel). The micro-kernel below is written out for 3. */
const NR = 3;
/** K block: one packed B micro-panel is KC·NR doubles = 6 KiB, inside L1. */
const KC = 256;
/** M block (multiple of MR): the packed A block is MC·KC doubles = 128 KiB, inside L2. */
const MC = 64;
/** N block (multiple of NR): the packed B block is KC·NC doubles = 768 KiB, inside L2. */
const NC = 384;

const PACK_A = new Float64Array(MC * KC);
const PACK_B = new Float64Array(KC * NC);
/** Accumulators of an edge tile, copied out element by element. */
const EDGE = new Float64Array(MR * NR);
/** Matrix-vector accumulators for a chunk of outputs. */
const GEMV_CHUNK = 1024;
const GEMV_ACC = new Float64Array(GEMV_CHUNK);
/**
 * With fewer rows (or columns) of C than this, a product is done as matrix-vector products:
 * a 4×3 tile would be mostly padding and packing the other operand would dominate.
 * (Measured: at 2 rows ~2.7 vs ~1.9 GFLOP/s; at 3 rows or columns the tiles win or tie.)
 */
const GEMV_BELOW = 3;

/**
 * C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`; same contract as
 * `matmulReference` (row-major; op(A) is M×K, stored K×M when `transA`; op(B) is K×N,
 * stored N×K when `transB`).
 */
export function matmulBlocked(
  a: FloatArray, b: FloatArray, c: FloatArray,
  m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): void {
  if (a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    matmulF32(a, b, c, m, n, k, transA, transB, accumulate);
  } else {
    matmulReference(a, b, c, m, n, k, transA, transB, accumulate);
  }
}

function matmulF32(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  if (n < GEMV_BELOW) {
    // Column by column: C[:, j] = op(A)·x with x = op(B)[:, j].
    for (let j = 0; j < n; j++) {
      const xo = transB ? j * k : j, xs = transB ? 1 : n;
      if (transA) axpyRows(a, b, xo, xs, c, j, n, k, m, accumulate);
      else dotRows(a, b, xo, xs, c, j, n, m, k, accumulate);
    }
    return;
  }
  if (m < GEMV_BELOW) {
    // Row by row: C[i, :] = x·op(B) with x = op(A)[i, :].
    for (let i = 0; i < m; i++) {
      const xo = transA ? i : i * k, xs = transA ? m : 1;
      if (transB) dotRows(b, a, xo, xs, c, i * n, 1, n, k, accumulate);
      else axpyRows(b, a, xo, xs, c, i * n, 1, k, n, accumulate);
    }
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b, n, k, pc, jc, kc, nc, transB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, m, k, ic, pc, mc, kc, transA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          const pb = jr * kc;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            microKernel(kc, ir * kc, pb, c, (ic + ir) * n + jc + jr, n, mr, nr, add);
          }
        }
      }
    }
  }
}

/**
 * Packs op(A)[ic:ic+mc, pc:pc+kc] into PACK_A as MR-row panels, each laid out [p][MR]
 * (panel r starts at r·MR·kc); rows past mc are zero.
 */
function packA(
  a: Float32Array, m: number, k: number,
  ic: number, pc: number, mc: number, kc: number, transA: boolean,
): void {
  const dst = PACK_A;
  let d = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = Math.min(MR, mc - ir);
    const i0 = ic + ir;
    if (!transA) {
      // op(A)(i, p) = a[i·k + p]
      if (mr === MR) {
        const r0 = i0 * k + pc, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
        for (let p = 0; p < kc; p++) {
          dst[d] = a[r0 + p]; dst[d + 1] = a[r1 + p]; dst[d + 2] = a[r2 + p]; dst[d + 3] = a[r3 + p];
          d += MR;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let i = 0; i < MR; i++) dst[d + i] = i < mr ? a[(i0 + i) * k + pc + p] : 0;
          d += MR;
        }
      }
    } else {
      // op(A)(i, p) = a[p·m + i]
      if (mr === MR) {
        for (let p = 0; p < kc; p++) {
          const r = (pc + p) * m + i0;
          dst[d] = a[r]; dst[d + 1] = a[r + 1]; dst[d + 2] = a[r + 2]; dst[d + 3] = a[r + 3];
          d += MR;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const r = (pc + p) * m + i0;
          for (let i = 0; i < MR; i++) dst[d + i] = i < mr ? a[r + i] : 0;
          d += MR;
        }
      }
    }
  }
}

/**
 * Packs op(B)[pc:pc+kc, jc:jc+nc] into PACK_B as NR-column panels, each laid out [p][NR]
 * (panel r starts at r·NR·kc); columns past nc are zero.
 */
function packB(
  b: Float32Array, n: number, k: number,
  pc: number, jc: number, kc: number, nc: number, transB: boolean,
): void {
  const dst = PACK_B;
  let d = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const j0 = jc + jr;
    if (!transB) {
      // op(B)(p, j) = b[p·n + j]
      if (nr === NR) {
        for (let p = 0; p < kc; p++) {
          const r = (pc + p) * n + j0;
          dst[d] = b[r]; dst[d + 1] = b[r + 1]; dst[d + 2] = b[r + 2];
          d += NR;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const r = (pc + p) * n + j0;
          for (let j = 0; j < NR; j++) dst[d + j] = j < nr ? b[r + j] : 0;
          d += NR;
        }
      }
    } else {
      // op(B)(p, j) = b[j·k + p]
      if (nr === NR) {
        const r0 = j0 * k + pc, r1 = r0 + k, r2 = r1 + k;
        for (let p = 0; p < kc; p++) {
          dst[d] = b[r0 + p]; dst[d + 1] = b[r1 + p]; dst[d + 2] = b[r2 + p];
          d += NR;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let j = 0; j < NR; j++) dst[d + j] = j < nr ? b[(j0 + j) * k + pc + p] : 0;
          d += NR;
        }
      }
    }
  }
}

/**
 * The 4×3 micro-kernel: C[ci.., 4 rows × 3 cols, row stride ldc] (+)= A panel · B panel
 * over kc, reading PACK_A from `pa` and PACK_B from `pb`. Only the top-left mr×nr of the
 * tile is written (edge tiles).
 */
function microKernel(
  kc: number, pa: number, pb: number,
  c: Float32Array, ci: number, ldc: number, mr: number, nr: number, add: boolean,
): void {
  const A = PACK_A, B = PACK_B;
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let c20 = 0, c21 = 0, c22 = 0;
  let c30 = 0, c31 = 0, c32 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = A[pa], a1 = A[(pa + 1) | 0], a2 = A[(pa + 2) | 0], a3 = A[(pa + 3) | 0];
    const b0 = B[pb];
    c00 += a0 * b0; c10 += a1 * b0; c20 += a2 * b0; c30 += a3 * b0;
    const b1 = B[(pb + 1) | 0];
    c01 += a0 * b1; c11 += a1 * b1; c21 += a2 * b1; c31 += a3 * b1;
    const b2 = B[(pb + 2) | 0];
    c02 += a0 * b2; c12 += a1 * b2; c22 += a2 * b2; c32 += a3 * b2;
    pa = (pa + 4) | 0;
    pb = (pb + 3) | 0;
  }
  if (mr === MR && nr === NR) {
    const r1 = ci + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
    if (add) {
      c[ci] += c00; c[ci + 1] += c01; c[ci + 2] += c02;
      c[r1] += c10; c[r1 + 1] += c11; c[r1 + 2] += c12;
      c[r2] += c20; c[r2 + 1] += c21; c[r2 + 2] += c22;
      c[r3] += c30; c[r3 + 1] += c31; c[r3 + 2] += c32;
    } else {
      c[ci] = c00; c[ci + 1] = c01; c[ci + 2] = c02;
      c[r1] = c10; c[r1 + 1] = c11; c[r1 + 2] = c12;
      c[r2] = c20; c[r2 + 1] = c21; c[r2 + 2] = c22;
      c[r3] = c30; c[r3 + 1] = c31; c[r3 + 2] = c32;
    }
    return;
  }
  const t = EDGE;
  t[0] = c00; t[1] = c01; t[2] = c02;
  t[3] = c10; t[4] = c11; t[5] = c12;
  t[6] = c20; t[7] = c21; t[8] = c22;
  t[9] = c30; t[10] = c31; t[11] = c32;
  for (let i = 0; i < mr; i++) {
    const r = ci + i * ldc;
    const s = i * NR;
    if (add) for (let j = 0; j < nr; j++) c[r + j] += t[s + j];
    else for (let j = 0; j < nr; j++) c[r + j] = t[s + j];
  }
}

/*
 * The matrix-vector paths round exactly like the tiles: each output's products are summed
 * in double in p order within a KC block, and the block sums are added into the float32
 * output one by one. So every C[i, j] is bitwise the same whichever path computed it; it
 * depends on row i of op(A) and column j of op(B), never on M or N (a batch split into
 * shards gives the same rows).
 */

/**
 * y[yo + r·ys] (+)= Σp mat[r·len + p]·x[xo + p·xs] for r < rows: dot products of the
 * contiguous rows of a rows×len matrix with a strided vector.
 */
function dotRows(
  mat: Float32Array, x: Float32Array, xo: number, xs: number,
  y: Float32Array, yo: number, ys: number,
  rows: number, len: number, accumulate: boolean,
): void {
  for (let p0 = 0; p0 < len; p0 += KC) {
    const p1 = Math.min(len, p0 + KC);
    const add = accumulate || p0 > 0;
    const q0 = xo + p0 * xs;
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const o0 = r * len, o1 = o0 + len, o2 = o1 + len, o3 = o2 + len;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = p0, q = q0; p < p1; p++, q += xs) {
        const xp = x[q];
        s0 += mat[o0 + p] * xp;
        s1 += mat[o1 + p] * xp;
        s2 += mat[o2 + p] * xp;
        s3 += mat[o3 + p] * xp;
      }
      const y0 = yo + r * ys, y1 = y0 + ys, y2 = y1 + ys, y3 = y2 + ys;
      if (add) { y[y0] += s0; y[y1] += s1; y[y2] += s2; y[y3] += s3; }
      else { y[y0] = s0; y[y1] = s1; y[y2] = s2; y[y3] = s3; }
    }
    for (; r < rows; r++) {
      const o = r * len;
      let s = 0;
      for (let p = p0, q = q0; p < p1; p++, q += xs) s += mat[o + p] * x[q];
      const yr = yo + r * ys;
      y[yr] = add ? y[yr] + s : s;
    }
  }
}

/**
 * y[yo + j·ys] (+)= Σp x[xo + p·xs]·mat[p·cols + j] for j < cols: a combination of the
 * contiguous rows of a rows×cols matrix, accumulated in double over chunks of GEMV_CHUNK
 * outputs.
 */
function axpyRows(
  mat: Float32Array, x: Float32Array, xo: number, xs: number,
  y: Float32Array, yo: number, ys: number,
  rows: number, cols: number, accumulate: boolean,
): void {
  const t = GEMV_ACC;
  for (let j0 = 0; j0 < cols; j0 += GEMV_CHUNK) {
    const w = Math.min(GEMV_CHUNK, cols - j0);
    const y0 = yo + j0 * ys;
    for (let p0 = 0; p0 < rows; p0 += KC) {
      const p1 = Math.min(rows, p0 + KC);
      t.fill(0, 0, w);
      let p = p0;
      for (; p + 4 <= p1; p += 4) {
        const q = xo + p * xs;
        const x0 = x[q], x1 = x[q + xs], x2 = x[q + 2 * xs], x3 = x[q + 3 * xs];
        const o0 = p * cols + j0, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
        for (let j = 0; j < w; j++) {
          // Left to right, as four separate `+=`: the same order as the tiles.
          t[j] = t[j] + x0 * mat[o0 + j] + x1 * mat[o1 + j] + x2 * mat[o2 + j] + x3 * mat[o3 + j];
        }
      }
      for (; p < p1; p++) {
        const xp = x[xo + p * xs];
        const o = p * cols + j0;
        for (let j = 0; j < w; j++) t[j] += xp * mat[o + j];
      }
      if (accumulate || p0 > 0) for (let j = 0; j < w; j++) y[y0 + j * ys] += t[j];
      else for (let j = 0; j < w; j++) y[y0 + j * ys] = t[j];
    }
  }
}
