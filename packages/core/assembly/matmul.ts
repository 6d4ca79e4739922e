// AssemblyScript source of the WebAssembly SIMD matmul (compiled by `npm run build:wasm`,
// embedded into src/kernels/matmul-wasm-bytes.ts by scripts/embed-wasm-module.mjs). Not part of the
// TypeScript build: it uses AssemblyScript's v128/f32x4 builtins.
//
// GotoBLAS-style blocking, as in matmul-blocked.ts, but in float32 with 128-bit lanes:
//   for jc over N in NC blocks
//     for pc over K in KC blocks:  pack op(B)[pc:pc+KC, jc:jc+NC] into NR-column panels
//       for ic over M in MC blocks: pack op(A)[ic:ic+MC, pc:pc+KC] into MR-row panels
//         for each NR panel, for each MR panel: MR×NR micro-kernel over KC
// The micro-kernel is MR×NR = 4×8: eight f32x4 accumulators, one B panel row (2×v128)
// and one broadcast A value per step, summed in float32 over KU steps and then into a
// float64 4×8 tile (so rounding stays close to the TypeScript kernels'). Packing absorbs
// transA/transB and pads edge panels with zeros; edge tiles go through a scratch tile and
// only their valid part reaches C.
// The first K block stores C (or adds into it when accumulating), later ones add.
//
// Built twice (package.json's build:wasm): with plain SIMD, where each step is a multiply
// then an add, and with relaxed SIMD (`--enable relaxed-simd`), where it is one
// f32x4.relaxed_madd, a fused multiply-add on CPUs with FMA (x86-64 since Haswell, ARM64).
// The fused build is ~40% faster and its one rounding per step (not two) lets the float32
// runs grow from 16 to 32 steps for about the same error; see matmul-wasm.ts for numbers.
// A larger tile does not pay: 4×8 uses 14 of the 15 xmm registers V8 allocates, and 6×8
// or 4×12 spill accumulators every step (measured 25–33 GFLOP/s against 40).
//
// All addresses are byte offsets chosen by the JavaScript wrapper (matmul-wasm.ts), which
// copies A, B (and C when accumulating) into linear memory and copies C out.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;
/** Float32 partial sums run over at most KU steps before they are added into float64. */
const KU: i32 = ASC_FEATURE_RELAXED_SIMD ? 32 : 16;

/** c + a·b per lane: fused (one rounding) in the relaxed-SIMD build, else multiply then add. */
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Bytes of scratch the wrapper must reserve at `work`: packed A, packed B, edge tile, float64 tile. */
export const WORK_BYTES: i32 = ((MC * KC + KC * NC + MR * NR) << 2) + (MR * NR << 3);

/** op(A)[i0:i0+mc, p0:p0+kc] → MR-row panels, each kc steps of MR floats (zero padded). */
function packA(a: usize, lda: i32, transA: bool, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    if (!transA) {
      // A[i, p] at a + (i*lda + p)*4, lda = K
      if (mr == MR) {
        let r0 = a + ((<usize>(i0 + ir) * lda + p0) << 2);
        let r1 = r0 + (<usize>lda << 2);
        let r2 = r1 + (<usize>lda << 2);
        let r3 = r2 + (<usize>lda << 2);
        for (let p = 0; p < kc; p++) {
          store<f32>(dst, load<f32>(r0));
          store<f32>(dst, load<f32>(r1), 4);
          store<f32>(dst, load<f32>(r2), 8);
          store<f32>(dst, load<f32>(r3), 12);
          r0 += 4; r1 += 4; r2 += 4; r3 += 4;
          dst += 16;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(a + ((<usize>(i0 + ir + r) * lda + p0 + p) << 2)) : 0);
          }
          dst += 16;
        }
      }
    } else {
      // A stored K×M: op(A)[i, p] = A[p, i] at a + (p*lda + i)*4, lda = M
      if (mr == MR) {
        let src = a + ((<usize>p0 * lda + i0 + ir) << 2);
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          src += <usize>lda << 2;
          dst += 16;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(a + ((<usize>(p0 + p) * lda + i0 + ir + r) << 2)) : 0);
          }
          dst += 16;
        }
      }
    }
  }
}

/** op(B)[p0:p0+kc, j0:j0+nc] → NR-column panels, each kc steps of NR floats (zero padded). */
function packB(b: usize, ldb: i32, transB: bool, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    if (!transB) {
      // B stored K×N: op(B)[p, j] = B[p, j] at b + (p*ldb + j)*4, ldb = N
      if (nr == NR) {
        let src = b + ((<usize>p0 * ldb + j0 + jr) << 2);
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += <usize>ldb << 2;
          dst += 32;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(b + ((<usize>(p0 + p) * ldb + j0 + jr + c) << 2)) : 0);
          }
          dst += 32;
        }
      }
    } else {
      // B stored N×K: op(B)[p, j] = B[j, p] at b + (j*ldb + p)*4, ldb = K
      if (nr == NR) {
        const row = <usize>ldb << 2;
        let s0 = b + ((<usize>(j0 + jr) * ldb + p0) << 2);
        for (let p = 0; p < kc; p++) {
          let s = s0;
          store<f32>(dst, load<f32>(s)); s += row;
          store<f32>(dst, load<f32>(s), 4); s += row;
          store<f32>(dst, load<f32>(s), 8); s += row;
          store<f32>(dst, load<f32>(s), 12); s += row;
          store<f32>(dst, load<f32>(s), 16); s += row;
          store<f32>(dst, load<f32>(s), 20); s += row;
          store<f32>(dst, load<f32>(s), 24); s += row;
          store<f32>(dst, load<f32>(s), 28);
          s0 += 4;
          dst += 32;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(b + ((<usize>(j0 + jr + c) * ldb + p0 + p) << 2)) : 0);
          }
          dst += 32;
        }
      }
    }
  }
}

/** Adds the four float32 lanes of v to the two float64x2 accumulators at p and p + 16. */
// @ts-ignore: decorator
@inline
function flush(p: usize, v: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3))));
}

/** C row segment (4 floats at c) = or += the float32 rounding of the float64 sums at p. */
// @ts-ignore: decorator
@inline
function finish(p: usize, c: usize, add: bool): void {
  let v = f32x4.shuffle(
    f32x4.demote_f64x2_zero(v128.load(p)), f32x4.demote_f64x2_zero(v128.load(p + 16)), 0, 1, 4, 5,
  );
  if (add) v = f32x4.add(v128.load(c), v);
  v128.store(c, v);
}

/**
 * C[0:4, 0:8] (row stride ldc bytes) = or += packed A panel · packed B panel over kc.
 * Products are summed in float32 over runs of KU steps (eight f32x4 accumulators in
 * registers), and the chunk sums in float64 (a 4×8 tile of doubles at `acc`, in L1), so
 * the rounding error stays close to the TypeScript kernels' (which sum in double): the
 * float32 part is a sum of at most KU terms. The block sum is rounded to float32 once and
 * then stored, or added to C in float32 — the same two roundings as an edge tile, so every
 * C[i, j] is bitwise independent of where its tile sits.
 */
// @ts-ignore: decorator
@inline
function kernel(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, add: bool, acc: usize): void {
  const zero = f64x2.splat(0);
  for (let q: usize = 0; q < 256; q += 16) v128.store(acc + q, zero);
  for (let p0 = 0; p0 < kc; p0 += KU) {
    const pe = min(kc, p0 + KU);
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    for (let p = p0; p < pe; p++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = madd(a, b0, c00);
      c01 = madd(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = madd(a, b0, c10);
      c11 = madd(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = madd(a, b0, c20);
      c21 = madd(a, b1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = madd(a, b0, c30);
      c31 = madd(a, b1, c31);
      pa += 16;
      pb += 32;
    }
    flush(acc, c00); flush(acc + 32, c01);
    flush(acc + 64, c10); flush(acc + 96, c11);
    flush(acc + 128, c20); flush(acc + 160, c21);
    flush(acc + 192, c30); flush(acc + 224, c31);
  }
  finish(acc, c, add); finish(acc + 32, c + 16, add); c += ldc;
  finish(acc + 64, c, add); finish(acc + 96, c + 16, add); c += ldc;
  finish(acc + 128, c, add); finish(acc + 160, c + 16, add); c += ldc;
  finish(acc + 192, c, add); finish(acc + 224, c + 16, add);
}

/**
 * C (m×n at c) = op(A)·op(B), or += when `accumulate`; A at a, B at b; `work` is
 * WORK_BYTES of scratch. All pointers are byte offsets, 16-byte aligned.
 */
export function matmul(
  a: usize, b: usize, c: usize, m: i32, n: i32, k: i32,
  transA: bool, transB: bool, accumulate: bool, work: usize,
): void {
  const packedA = work;
  const packedB = packedA + (<usize>(MC * KC) << 2);
  const edge = packedB + (<usize>(KC * NC) << 2);
  const acc = edge + (<usize>(MR * NR) << 2);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const ldc = <usize>n << 2;
  if (k == 0) {
    if (!accumulate) memory.fill(c, 0, <usize>m * n * 4);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b, ldb, transB, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a, lda, transA, ic, pc, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = packedA + (<usize>(ir * kc) << 2);
            const cp = c + (<usize>(ic + ir) * ldc) + (<usize>(jc + jr) << 2);
            if (mr == MR && nr == NR) {
              kernel(pa, pb, kc, cp, ldc, add, acc);
            } else {
              kernel(pa, pb, kc, edge, <usize>(NR << 2), false, acc);
              for (let r = 0; r < mr; r++) {
                for (let q = 0; q < nr; q++) {
                  const dst = cp + <usize>r * ldc + (<usize>q << 2);
                  const v = load<f32>(edge + (<usize>(r * NR + q) << 2));
                  store<f32>(dst, add ? load<f32>(dst) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}
