import Foundation

/// Elementwise activations: SiLU `x·σ(x)` forward and backward, with a vectorised exp.

/// e^x for 8 lanes (Cephes range reduction and degree-6 polynomial; relative error ≈ 2e-7).
///
/// n = round(x·log₂e) comes from the magic-constant trick (adding 1.5·2²³ rounds to an integer
/// held in the low mantissa bits), so no generic float↔int conversion runs per lane.
@inline(__always)
func exp8(_ value: SIMD8<Float>) -> SIMD8<Float> {
    let x0 = pointwiseMax(pointwiseMin(value, SIMD8(repeating: 88.3)), SIMD8(repeating: -87.3))
    let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2²³
    let shifted = x0 * 1.44269504088896341 + magic
    let n = shifted - magic
    var x = x0 - n * 0.693359375
    x = x + n * 2.12194440e-4
    var y = SIMD8<Float>(repeating: 1.9875691500e-4)
    y = y * x + 1.3981999507e-3
    y = y * x + 8.3334519073e-3
    y = y * x + 4.1665795894e-2
    y = y * x + 1.6666665459e-1
    y = y * x + 5.0000001201e-1
    y = y * (x * x) + x + 1
    // bits(shifted) = 0x4B40_0000 + n; 2ⁿ has bits (n + 127) << 23.
    let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
    let exponent = (bits &- 0x4B40_0000 &+ 127) &<< 23
    return y * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// SiLU of 8 lanes.
@inline(__always)
func silu8(_ x: SIMD8<Float>) -> SIMD8<Float> { x / (1 + exp8(-x)) }

/// Applies `y = (x − center)·scale + shift` then (optionally) SiLU to `count` floats; `output`
/// may equal `input`. Centring first keeps precision when |mean| ≫ std.
@inline(__always)
func affineSiLU(
    _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int,
    center: Float = 0, scale: Float, shift: Float, silu: Bool
) {
    var i = 0
    let a = SIMD8<Float>(repeating: scale), b = SIMD8<Float>(repeating: shift), m = SIMD8<Float>(repeating: center)
    let inRaw = UnsafeRawPointer(input), outRaw = UnsafeMutableRawPointer(output)
    while i + 8 <= count {
        var v = (inRaw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m) * a + b
        if silu { v = silu8(v) }
        outRaw.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        let v = (input[i] - center) * scale + shift
        output[i] = silu ? v / (1 + scalarExp(-v)) : v
        i += 1
    }
}

/// e^x of one float.
@inline(__always)
func scalarExp(_ x: Float) -> Float { Float(Foundation.exp(Double(x))) }

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
            for i in range {
                let x = input[i]
                let s = 1 / (1 + scalarExp(-x))
                inputGradient[i] += outputGradient[i] * s * (1 + x * (1 - s))
            }
        }
    }
}
