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

/// Public GEMM entry for benchmarks: `C[m, n] = A[m, k] · B[k, n]` (row-major, contiguous).
public func matrixMultiply(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
) {
    _ = Compute.threads
    gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n)
}
