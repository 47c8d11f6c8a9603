import Foundation
import SeededRandom
@testable import NN

// Naive double-precision references: direct loops straight from the definitions, used as the
// ground truth for the engine's forward passes and, through central finite differences, for its
// backward passes.

enum Reference {
    /// Direct convolution: y[n,co,oy,ox] = b[co] + Σ x[n,ci,oy·s−p+ky,ox·s−p+kx]·W[co,ci,ky,kx].
    static func conv2d(_ x: [Double], n: Int, c: Int, h: Int, w: Int, weight: [Double], bias: [Double]?,
                       outChannels: Int, kh: Int, kw: Int, stride: Int, padding: Int) -> [Double] {
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (w + 2 * padding - kw) / stride + 1
        var y = [Double](repeating: 0, count: n * outChannels * oh * ow)
        for b in 0..<n { for co in 0..<outChannels { for oy in 0..<oh { for ox in 0..<ow {
            var s = bias?[co] ?? 0
            for ci in 0..<c { for ky in 0..<kh { for kx in 0..<kw {
                let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                if iy >= 0 && iy < h && ix >= 0 && ix < w {
                    s += x[((b * c + ci) * h + iy) * w + ix] * weight[((co * c + ci) * kh + ky) * kw + kx]
                }
            } } }
            y[((b * outChannels + co) * oh + oy) * ow + ox] = s
        } } } }
        return y
    }

    /// PyTorch ConvTranspose2d(k3, s2, p1, output_padding 1): y[n,co,iy·2−1+ky,ix·2−1+kx] += x[n,ci,iy,ix]·W[ci,co,ky,kx].
    static func convTranspose(_ x: [Double], n: Int, c: Int, h: Int, w: Int, weight: [Double], bias: [Double]?,
                              outChannels: Int) -> [Double] {
        let oh = 2 * h, ow = 2 * w
        var y = [Double](repeating: 0, count: n * outChannels * oh * ow)
        for b in 0..<n { for co in 0..<outChannels { for i in 0..<oh * ow { y[(b * outChannels + co) * oh * ow + i] = bias?[co] ?? 0 } } }
        for b in 0..<n { for ci in 0..<c { for iy in 0..<h { for ix in 0..<w {
            let v = x[((b * c + ci) * h + iy) * w + ix]
            for co in 0..<outChannels { for ky in 0..<3 { for kx in 0..<3 {
                let oy = iy * 2 - 1 + ky, ox = ix * 2 - 1 + kx
                if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
                    y[((b * outChannels + co) * oh + oy) * ow + ox] += v * weight[((ci * outChannels + co) * 3 + ky) * 3 + kx]
                }
            } } }
        } } } }
        return y
    }

    static func silu(_ v: Double) -> Double { v / (1 + exp(-v)) }

    /// GroupNorm (biased variance, ε) with affine γ, β, then SiLU when asked.
    static func groupNorm(_ x: [Double], n: Int, c: Int, plane: Int, groups: Int, gamma: [Double], beta: [Double],
                          epsilon: Double = 1e-5, silu applySiLU: Bool) -> [Double] {
        var y = x
        let per = c / groups
        for b in 0..<n { for g in 0..<groups {
            let start = (b * c + g * per) * plane, end = start + per * plane
            let mean = x[start..<end].reduce(0, +) / Double(end - start)
            let variance = x[start..<end].map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(end - start)
            for i in start..<end {
                let ch = (i / plane) % c
                let v = (x[i] - mean) / (variance + epsilon).squareRoot() * gamma[ch] + beta[ch]
                y[i] = applySiLU ? silu(v) : v
            }
        } }
        return y
    }

    /// y[n, o] = b[o] + Σ_i x[n, i]·W[o, i].
    static func linear(_ x: [Double], n: Int, inFeatures: Int, weight: [Double], bias: [Double]?, outFeatures: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * outFeatures)
        for b in 0..<n { for o in 0..<outFeatures {
            var s = bias?[o] ?? 0
            for i in 0..<inFeatures { s += x[b * inFeatures + i] * weight[o * inFeatures + i] }
            y[b * outFeatures + o] = s
        } }
        return y
    }
}

/// Deterministic test data.
struct TestData {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in generator.uniformFloat(bound: scale) }
    }
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}

/// Largest |a − b| relative to `1 + |b|`.
func maxRelativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    return zip(a, b).map { abs(Double($0) - $1) / (1 + abs($1)) }.max() ?? 0
}

/// Central finite differences of `loss` at the given indices of `values` (double precision).
func numericGradient(_ values: [Double], at indices: [Int], step: Double = 1e-5, loss: ([Double]) -> Double) -> [Double] {
    indices.map { i in
        var plus = values, minus = values
        plus[i] += step
        minus[i] -= step
        return (loss(plus) - loss(minus)) / (2 * step)
    }
}

/// `L = Σ r·y`, the scalar whose gradient with respect to y is r.
func projection(_ y: [Double], _ r: [Float]) -> Double {
    zip(y, r).reduce(0) { $0 + $1.0 * Double($1.1) }
}

/// Up to `limit` indices spread over `0..<count`.
func sampleIndices(_ count: Int, limit: Int = 24) -> [Int] {
    count <= limit ? Array(0..<count) : (0..<limit).map { $0 * count / limit + ($0 * 7919) % max(1, count / limit) }
}
