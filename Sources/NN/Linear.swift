/// Fully connected layer: `y[N, out] = x[N, in] · Wᵀ + b`, weight `[out, in]` (PyTorch).
public struct Linear: Sendable, Equatable, Hashable {
    public let inFeatures: Int
    public let outFeatures: Int

    public init(inFeatures: Int, outFeatures: Int) {
        precondition(inFeatures > 0 && outFeatures > 0, "feature counts must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    public var weightShape: [Int] { [outFeatures, inFeatures] }

    /// `output [batch, out] = input [batch, in] · Wᵀ + bias`.
    public func forward(
        input: UnsafePointer<Float>, batch: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>
    ) {
        for n in 0..<batch {
            for o in 0..<outFeatures { output[n * outFeatures + o] = bias?[o] ?? 0 }
        }
        gemm(transposeB: true, m: batch, n: outFeatures, k: inFeatures, a: input, lda: inFeatures,
             b: weight, ldb: inFeatures, beta: 1, c: output, ldc: outFeatures)
    }

    /// Adds `∂L/∂x` (when given), `∂L/∂W` and `∂L/∂b`.
    public func backward(
        input: UnsafePointer<Float>, batch: Int, weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?
    ) {
        // dW[out, in] += dYᵀ[out, N] · X[N, in]
        gemm(transposeA: true, m: outFeatures, n: inFeatures, k: batch, a: outputGradient, lda: outFeatures,
             b: input, ldb: inFeatures, beta: 1, c: weightGradient, ldc: inFeatures)
        if let biasGradient {
            for n in 0..<batch {
                for o in 0..<outFeatures { biasGradient[o] += outputGradient[n * outFeatures + o] }
            }
        }
        if let inputGradient {
            // dX[N, in] += dY[N, out] · W[out, in]
            gemm(m: batch, n: inFeatures, k: outFeatures, a: outputGradient, lda: outFeatures,
                 b: weight, ldb: inFeatures, beta: 1, c: inputGradient, ldc: inFeatures)
        }
    }
}
