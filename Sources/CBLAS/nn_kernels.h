#ifndef FOCUSD_NN_KERNELS_H
#define FOCUSD_NN_KERNELS_H

#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define NN_X86 1
#endif

/// 1 when the CPU and OS support AVX2 and FMA (checked once).
static inline int nn_has_avx2(void) {
#if NN_X86
    static int cached = -1;
    if (cached >= 0) return cached;
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
        if (osxsave && avx && fma) {
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            if ((lo & 6) == 6 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) ok = (b >> 5) & 1;
        }
    }
    cached = ok;
    return ok;
#else
    return 0;
#endif
}

static inline float nn_silu_scalar(float v) { return v / (1.0f + expf(-v)); }

/// SiLU's backward at pre-activation z: dy·σ(z)·(1 + z·(1 − σ(z))).
static inline float nn_silu_grad_scalar(float dy, float z) {
    float sg = 1.0f / (1.0f + expf(-z));
    return dy * sg * (1.0f + z * (1.0f - sg));
}

#if NN_X86
/// e^x for 8 lanes: Cephes range reduction, degree-6 polynomial (relative error ≈ 2e-7).
__attribute__((target("avx2,fma"))) static inline __m256 nn_exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.3f)), _mm256_set1_ps(-87.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);  // 1.5·2^23
    __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    __m256 n = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i bits = _mm256_castps_si256(shifted);
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(bits, _mm256_set1_epi32(0x4B400000)), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

__attribute__((target("avx2,fma"))) static inline void nn_affine_silu_avx2(
    const float *in, float *out, long count, float center, float scale, float shift, int silu) {
    const __m256 m = _mm256_set1_ps(center), a = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift);
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(in + i), m), a, b);
        if (silu) v = _mm256_div_ps(v, _mm256_add_ps(one, nn_exp8(_mm256_sub_ps(zero, v))));
        _mm256_storeu_ps(out + i, v);
    }
    for (; i < count; i++) {
        float v = (in[i] - center) * scale + shift;
        out[i] = silu ? nn_silu_scalar(v) : v;
    }
}

/// Σ(x − pilot) and Σ(x − pilot)² in one pass: Float lanes over blocks of 1024, Double across blocks.
__attribute__((target("avx2,fma"))) static inline void nn_shifted_sums_avx2(
    const float *x, long count, float pilot, double *sum, double *squares) {
    const __m256 p = _mm256_set1_ps(pilot);
    double s = 0, q = 0;
    long i = 0;
    while (i < count) {
        long end = i + 1024 < count ? i + 1024 : count;
        __m256 vs = _mm256_setzero_ps(), vq = _mm256_setzero_ps();
        for (; i + 8 <= end; i += 8) {
            __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i), p);
            vs = _mm256_add_ps(vs, v);
            vq = _mm256_fmadd_ps(v, v, vq);
        }
        float ls[8], lq[8];
        _mm256_storeu_ps(ls, vs);
        _mm256_storeu_ps(lq, vq);
        for (int k = 0; k < 8; k++) { s += ls[k]; q += lq[k]; }
        for (; i < end; i++) { double d = (double)(x[i] - pilot); s += d; q += d * d; }
    }
    *sum = s;
    *squares = q;
}
/// SiLU's backward at the affine output: dy·σ(z)·(1 + z·(1 − σ(z))), 8 lanes.
__attribute__((target("avx2,fma"))) static inline __m256 nn_silu_grad8(__m256 dy, __m256 z) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, nn_exp8(_mm256_sub_ps(_mm256_setzero_ps(), z))));
    return _mm256_mul_ps(_mm256_mul_ps(dy, s), _mm256_fmadd_ps(z, _mm256_sub_ps(one, s), one));
}

/// GroupNorm backward sums over one channel plane (see nn_gn_backward_sums).
__attribute__((target("avx2,fma"))) static inline void nn_gn_backward_sums_avx2(
    const float *x, const float *dy, long count, float mu, float r, float gamma, float beta, int silu,
    double *dot, double *sum) {
    const __m256 vm = _mm256_set1_ps(mu), vr = _mm256_set1_ps(r), vg = _mm256_set1_ps(gamma), vb = _mm256_set1_ps(beta);
    double t = 0, u = 0;
    long i = 0;
    while (i < count) {
        long end = i + 1024 < count ? i + 1024 : count;
        __m256 vdot = _mm256_setzero_ps(), vsum = _mm256_setzero_ps();
        for (; i + 8 <= end; i += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
            __m256 d = _mm256_loadu_ps(dy + i);
            if (silu) d = nn_silu_grad8(d, _mm256_fmadd_ps(vg, xh, vb));
            vdot = _mm256_fmadd_ps(d, xh, vdot);
            vsum = _mm256_add_ps(vsum, d);
        }
        float ld[8], ls[8];
        _mm256_storeu_ps(ld, vdot);
        _mm256_storeu_ps(ls, vsum);
        for (int k = 0; k < 8; k++) { t += ld[k]; u += ls[k]; }
        for (; i < end; i++) {
            float xh = (x[i] - mu) * r, d = dy[i];
            if (silu) d = nn_silu_grad_scalar(d, gamma * xh + beta);
            t += (double)(d * xh);
            u += (double)d;
        }
    }
    *dot = t;
    *sum = u;
}

/// GroupNorm backward to the input over one channel plane (see nn_gn_backward_input).
__attribute__((target("avx2,fma"))) static inline void nn_gn_backward_input_avx2(
    const float *x, const float *dy, float *dx, long count, float mu, float r, float gamma, float beta, int silu,
    float mean_d, float mean_dx) {
    const __m256 vm = _mm256_set1_ps(mu), vr = _mm256_set1_ps(r), vg = _mm256_set1_ps(gamma), vb = _mm256_set1_ps(beta);
    const __m256 vmd = _mm256_set1_ps(mean_d), vmdx = _mm256_set1_ps(mean_dx);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
        __m256 d = _mm256_loadu_ps(dy + i);
        if (silu) d = nn_silu_grad8(d, _mm256_fmadd_ps(vg, xh, vb));
        __m256 g = _mm256_sub_ps(_mm256_fmsub_ps(vg, d, vmd), _mm256_mul_ps(xh, vmdx));
        _mm256_storeu_ps(dx + i, _mm256_fmadd_ps(vr, g, _mm256_loadu_ps(dx + i)));
    }
    for (; i < count; i++) {
        float xh = (x[i] - mu) * r, d = dy[i];
        if (silu) d = nn_silu_grad_scalar(d, gamma * xh + beta);
        dx[i] += r * (gamma * d - mean_d - xh * mean_dx);
    }
}

/// dx[i] += SiLU'(x[i])·dy[i] (see nn_silu_backward).
__attribute__((target("avx2,fma"))) static inline void nn_silu_backward_avx2(
    const float *x, const float *dy, float *dx, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 g = nn_silu_grad8(_mm256_loadu_ps(dy + i), _mm256_loadu_ps(x + i));
        _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), g));
    }
    for (; i < count; i++) dx[i] += nn_silu_grad_scalar(dy[i], x[i]);
}
#endif

/// out[i] = (in[i] − center)·scale + shift, then SiLU when `silu`; `out` may equal `in`.
static inline void nn_affine_silu(const float *in, float *out, long count, float center, float scale, float shift, int silu) {
#if NN_X86
    if (nn_has_avx2()) { nn_affine_silu_avx2(in, out, count, center, scale, shift, silu); return; }
#endif
    for (long i = 0; i < count; i++) {
        float v = (in[i] - center) * scale + shift;
        out[i] = silu ? nn_silu_scalar(v) : v;
    }
}

/// Σ(x − pilot) and Σ(x − pilot)² (see nn_shifted_sums_avx2).
static inline void nn_shifted_sums(const float *x, long count, float pilot, double *sum, double *squares) {
#if NN_X86
    if (nn_has_avx2()) { nn_shifted_sums_avx2(x, count, pilot, sum, squares); return; }
#endif
    double s = 0, q = 0;
    for (long i = 0; i < count; i++) { double d = (double)(x[i] - pilot); s += d; q += d * d; }
    *sum = s;
    *squares = q;
}

/// GroupNorm backward, one channel plane: with x̂ = (x − μ)·r and d = dy, or dy·SiLU'(z) at
/// z = γ·x̂ + β when `silu`, writes Σ d·x̂ and Σ d (Float lanes over blocks of 1024, Double across).
static inline void nn_gn_backward_sums(const float *x, const float *dy, long count, float mu, float r, float gamma,
                                       float beta, int silu, double *dot, double *sum) {
#if NN_X86
    if (nn_has_avx2()) { nn_gn_backward_sums_avx2(x, dy, count, mu, r, gamma, beta, silu, dot, sum); return; }
#endif
    double t = 0, u = 0;
    for (long i = 0; i < count; i++) {
        float xh = (x[i] - mu) * r, d = dy[i];
        if (silu) d = nn_silu_grad_scalar(d, gamma * xh + beta);
        t += (double)(d * xh);
        u += (double)d;
    }
    *dot = t;
    *sum = u;
}

/// GroupNorm backward to the input, one channel plane: dx += r·(γ·d − mean_d − x̂·mean_dx), d as in
/// nn_gn_backward_sums.
static inline void nn_gn_backward_input(const float *x, const float *dy, float *dx, long count, float mu, float r,
                                        float gamma, float beta, int silu, float mean_d, float mean_dx) {
#if NN_X86
    if (nn_has_avx2()) { nn_gn_backward_input_avx2(x, dy, dx, count, mu, r, gamma, beta, silu, mean_d, mean_dx); return; }
#endif
    for (long i = 0; i < count; i++) {
        float xh = (x[i] - mu) * r, d = dy[i];
        if (silu) d = nn_silu_grad_scalar(d, gamma * xh + beta);
        dx[i] += r * (gamma * d - mean_d - xh * mean_dx);
    }
}

/// SiLU's backward for pre-activations `x`: dx[i] += dy[i]·σ(x)·(1 + x·(1 − σ(x))).
static inline void nn_silu_backward(const float *x, const float *dy, float *dx, long count) {
#if NN_X86
    if (nn_has_avx2()) { nn_silu_backward_avx2(x, dy, dx, count); return; }
#endif
    for (long i = 0; i < count; i++) dx[i] += nn_silu_grad_scalar(dy[i], x[i]);
}

#endif
