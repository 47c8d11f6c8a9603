import CBLAS

/// Row-major single-precision GEMM: `C = alpha·op(A)·op(B) + beta·C` with `op(A)` [m, k],
/// `op(B)` [k, n] and `C` [m, n]; leading dimensions are row strides.
@inline(__always)
func gemm(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta != 1 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// ``gemm`` split over the engine's threads: column blocks of C when `n` is the larger side,
/// row blocks otherwise; each block is one single-threaded `cblas_sgemm`.
@inline(__always)
func parallelGEMM(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    let work = m * n * max(k, 1)
    guard Compute.threads > 1, work >= 1 << 18 else {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    if n >= m {
        // Column blocks (multiples of 16 for the micro-kernel): B's columns move with C's.
        let blocks = Compute.threads
        let step = max(16, ((n + blocks - 1) / blocks + 15) / 16 * 16)
        Compute.parallelFor((n + step - 1) / step) { block in
            let j0 = block * step, j1 = min(n, j0 + step)
            let bBlock = transposeB ? b + j0 * ldb : b + j0
            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: j1 - j0, k: k, alpha: alpha, a: a, lda: lda,
                 b: bBlock, ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
        }
    } else {
        let blocks = Compute.threads
        let step = max(1, (m + blocks - 1) / blocks)
        Compute.parallelFor((m + step - 1) / step) { block in
            let i0 = block * step, i1 = min(m, i0 + step)
            let aBlock = transposeA ? a + i0 : a + i0 * lda
            gemm(transposeA: transposeA, transposeB: transposeB, m: i1 - i0, n: n, k: k, alpha: alpha, a: aBlock, lda: lda,
                 b: b, ldb: ldb, beta: beta, c: c + i0 * ldc, ldc: ldc)
        }
    }
}

/// The engine's GEMM, for benchmarks and callers outside the engine:
/// `C[m, n] = A[m, k] · B[k, n]` (row-major, contiguous), split over ``Compute/threads``.
public func matrixMultiply(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
) {
    parallelGEMM(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n)
}

/// The benchmark reference: one plain `cblas_sgemm` call `C[m, n] = A[m, k] · B[k, n]` with
/// OpenBLAS's own threading at `threads` threads (restored to one afterwards).
public func referenceMatrixMultiply(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
    threads: Int
) {
    _ = Compute.threads
    openblas_set_num_threads(Int32(threads))
    gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n)
    openblas_set_num_threads(1)
}
