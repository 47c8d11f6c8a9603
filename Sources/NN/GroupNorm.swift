import CBLAS

/// Group normalisation with per-channel affine parameters, optionally followed by SiLU in the
/// same pass (the U-Net always applies SiLU after GroupNorm, so fusing saves a memory pass).
///
/// Input `[N, C, H·W]`; channels split into `groups` consecutive groups of `C/groups` channels;
/// `y = γ[c]·(x − μ[n,g])·rstd[n,g] + β[c]` with biased variance and ε = 1e-5 (PyTorch).
public struct GroupNorm: Sendable, Equatable, Hashable {
    public let channels: Int
    public let groups: Int
    public let epsilon: Float

    /// A GroupNorm over `channels` with `min(groups, channels)` groups, which must divide `channels`.
    public init(channels: Int, groups: Int, epsilon: Float = 1e-5) {
        let g = min(groups, channels)
        precondition(channels > 0 && g > 0, "GroupNorm needs positive channels and groups")
        precondition(channels % g == 0, "GroupNorm: \(g) groups do not divide \(channels) channels")
        self.channels = channels
        self.groups = g
        self.epsilon = epsilon
    }

    /// Normalises `input` into `output` (may be the same buffer), then applies SiLU when `silu`.
    /// Writes the group means and reciprocal standard deviations `[N, groups]` when given.
    public func forward(
        input: UnsafePointer<Float>, batch: Int, plane: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, silu: Bool,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
    ) {
        let perGroup = channels / groups
        let groupCount = perGroup * plane
        // One statistics pass per (n, g); mean, scale γ·rstd and shift β per (n, c) go into a table.
        var table = [Float](repeating: 0, count: 3 * batch * channels)
        table.withUnsafeMutableBufferPointer { table in
            let tablePointer = table.baseAddress!
            Compute.parallelFor(batch * groups) { index in
                let start = input + index * groupCount
                let (mu, variance) = meanAndVariance(start, count: groupCount)
                let r = Float(1 / (variance + Double(epsilon)).squareRoot())
                mean?[index] = Float(mu)
                rstd?[index] = r
                let n = index / groups, g = index % groups
                for c in g * perGroup..<(g + 1) * perGroup {
                    tablePointer[3 * (n * channels + c)] = Float(mu)
                    tablePointer[3 * (n * channels + c) + 1] = gamma[c] * r
                    tablePointer[3 * (n * channels + c) + 2] = beta[c]
                }
            }
            Compute.parallelRanges(batch * channels * plane, minimumPerThread: 16384) { range in
                var i = range.lowerBound
                while i < range.upperBound {
                    let row = i / plane
                    let end = min(range.upperBound, (row + 1) * plane)
                    affineSiLU(input + i, output + i, count: end - i,
                               center: tablePointer[3 * row], scale: tablePointer[3 * row + 1],
                               shift: tablePointer[3 * row + 2], silu: silu)
                    i = end
                }
            }
        }
    }

    /// Adds `∂L/∂x`, `∂L/∂γ` and `∂L/∂β`, given the forward's input, statistics and the gradient of
    /// its output (after SiLU when `silu`).
    public func backward(
        input: UnsafePointer<Float>, batch: Int, plane: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, silu: Bool,
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        gammaGradient: UnsafeMutablePointer<Float>, betaGradient: UnsafeMutablePointer<Float>
    ) {
        let perGroup = channels / groups
        // Per (n, c): Σ dẑ·x̂ and Σ dẑ, where dẑ is the gradient at the affine output.
        var partial = [Float](repeating: 0, count: 2 * batch * channels)
        partial.withUnsafeMutableBufferPointer { partial in
            let sums = partial.baseAddress!
            Compute.parallelFor(batch * groups) { index in
                let n = index / groups, g = index % groups
                let mu = mean[index], r = rstd[index]
                var groupDotXhat = 0.0, groupSum = 0.0
                for c in g * perGroup..<(g + 1) * perGroup {
                    let x = input + (n * channels + c) * plane
                    let dy = outputGradient + (n * channels + c) * plane
                    var dotXhat = 0.0, total = 0.0
                    nn_gn_backward_sums(x, dy, plane, mu, r, gamma[c], beta[c], silu ? 1 : 0, &dotXhat, &total)
                    sums[2 * (n * channels + c)] = Float(dotXhat)
                    sums[2 * (n * channels + c) + 1] = Float(total)
                    groupDotXhat += dotXhat * Double(gamma[c])
                    groupSum += total * Double(gamma[c])
                }
                guard let inputGradient else { return }
                // dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = γ·dẑ.
                let m = Double(perGroup * plane)
                let meanD = Float(groupSum / m), meanDX = Float(groupDotXhat / m)
                for c in g * perGroup..<(g + 1) * perGroup {
                    let offset = (n * channels + c) * plane
                    nn_gn_backward_input(input + offset, outputGradient + offset, inputGradient + offset, plane,
                                         mu, r, gamma[c], beta[c], silu ? 1 : 0, meanD, meanDX)
                }
            }
            for n in 0..<batch {
                for c in 0..<channels {
                    gammaGradient[c] += sums[2 * (n * channels + c)]
                    betaGradient[c] += sums[2 * (n * channels + c) + 1]
                }
            }
        }
    }
}

/// Mean and biased variance of `count` floats in one pass over `x − x[0]` (shifting by a sample
/// keeps the Float partial sums accurate when |mean| ≫ std); Double across blocks.
@inline(__always)
func meanAndVariance(_ x: UnsafePointer<Float>, count: Int) -> (Double, Double) {
    guard count > 0 else { return (0, 0) }
    var sum = 0.0, squares = 0.0
    nn_shifted_sums(x, count, x[0], &sum, &squares)
    let shiftedMean = sum / Double(count)
    return (Double(x[0]) + shiftedMean, max(0, squares / Double(count) - shiftedMean * shiftedMean))
}
