import CBLAS

/// Elementwise activations: SiLU `x·σ(x)` forward and backward, with a vectorised exp.

/// Applies `y = (x − center)·scale + shift` then (optionally) SiLU to `count` floats; `output`
/// may equal `input`. Centring first keeps precision when |mean| ≫ std. Runs the AVX2/FMA C
/// kernel where the CPU has it (Swift itself targets baseline SSE2), else a portable loop.
@inline(__always)
func affineSiLU(
    _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int,
    center: Float = 0, scale: Float, shift: Float, silu: Bool
) {
    nn_affine_silu(input, output, count, center, scale, shift, silu ? 1 : 0)
}

/// SiLU `y = x·σ(x)`.
public enum SiLU {
    /// `output[i] = silu(input[i])`; `output` may equal `input`.
    public static func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        Compute.parallelRanges(count, minimumPerThread: 16384) { range in
            affineSiLU(input + range.lowerBound, output + range.lowerBound, count: range.count,
                       scale: 1, shift: 0, silu: true)
        }
    }

    /// `inputGradient[i] += outputGradient[i] · σ(x)(1 + x(1 − σ(x)))` for pre-activation `input`.
    public static func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        Compute.parallelRanges(count, minimumPerThread: 16384) { range in
            let o = range.lowerBound
            nn_silu_backward(input + o, outputGradient + o, inputGradient + o, range.count)
        }
    }
}
