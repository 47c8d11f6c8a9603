#ifndef FOCUSD_NN_WINOGRAD_H
#define FOCUSD_NN_WINOGRAD_H

// Winograd F(4×4, 3×3) for the NN engine's 3×3, stride-1, padding-1 convolutions (NN's
// Conv2D+Winograd.swift drives it). Each 4×4 output tile needs 36 multiplies per (input, output)
// channel pair instead of 144: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A (Lavin & Gray 2016, points 0, ±1, ±2, ∞).
//
// A band is `rows` tile rows × `cols` tile columns of one image. Its tiles are the lanes of the
// transformed matrices, tile (r, tx0 + c) at lane r·(cols + 1) + c: one dummy lane between tile
// rows keeps the lanes of a row 4 pixels apart in the scratch rows, so 16 tiles' values at one offset
// are a 4-way deinterleave of 64 scratch floats. `lanes` is the band's lane count rounded up to 16; dummy and pad lanes
// are computed and never stored. Every lane (tile) is computed on its own and in a fixed order,
// so a pixel's value does not depend on how the image is cut into bands (nor on the threads).
//
//   u [36][cout/6][cin][6] transformed weights, ξ = 6·i + j (i along y, j along x), 6 channels a block
//   v [36][cin][lanes]    transformed input tiles of one band (planes ξ padded: nn_winograd_plane)
//   m [36][cout][lanes]   their products, summed over cin (likewise)
//
// Three builds of each kernel, chosen at run time from CPUID: AVX-512F (16-lane vectors in one
// register, 6×64 register tiles in the GEMM), AVX2+FMA (the same code on ymm pairs, 6×16 tiles) and
// portable C (SSE2, separate multiply and add). `nn_winograd_path()` says which is the fastest here;
// the entry points take the build to run (lowered to one the CPU has), so tests run all three.

#include "nn_kernels.h"

typedef float nn_v16 __attribute__((ext_vector_type(16)));
#define NN_INLINE static inline __attribute__((always_inline))

NN_INLINE nn_v16 nn_load16(const float *p) { nn_v16 v; __builtin_memcpy(&v, p, sizeof v); return v; }
NN_INLINE void nn_store16(float *p, nn_v16 v) { __builtin_memcpy(p, &v, sizeof v); }
NN_INLINE nn_v16 nn_madd16(nn_v16 a, nn_v16 b, nn_v16 c, int fused) {
    return fused ? __builtin_elementwise_fma(a, b, c) : a * b + c;
}
NN_INLINE float nn_madd1(float a, float b, float c, int fused) { return fused ? __builtin_fmaf(a, b, c) : a * b + c; }

/// s[k] = p[k], p[k + 4], …, p[k + 60] for k < 4: a 4-way deinterleave of 64 floats.
NN_INLINE void nn_deinterleave4(const float *p, nn_v16 s[4]) {
    nn_v16 a = nn_load16(p), b = nn_load16(p + 16), c = nn_load16(p + 32), d = nn_load16(p + 48);
    nn_v16 e0 = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    nn_v16 o0 = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    nn_v16 e1 = __builtin_shufflevector(c, d, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    nn_v16 o1 = __builtin_shufflevector(c, d, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    s[0] = __builtin_shufflevector(e0, e1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    s[2] = __builtin_shufflevector(e0, e1, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    s[1] = __builtin_shufflevector(o0, o1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    s[3] = __builtin_shufflevector(o0, o1, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/// Lanes 1…15 of `a`, then lane 0 of `b`.
NN_INLINE nn_v16 nn_next_lane(nn_v16 a, nn_v16 b) {
    return __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
}

/// out = v[0][0], v[1][0], v[2][0], v[3][0], v[0][1], … (64 floats): the inverse of nn_deinterleave4.
NN_INLINE void nn_interleave4(const nn_v16 v[4], nn_v16 out[4]) {
    nn_v16 lo01 = __builtin_shufflevector(v[0], v[1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    nn_v16 hi01 = __builtin_shufflevector(v[0], v[1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    nn_v16 lo23 = __builtin_shufflevector(v[2], v[3], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    nn_v16 hi23 = __builtin_shufflevector(v[2], v[3], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    out[0] = __builtin_shufflevector(lo01, lo23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    out[1] = __builtin_shufflevector(lo01, lo23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    out[2] = __builtin_shufflevector(hi01, hi23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    out[3] = __builtin_shufflevector(hi01, hi23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
}

/// z = Bᵀd for six points: the input transform along one axis.
#define NN_WINO_BT(T, SPLAT, MADD, d, z)                                            \
    do {                                                                            \
        T t1 = MADD(SPLAT(-4.0f), d[2], d[4], fused); /* d4 − 4·d2 */               \
        T t2 = MADD(SPLAT(-4.0f), d[1], d[3], fused); /* d3 − 4·d1 */               \
        T t3 = d[4] - d[2], t4 = d[3] - d[1];                                       \
        z[0] = MADD(SPLAT(4.0f), d[0], MADD(SPLAT(-5.0f), d[2], d[4], fused), fused); \
        z[1] = t1 + t2;                                                             \
        z[2] = t1 - t2;                                                             \
        z[3] = MADD(SPLAT(2.0f), t4, t3, fused);                                    \
        z[4] = MADD(SPLAT(-2.0f), t4, t3, fused);                                   \
        z[5] = MADD(SPLAT(4.0f), d[1], MADD(SPLAT(-5.0f), d[3], d[5], fused), fused); \
    } while (0)

/// o = Aᵀm for six points: the output transform along one axis.
#define NN_WINO_AT(T, SPLAT, MADD, m, o)                                            \
    do {                                                                            \
        T a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];       \
        o[0] = m[0] + a + c;                                                        \
        o[1] = MADD(SPLAT(2.0f), d, b, fused);                                      \
        o[2] = MADD(SPLAT(4.0f), c, a, fused);                                      \
        o[3] = MADD(SPLAT(8.0f), d, b, fused) + m[5];                               \
    } while (0)

#define NN_SPLAT16(s) ((nn_v16)(s))
#define NN_SPLAT1(s) (s)

/// Floats between transform positions ξ in v and m: `channels · lanes` and one cache line, so the
/// 36 positions of one tile do not all fall in the same L1 set (a plane is often a multiple of 4 KiB).
static inline long nn_winograd_plane(long channels, long lanes) { return channels * lanes + 16; }
/// Floats of v (or m) for `channels` channels and `lanes` lanes: `[36][channels][lanes]`, planes padded.
static inline long nn_winograd_band_floats(long channels, long lanes) { return 36 * nn_winograd_plane(channels, lanes); }

/// Floats of scratch `nn_winograd_input` needs.
static inline long nn_winograd_input_scratch(long width, long lanes) { return 6 * (4 * lanes + 64) + width + 16; }
/// Floats of scratch `nn_winograd_output` needs.
static inline long nn_winograd_output_scratch(long lanes) { return 4 * 4 * lanes; }

NN_INLINE void nn_wino_input_body(const float *x, long channels, long ciBegin, long ciEnd, long height, long width,
                                  long ty0, long rows, long tx0, long cols, long lanes, float *scratch, float *v,
                                  int fused) {
    const long rowLength = 4 * lanes + 64, segment = 4 * (cols + 1);
    const long positionStride = nn_winograd_plane(channels, lanes);
    float *z = scratch, *zeros = scratch + 6 * rowLength;
    for (long i = 0; i < width; i++) zeros[i] = 0;
    // Scratch position p of a segment holds x = 4·tx0 − 1 + p; the image covers [pLow, pHigh).
    const long xOrigin = 4 * tx0 - 1;
    long pLow = -xOrigin > 0 ? -xOrigin : 0, pHigh = width - xOrigin < segment ? width - xOrigin : segment;
    if (pHigh < pLow) pHigh = pLow;
    for (long k = 0; k < 6; k++)
        for (long p = rows * segment; p < rowLength; p++) z[k * rowLength + p] = 0;
    for (long ci = ciBegin; ci < ciEnd; ci++) {
        const float *plane = x + ci * height * width;
        // Along y: six scratch rows per tile row, zero outside the image.
        for (long r = 0; r < rows; r++) {
            const float *src[6];
            for (long k = 0; k < 6; k++) {
                long y = 4 * (ty0 + r) - 1 + k;
                src[k] = (y >= 0 && y < height ? plane + y * width : zeros) + xOrigin;
            }
            float *out = z + r * segment;
            for (long k = 0; k < 6; k++) {
                for (long p = 0; p < pLow; p++) out[k * rowLength + p] = 0;
                for (long p = pHigh; p < segment; p++) out[k * rowLength + p] = 0;
            }
            long p = pLow;
            for (; p + 16 <= pHigh; p += 16) {
                nn_v16 d[6], e[6];
                for (int k = 0; k < 6; k++) d[k] = nn_load16(src[k] + p);
                NN_WINO_BT(nn_v16, NN_SPLAT16, nn_madd16, d, e);
                for (int k = 0; k < 6; k++) nn_store16(out + k * rowLength + p, e[k]);
            }
            for (; p < pHigh; p++) {
                float d[6], e[6];
                for (int k = 0; k < 6; k++) d[k] = src[k][p];
                NN_WINO_BT(float, NN_SPLAT1, nn_madd1, d, e);
                for (int k = 0; k < 6; k++) out[k * rowLength + p] = e[k];
            }
        }
        // Along x: 16 tiles at a time. Tile t reads positions 4t … 4t + 5 of a scratch row: a 4-way
        // deinterleave of 64 floats gives offsets 0…3, the next block's gives 4 and 5.
        for (int i = 0; i < 6; i++) {
            const float *row = z + i * rowLength;
            nn_v16 now[4], next[4];
            nn_deinterleave4(row, now);
            for (long t0 = 0; t0 < lanes; t0 += 16) {
                nn_deinterleave4(row + 4 * (t0 + 16), next);
                nn_v16 d[6] = {now[0], now[1], now[2], now[3], nn_next_lane(now[0], next[0]), nn_next_lane(now[1], next[1])};
                nn_v16 e[6];
                NN_WINO_BT(nn_v16, NN_SPLAT16, nn_madd16, d, e);
                for (int j = 0; j < 6; j++) nn_store16(v + (6 * i + j) * positionStride + ci * lanes + t0, e[j]);
                for (int k = 0; k < 4; k++) now[k] = next[k];
            }
        }
    }
}

/// Output channels of one block of the packed weights.
#define NN_WINO_ROWS 6

/// Floats of the transformed weights: `[36][⌈cout/6⌉][cin][6]`.
static inline long nn_winograd_weights_count(long cout, long cin) {
    return 36 * ((cout + NN_WINO_ROWS - 1) / NN_WINO_ROWS) * NN_WINO_ROWS * cin;
}

/// c[r][16·j …] (+)= Σ_kk a[kk][r]·b[kk][16·j …] for R ≤ 6 rows and N ≤ 4 vectors of lanes; the
/// running sums start from c when `load` (a later slice of the input channels), else from 0, so the
/// sum runs over kk in one order however the channels are sliced.
NN_INLINE void nn_wino_tile(const float *a, const float *b, long ldb, float *c, long ldc, long k, int R, int N,
                            int load, int fused) {
    nn_v16 acc[6][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++)
#pragma clang loop unroll(full)
        for (int j = 0; j < 4; j++)
            if (r < R && j < N) acc[r][j] = load ? nn_load16(c + r * ldc + 16 * j) : NN_SPLAT16(0.0f);
    for (long kk = 0; kk < k; kk++) {
        nn_v16 bv[4];
#pragma clang loop unroll(full)
        for (int j = 0; j < 4; j++)
            if (j < N) bv[j] = nn_load16(b + kk * ldb + 16 * j);
#pragma clang loop unroll(full)
        for (int r = 0; r < 6; r++) {
            if (r >= R) break;
            nn_v16 av = NN_SPLAT16(a[kk * NN_WINO_ROWS + r]);
#pragma clang loop unroll(full)
            for (int j = 0; j < 4; j++)
                if (j < N) acc[r][j] = nn_madd16(av, bv[j], acc[r][j], fused);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        if (r >= R) break;
#pragma clang loop unroll(full)
        for (int j = 0; j < 4; j++)
            if (j < N) nn_store16(c + r * ldc + 16 * j, acc[r][j]);
    }
}

#define NN_WINO_TILE_CASE(RR, NN_)                                                          \
    case NN_ * 8 + RR: nn_wino_tile(a, b, lanes, c, lanes, kc, RR, NN_, k0 > 0, fused); break;

/// Blocks of up to 64 lanes (16 when not `wide`), slices of the input channels small enough that the
/// block's V stays in L1, then every 6-row block of output channels against it.
NN_INLINE void nn_wino_gemm_body(const float *u, const float *v, float *m, long cout, long cin, long lanes,
                                 long xiBegin, long xiEnd, long coBegin, long coEnd, int wide, int fused) {
    const long blocks = (cout + NN_WINO_ROWS - 1) / NN_WINO_ROWS;
    for (long xi = xiBegin; xi < xiEnd; xi++) {
        const float *uxi = u + xi * blocks * NN_WINO_ROWS * cin, *vxi = v + xi * nn_winograd_plane(cin, lanes);
        float *mxi = m + xi * nn_winograd_plane(cout, lanes);
        for (long t0 = 0; t0 < lanes;) {
            long left = (lanes - t0) / 16;
            int N = wide ? (left < 4 ? (int)left : 4) : 1;
            long slice = N == 1 ? 256 : 64;
            for (long k0 = 0; k0 < cin; k0 += slice) {
                long kc = cin - k0 < slice ? cin - k0 : slice;
                for (long co = coBegin; co < coEnd; co += NN_WINO_ROWS) {
                    int R = coEnd - co < NN_WINO_ROWS ? (int)(coEnd - co) : NN_WINO_ROWS;
                    const float *a = uxi + (co / NN_WINO_ROWS * cin + k0) * NN_WINO_ROWS;
                    const float *b = vxi + k0 * lanes + t0;
                    float *c = mxi + co * lanes + t0;
                    switch (N * 8 + R) {
                        NN_WINO_TILE_CASE(1, 1) NN_WINO_TILE_CASE(2, 1) NN_WINO_TILE_CASE(3, 1)
                        NN_WINO_TILE_CASE(4, 1) NN_WINO_TILE_CASE(5, 1) NN_WINO_TILE_CASE(6, 1)
                        NN_WINO_TILE_CASE(1, 2) NN_WINO_TILE_CASE(2, 2) NN_WINO_TILE_CASE(3, 2)
                        NN_WINO_TILE_CASE(4, 2) NN_WINO_TILE_CASE(5, 2) NN_WINO_TILE_CASE(6, 2)
                        NN_WINO_TILE_CASE(1, 3) NN_WINO_TILE_CASE(2, 3) NN_WINO_TILE_CASE(3, 3)
                        NN_WINO_TILE_CASE(4, 3) NN_WINO_TILE_CASE(5, 3) NN_WINO_TILE_CASE(6, 3)
                        NN_WINO_TILE_CASE(1, 4) NN_WINO_TILE_CASE(2, 4) NN_WINO_TILE_CASE(3, 4)
                        NN_WINO_TILE_CASE(4, 4) NN_WINO_TILE_CASE(5, 4) NN_WINO_TILE_CASE(6, 4)
                    }
                }
            }
            t0 += 16 * N;
        }
    }
}

NN_INLINE void nn_wino_output_body(const float *m, long channels, long coBegin, long coEnd, long lanes, long ty0,
                                   long rows, long tx0, long cols, long height, long width, const float *bias,
                                   int accumulate, float *y, float *scratch, int fused) {
    const long segment = 4 * (cols + 1), stripe = 4 * lanes;
    const long positionStride = nn_winograd_plane(channels, lanes);
    const long count = width - 4 * tx0 < 4 * cols ? width - 4 * tx0 : 4 * cols;
    // With one tile row, a block of 16 tiles inside the image goes straight to the output;
    // the rest goes through scratch rows and is cropped there.
    const long directBlocks = rows == 1 ? count / 64 : 0;
    for (long co = coBegin; co < coEnd; co++) {
        const float value = bias[co];
        const nn_v16 bv = NN_SPLAT16(value);
        float *plane = y + co * height * width;
        for (long t0 = 0; t0 < lanes; t0 += 16) {
            nn_v16 p[6][4];
            for (int i = 0; i < 6; i++) {
                nn_v16 q[6];
                for (int j = 0; j < 6; j++) q[j] = nn_load16(m + (6 * i + j) * positionStride + co * lanes + t0);
                NN_WINO_AT(nn_v16, NN_SPLAT16, nn_madd16, q, p[i]);
            }
            for (int b = 0; b < 4; b++) {
                nn_v16 q[6], o[4];
                for (int i = 0; i < 6; i++) q[i] = p[i][b];
                NN_WINO_AT(nn_v16, NN_SPLAT16, nn_madd16, q, o);
                for (int a = 0; a < 4; a++) p[a][b] = o[a];
            }
            for (int a = 0; a < 4; a++) {
                nn_v16 out[4];
                nn_interleave4(p[a], out);
                long yy = 4 * ty0 + a;
                if (t0 / 16 < directBlocks) {
                    if (yy >= height) break;
                    float *dst = plane + yy * width + 4 * (tx0 + t0);
                    for (int k = 0; k < 4; k++) {
                        nn_v16 r = out[k] + bv;
                        nn_store16(dst + 16 * k, accumulate ? nn_load16(dst + 16 * k) + r : r);
                    }
                } else {
                    for (int k = 0; k < 4; k++) nn_store16(scratch + a * stripe + 4 * t0 + 16 * k, out[k]);
                }
            }
        }
        for (long r = 0; r < rows; r++) {
            for (int a = 0; a < 4; a++) {
                long yy = 4 * (ty0 + r) + a;
                if (yy >= height) break;
                const float *src = scratch + a * stripe + r * segment;
                float *dst = plane + yy * width + 4 * tx0;
                long i = 64 * directBlocks;
                if (accumulate) {
                    for (; i + 16 <= count; i += 16) nn_store16(dst + i, nn_load16(dst + i) + (nn_load16(src + i) + bv));
                    for (; i < count; i++) dst[i] += src[i] + value;
                } else {
                    for (; i + 16 <= count; i += 16) nn_store16(dst + i, nn_load16(src + i) + bv);
                    for (; i < count; i++) dst[i] = src[i] + value;
                }
            }
        }
    }
}

#if NN_X86
/// 1 when the CPU and OS support AVX-512F (checked once).
static inline int nn_has_avx512(void) {
    static int cached = -1;
    if (cached >= 0) return cached;
    unsigned a, b, c, d;
    int ok = 0;
    if (nn_has_avx2() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((b >> 16) & 1)) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ok = (lo & 0xE6) == 0xE6;
    }
    cached = ok;
    return ok;
}
#endif

/// The fastest build of the Winograd kernels this CPU runs: 2 AVX-512F, 1 AVX2+FMA, 0 portable.
static inline int nn_winograd_path(void) {
#if NN_X86
    if (nn_has_avx512()) return 2;
    if (nn_has_avx2()) return 1;
#endif
    return 0;
}

/// `path` (a build a caller asks for, e.g. a test of the slower builds), lowered to one this CPU runs.
static inline int nn_winograd_usable(int path) {
    int best = nn_winograd_path();
    return path < best ? (path < 0 ? 0 : path) : best;
}

#define NN_WINO_VARIANT(SUFFIX, ATTRIBUTES, FUSED, WIDE)                                                           \
    ATTRIBUTES static void nn_wino_input_##SUFFIX(const float *x, long channels, long ciBegin, long ciEnd, long height, \
                                                  long width, long ty0, long rows, long tx0, long cols, long lanes,   \
                                                  float *scratch, float *v) {                                        \
        nn_wino_input_body(x, channels, ciBegin, ciEnd, height, width, ty0, rows, tx0, cols, lanes, scratch, v,      \
                           FUSED);                                                                                  \
    }                                                                                                               \
    ATTRIBUTES static void nn_wino_gemm_##SUFFIX(const float *u, const float *v, float *m, long cout, long cin,      \
                                                 long lanes, long xiBegin, long xiEnd, long coBegin, long coEnd) {   \
        nn_wino_gemm_body(u, v, m, cout, cin, lanes, xiBegin, xiEnd, coBegin, coEnd, WIDE, FUSED);                   \
    }                                                                                                               \
    ATTRIBUTES static void nn_wino_output_##SUFFIX(const float *m, long channels, long coBegin, long coEnd,          \
                                                   long lanes, long ty0, long rows, long tx0, long cols, long height, \
                                                   long width, const float *bias, int accumulate, float *y,          \
                                                   float *scratch) {                                                 \
        nn_wino_output_body(m, channels, coBegin, coEnd, lanes, ty0, rows, tx0, cols, height, width, bias,          \
                            accumulate, y, scratch, FUSED);                                                         \
    }

NN_WINO_VARIANT(portable, , 0, 0)
#if NN_X86
NN_WINO_VARIANT(avx2, __attribute__((target("avx2,fma"))), 1, 0)
NN_WINO_VARIANT(avx512, __attribute__((target("avx512f,fma"))), 1, 1)
#endif

/// Transforms input channels [ciBegin, ciEnd) of one band of `x` `[channels, height, width]`: tile
/// rows [ty0, ty0 + rows) × tile columns [tx0, tx0 + cols), into `v` `[36][channels][lanes]`.
/// `scratch`: nn_winograd_input_scratch floats.
static inline void nn_winograd_input(int path, const float *x, long channels, long ciBegin, long ciEnd, long height,
                                     long width, long ty0, long rows, long tx0, long cols, long lanes, float *scratch,
                                     float *v) {
#if NN_X86
    path = nn_winograd_usable(path);
    if (path == 2) {
        nn_wino_input_avx512(x, channels, ciBegin, ciEnd, height, width, ty0, rows, tx0, cols, lanes, scratch, v);
        return;
    }
    if (path == 1) {
        nn_wino_input_avx2(x, channels, ciBegin, ciEnd, height, width, ty0, rows, tx0, cols, lanes, scratch, v);
        return;
    }
#endif
    nn_wino_input_portable(x, channels, ciBegin, ciEnd, height, width, ty0, rows, tx0, cols, lanes, scratch, v);
}

/// `m[ξ] = u[ξ]·v[ξ]` (`[cout, cin]·[cin, lanes]`, u packed by nn_winograd_weights) for positions
/// [xiBegin, xiEnd) and output channels [coBegin, coEnd); coBegin a multiple of 6.
static inline void nn_winograd_multiply(int path, const float *u, const float *v, float *m, long cout, long cin,
                                        long lanes, long xiBegin, long xiEnd, long coBegin, long coEnd) {
#if NN_X86
    path = nn_winograd_usable(path);
    if (path == 2) { nn_wino_gemm_avx512(u, v, m, cout, cin, lanes, xiBegin, xiEnd, coBegin, coEnd); return; }
    if (path == 1) { nn_wino_gemm_avx2(u, v, m, cout, cin, lanes, xiBegin, xiEnd, coBegin, coEnd); return; }
#endif
    nn_wino_gemm_portable(u, v, m, cout, cin, lanes, xiBegin, xiEnd, coBegin, coEnd);
}

/// Writes (or adds, when `accumulate`) output channels [coBegin, coEnd) of the band's tiles `m` plus
/// `bias[co]` into `y` `[channels, height, width]`, cropped to the image. `scratch`:
/// nn_winograd_output_scratch floats.
static inline void nn_winograd_output(int path, const float *m, long channels, long coBegin, long coEnd, long lanes,
                                      long ty0, long rows, long tx0, long cols, long height, long width,
                                      const float *bias, int accumulate, float *y, float *scratch) {
#if NN_X86
    path = nn_winograd_usable(path);
    if (path == 2) {
        nn_wino_output_avx512(m, channels, coBegin, coEnd, lanes, ty0, rows, tx0, cols, height, width, bias, accumulate,
                              y, scratch);
        return;
    }
    if (path == 1) {
        nn_wino_output_avx2(m, channels, coBegin, coEnd, lanes, ty0, rows, tx0, cols, height, width, bias, accumulate,
                            y, scratch);
        return;
    }
#endif
    nn_wino_output_portable(m, channels, coBegin, coEnd, lanes, ty0, rows, tx0, cols, height, width, bias, accumulate, y,
                            scratch);
}

/// The transformed weights (G g Gᵀ)[i][j] of g = w[co][ci] (3×3) at ξ = 6i + j, packed for
/// nn_winograd_multiply as u[ξ][co / 6][ci][co % 6] (zero past cout), for the 6-channel blocks
/// [blockBegin, blockEnd). Computed in double, 16 input channels × 6 output channels (96 lanes) at a
/// time in vector loops, so u is written in runs; without FMA contraction, so every build gives the
/// same bits.
NN_INLINE void nn_winograd_weights_body(const float *w, long cout, long cin, long blockBegin, long blockEnd, float *u) {
#pragma clang fp contract(off)
    static const double G[6][3] = {
        {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    enum { LANES = 16 * NN_WINO_ROWS };
    const long blocks = (cout + NN_WINO_ROWS - 1) / NN_WINO_ROWS;
    double g[9][LANES], t[6][3][LANES];
    float run[36][LANES];
    for (long block = blockBegin; block < blockEnd; block++) {
        for (long c0 = 0; c0 < cin; c0 += 16) {
            long count = cin - c0 < 16 ? cin - c0 : 16;
            // g[k][c·6 + r] = w[block·6 + r][c0 + c][k], zero past cout
            for (long c = 0; c < count; c++)
                for (int r = 0; r < NN_WINO_ROWS; r++) {
                    long co = block * NN_WINO_ROWS + r;
                    const float *gk = w + (co * cin + c0 + c) * 9;
                    for (int k = 0; k < 9; k++) g[k][c * NN_WINO_ROWS + r] = co < cout ? (double)gk[k] : 0.0;
                }
            const long lanes = count * NN_WINO_ROWS;
            for (int i = 0; i < 6; i++)
                for (int kx = 0; kx < 3; kx++)
                    for (long l = 0; l < lanes; l++)
                        t[i][kx][l] = G[i][0] * g[kx][l] + G[i][1] * g[3 + kx][l] + G[i][2] * g[6 + kx][l];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    for (long l = 0; l < lanes; l++)
                        run[6 * i + j][l] = (float)(t[i][0][l] * G[j][0] + t[i][1][l] * G[j][1] + t[i][2][l] * G[j][2]);
            for (long c = 0; c < count; c++)
                for (int r = 0; r < NN_WINO_ROWS; r++)
                    if (block * NN_WINO_ROWS + r >= cout)
                        for (int xi = 0; xi < 36; xi++) run[xi][c * NN_WINO_ROWS + r] = 0;
            for (int xi = 0; xi < 36; xi++)
                __builtin_memcpy(u + ((xi * blocks + block) * cin + c0) * NN_WINO_ROWS, run[xi],
                                 (unsigned long)lanes * sizeof(float));
        }
    }
}

static void nn_winograd_weights_portable(const float *w, long cout, long cin, long blockBegin, long blockEnd, float *u) {
    nn_winograd_weights_body(w, cout, cin, blockBegin, blockEnd, u);
}
#if NN_X86
__attribute__((target("avx2"))) static void nn_winograd_weights_avx2(const float *w, long cout, long cin,
                                                                     long blockBegin, long blockEnd, float *u) {
    nn_winograd_weights_body(w, cout, cin, blockBegin, blockEnd, u);
}
#endif

static inline void nn_winograd_weights(const float *w, long cout, long cin, long blockBegin, long blockEnd, float *u) {
#if NN_X86
    if (nn_has_avx2()) { nn_winograd_weights_avx2(w, cout, cin, blockBegin, blockEnd, u); return; }
#endif
    nn_winograd_weights_portable(w, cout, cin, blockBegin, blockEnd, u);
}

#endif
