#ifndef FOCUSD_NN_DIRECT_H
#define FOCUSD_NN_DIRECT_H

// Direct kernels for the convolutions where a GEMM wastes most of its work (NN's Conv2D+Direct.swift
// and ConvTranspose2D.swift): a 3×3, stride-1, padding-1 convolution with few input channels (the
// U-Net's input layer) or few output channels (its output layer), one output row per call; the
// stride-2 gather of im2col; and the interleaving of two transposed-convolution phases into one row.
//
// The direct convolution keeps CO (1…4) output channels × V vectors of 8 pixels in registers and sums
// over (ci, ky, kx) in that order; rows outside the image are skipped and columns outside it read as
// zero. Every pixel's sum runs in the same order whatever the row split, so the output does not
// depend on the threads. AVX2+FMA and portable builds, chosen at run time (CPUID) like nn_winograd.h.

#include "nn_kernels.h"

typedef float nn_v8 __attribute__((ext_vector_type(8)));
#define NN_DIRECT_INLINE static inline __attribute__((always_inline))

NN_DIRECT_INLINE nn_v8 nn_load8(const float *p) { nn_v8 v; __builtin_memcpy(&v, p, sizeof v); return v; }
NN_DIRECT_INLINE void nn_store8(float *p, nn_v8 v) { __builtin_memcpy(p, &v, sizeof v); }
NN_DIRECT_INLINE nn_v8 nn_madd8(nn_v8 a, nn_v8 b, nn_v8 c, int fused) {
    return fused ? __builtin_elementwise_fma(a, b, c) : a * b + c;
}

/// Input channels summed per pass over a row: the 3 input rows of each are read in one pass, and rows
/// of different channels (a plane apart, often a multiple of 4 KiB) would otherwise compete for the
/// same L1 sets.
#define NN_DIRECT_CHANNELS 2

/// One block of CO output channels × V·8 pixels starting at x0, with every tap inside the image
/// (1 ≤ x0 and x0 + 8V + 1 ≤ width), over input channels [ciBegin, ciEnd). `rows[3]` are the input
/// rows oy − 1 … oy + 1 of channel 0 (NULL outside the image), `plane` the floats between channels.
/// The sums start from 0 at the first channel, else from `partial` (`[CO][width]`); after the last
/// channel `out[c] (+)= sum + bias[c]`, else the sums go back to `partial`.
NN_DIRECT_INLINE void nn_direct_block(const float *const rows[3], long plane, long ciBegin, long ciEnd, long cin,
                                      const float *w, long x0, long width, int CO, int V, float *partial,
                                      float *const out[4], const float *bias, int last, int accumulate, int fused) {
    nn_v8 acc[4][8];
#pragma clang loop unroll(full)
    for (int c = 0; c < 4; c++)
#pragma clang loop unroll(full)
        for (int v = 0; v < 8; v++)
            if (c < CO && v < V) acc[c][v] = ciBegin == 0 ? (nn_v8)(0.0f) : nn_load8(partial + c * width + x0 + 8 * v);
    for (long ci = ciBegin; ci < ciEnd; ci++) {
        for (int ky = 0; ky < 3; ky++) {
            if (!rows[ky]) continue;
            const float *src = rows[ky] + ci * plane + x0 - 1;
            const float *wk = w + (ci * 3 + ky) * 3;
#pragma clang loop unroll(full)
            for (int kx = 0; kx < 3; kx++) {
                nn_v8 in[8];
#pragma clang loop unroll(full)
                for (int v = 0; v < 8; v++)
                    if (v < V) in[v] = nn_load8(src + kx + 8 * v);
#pragma clang loop unroll(full)
                for (int c = 0; c < 4; c++) {
                    if (c >= CO) break;
                    nn_v8 wv = (nn_v8)(wk[c * cin * 9 + kx]);
#pragma clang loop unroll(full)
                    for (int v = 0; v < 8; v++)
                        if (v < V) acc[c][v] = nn_madd8(wv, in[v], acc[c][v], fused);
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int c = 0; c < 4; c++) {
        if (c >= CO) break;
        nn_v8 b = (nn_v8)(bias[c]);
#pragma clang loop unroll(full)
        for (int v = 0; v < 8; v++) {
            if (v >= V) break;
            if (last) {
                float *dst = out[c] + x0 + 8 * v;
                nn_v8 r = acc[c][v] + b;
                nn_store8(dst, accumulate ? nn_load8(dst) + r : r);
            } else {
                nn_store8(partial + c * width + x0 + 8 * v, acc[c][v]);
            }
        }
    }
}

/// One pixel x of CO output channels, taps outside the image skipped; the sum in the order of
/// nn_direct_block.
NN_DIRECT_INLINE void nn_direct_pixel(const float *const rows[3], long plane, long cin, const float *w, long x,
                                      long width, int CO, float *const out[4], const float *bias, int accumulate,
                                      int fused) {
    for (int c = 0; c < CO; c++) {
        float acc = 0;
        for (long ci = 0; ci < cin; ci++)
            for (int ky = 0; ky < 3; ky++) {
                if (!rows[ky]) continue;
                const float *src = rows[ky] + ci * plane;
                const float *wk = w + c * cin * 9 + (ci * 3 + ky) * 3;
                for (int kx = 0; kx < 3; kx++) {
                    long ix = x - 1 + kx;
                    float v = ix >= 0 && ix < width ? src[ix] : 0.0f;
                    acc = fused ? __builtin_fmaf(wk[kx], v, acc) : wk[kx] * v + acc;
                }
            }
        float r = acc + bias[c];
        out[c][x] = accumulate ? out[c][x] + r : r;
    }
}

#define NN_DIRECT_BLOCKS(CO_, V_)                                                                     \
    for (; x + 8 * (V_) + 1 <= width; x += 8 * (V_))                                                  \
        nn_direct_block(rows, plane, ci, ciEnd, cin, w, x, width, CO_, V_, partial, out, b, last, accumulate, fused);

/// Output row oy of channels [coBegin, coEnd), NN_DIRECT_CHANNELS input channels per pass: blocks of
/// 64 pixels (24 to 32 for several channels), then 8-pixel ones; the two edge pixels and what is left
/// one pixel at a time over all channels. `partial`: 4·width floats.
NN_DIRECT_INLINE void nn_direct_row_body(const float *x0, long cin, long height, long width, const float *weight,
                                         long coBegin, long coEnd, long oy, const float *bias, int accumulate,
                                         float *y, float *partial, int fused) {
    const long plane = height * width;
    const float *rows[3];
    for (int ky = 0; ky < 3; ky++) {
        long iy = oy - 1 + ky;
        rows[ky] = iy >= 0 && iy < height ? x0 + iy * width : 0;
    }
    for (long co = coBegin; co < coEnd; co += 4) {
        int CO = coEnd - co < 4 ? (int)(coEnd - co) : 4;
        float *out[4];
        for (int c = 0; c < 4; c++) out[c] = y + (co + (c < CO ? c : 0)) * plane + oy * width;
        const float *w = weight + co * cin * 9;
        const float *b = bias + co;
        long x = 1;
        for (long ci = 0; ci < cin; ci += NN_DIRECT_CHANNELS) {
            long ciEnd = cin - ci < NN_DIRECT_CHANNELS ? cin : ci + NN_DIRECT_CHANNELS;
            int last = ciEnd == cin;
            x = 1;
            switch (CO) {
            case 1: NN_DIRECT_BLOCKS(1, 8) NN_DIRECT_BLOCKS(1, 1) break;
            case 2: NN_DIRECT_BLOCKS(2, 4) NN_DIRECT_BLOCKS(2, 1) break;
            case 3: NN_DIRECT_BLOCKS(3, 3) NN_DIRECT_BLOCKS(3, 1) break;
            default: NN_DIRECT_BLOCKS(4, 3) NN_DIRECT_BLOCKS(4, 1) break;
            }
        }
        nn_direct_pixel(rows, plane, cin, w, 0, width, CO, out, b, accumulate, fused);
        for (; x < width; x++) nn_direct_pixel(rows, plane, cin, w, x, width, CO, out, b, accumulate, fused);
    }
}

#define NN_DIRECT_VARIANT(SUFFIX, ATTRIBUTES, FUSED)                                                           \
    ATTRIBUTES static void nn_direct_row_##SUFFIX(const float *x, long cin, long height, long width,             \
                                                  const float *weight, long coBegin, long coEnd, long oy,       \
                                                  const float *bias, int accumulate, float *y, float *partial) { \
        nn_direct_row_body(x, cin, height, width, weight, coBegin, coEnd, oy, bias, accumulate, y, partial, FUSED); \
    }

NN_DIRECT_VARIANT(portable, , 0)
#if NN_X86
NN_DIRECT_VARIANT(avx2, __attribute__((target("avx2,fma"))), 1)
#endif

/// The fastest build of the direct kernels this CPU runs: 1 AVX2+FMA, 0 portable.
static inline int nn_direct_path(void) {
#if NN_X86
    if (nn_has_avx2()) return 1;
#endif
    return 0;
}

/// Output row `oy` of output channels [coBegin, coEnd) of a 3×3, stride-1, padding-1 convolution of
/// one image `x` `[cin, height, width]` with `weight` `[cout, cin, 3, 3]` (coBegin's row first):
/// `y[co, oy, ·] (+)= conv + bias[co]`, `y` `[cout, height, width]`. `path`: 1 AVX2+FMA (lowered to
/// portable where the CPU lacks it), 0 portable. `partial`: scratch of 4·width floats.
static inline void nn_direct_row(int path, const float *x, long cin, long height, long width, const float *weight,
                                 long coBegin, long coEnd, long oy, const float *bias, int accumulate, float *y,
                                 float *partial) {
#if NN_X86
    if (path >= 1 && nn_has_avx2()) {
        nn_direct_row_avx2(x, cin, height, width, weight, coBegin, coEnd, oy, bias, accumulate, y, partial);
        return;
    }
#endif
    nn_direct_row_portable(x, cin, height, width, weight, coBegin, coEnd, oy, bias, accumulate, y, partial);
}

#if NN_X86
__attribute__((target("avx2"))) static inline void nn_gather_even_avx2(const float *src, float *out, long count) {
    long i = 0;
    // Reads src[2i … 2i + 15] for 8 outputs: stop while 2i + 15 stays within the 2·count − 1 floats read.
    for (; i + 8 <= count && 2 * i + 16 <= 2 * count - 1; i += 8) {
        __m256 a = _mm256_loadu_ps(src + 2 * i), b = _mm256_loadu_ps(src + 2 * i + 8);
        __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 | a4 a6 b4 b6
        _mm256_storeu_ps(out + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; i < count; i++) out[i] = src[2 * i];
}

__attribute__((target("avx2"))) static inline void nn_interleave_rows_avx2(const float *even, const float *odd,
                                                                           float *out, long count, float bias,
                                                                           int accumulate) {
    const __m256 b = _mm256_set1_ps(bias);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 e = _mm256_add_ps(_mm256_loadu_ps(even + i), b), o = _mm256_add_ps(_mm256_loadu_ps(odd + i), b);
        __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);  // e0 o0 e1 o1 | e4 o4 e5 o5 …
        __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20), second = _mm256_permute2f128_ps(lo, hi, 0x31);
        if (accumulate) {
            first = _mm256_add_ps(_mm256_loadu_ps(out + 2 * i), first);
            second = _mm256_add_ps(_mm256_loadu_ps(out + 2 * i + 8), second);
        }
        _mm256_storeu_ps(out + 2 * i, first);
        _mm256_storeu_ps(out + 2 * i + 8, second);
    }
    for (; i < count; i++) {
        float e = even[i] + bias, o = odd[i] + bias;
        out[2 * i] = accumulate ? out[2 * i] + e : e;
        out[2 * i + 1] = accumulate ? out[2 * i + 1] + o : o;
    }
}
#endif

/// out[i] = src[2i] for i < count (reads src[0 … 2·count − 2]): a stride-2 row of im2col.
static inline void nn_gather_even(const float *src, float *out, long count) {
#if NN_X86
    if (nn_has_avx2()) { nn_gather_even_avx2(src, out, count); return; }
#endif
    for (long i = 0; i < count; i++) out[i] = src[2 * i];
}

/// out[2i] (+)= even[i] + bias and out[2i + 1] (+)= odd[i] + bias for i < count: two column phases
/// of a transposed convolution's output row, interleaved.
static inline void nn_interleave_rows(const float *even, const float *odd, float *out, long count, float bias,
                                      int accumulate) {
#if NN_X86
    if (nn_has_avx2()) { nn_interleave_rows_avx2(even, odd, out, count, bias, accumulate); return; }
#endif
    for (long i = 0; i < count; i++) {
        float e = even[i] + bias, o = odd[i] + bias;
        out[2 * i] = accumulate ? out[2 * i] + e : e;
        out[2 * i + 1] = accumulate ? out[2 * i + 1] + o : o;
    }
}

#endif
