import Testing
@testable import NN

struct NormCase: CustomStringConvertible, Sendable {
    let n, c, plane, groups: Int
    let silu: Bool
    var description: String { "n\(n) c\(c) plane\(plane) g\(groups)\(silu ? " +SiLU" : "")" }
}

private let normCases: [NormCase] = [
    NormCase(n: 1, c: 4, plane: 9, groups: 2, silu: false),
    NormCase(n: 2, c: 6, plane: 7, groups: 3, silu: true),
    NormCase(n: 2, c: 8, plane: 25, groups: 32, silu: true),   // min(32, 8) = 8 groups
    NormCase(n: 3, c: 5, plane: 4, groups: 1, silu: false),
    NormCase(n: 1, c: 12, plane: 33, groups: 4, silu: true),
    // Planes past the vector kernels' 1,024-element accumulation blocks, with a ragged tail.
    NormCase(n: 2, c: 4, plane: 2_053, groups: 2, silu: true),
    NormCase(n: 1, c: 2, plane: 1_031, groups: 1, silu: false),
]

@Suite("GroupNorm")
struct NormalizationTests {
    @Test("forward equals the double-precision definition", arguments: normCases)
    func forward(_ t: NormCase) {
        var data = TestData(seed: 10)
        let norm = GroupNorm(channels: t.c, groups: t.groups)
        #expect(norm.groups == min(t.groups, t.c))
        let x = data.floats(t.n * t.c * t.plane, scale: 3).map { $0 + 0.7 }
        let gamma = data.floats(t.c), beta = data.floats(t.c)
        var y = [Float](repeating: 0, count: x.count)
        y.withUnsafeMutableBufferPointer {
            norm.forward(input: x, batch: t.n, plane: t.plane, gamma: gamma, beta: beta, output: $0.baseAddress!, silu: t.silu)
        }
        let expected = Reference.groupNorm(x.doubles, n: t.n, c: t.c, plane: t.plane, groups: norm.groups,
                                           gamma: gamma.doubles, beta: beta.doubles, silu: t.silu)
        #expect(maxRelativeError(y, expected) < 2e-5)
    }

    @Test("backward equals central finite differences of the reference", arguments: normCases)
    func backward(_ t: NormCase) {
        var data = TestData(seed: 11)
        let norm = GroupNorm(channels: t.c, groups: t.groups)
        let x = data.floats(t.n * t.c * t.plane, scale: 2)
        let gamma = data.floats(t.c), beta = data.floats(t.c)
        let r = data.floats(x.count)
        var mean = [Float](repeating: 0, count: t.n * norm.groups), rstd = mean
        var y = [Float](repeating: 0, count: x.count)
        y.withUnsafeMutableBufferPointer { out in
            mean.withUnsafeMutableBufferPointer { m in
                rstd.withUnsafeMutableBufferPointer { s in
                    norm.forward(input: x, batch: t.n, plane: t.plane, gamma: gamma, beta: beta, output: out.baseAddress!,
                                 silu: t.silu, mean: m.baseAddress!, rstd: s.baseAddress!)
                }
            }
        }
        var dx = [Float](repeating: 0.25, count: x.count)
        var dg = [Float](repeating: 0.25, count: t.c), db = [Float](repeating: 0.25, count: t.c)
        dx.withUnsafeMutableBufferPointer { dxp in
            dg.withUnsafeMutableBufferPointer { dgp in
                db.withUnsafeMutableBufferPointer { dbp in
                    norm.backward(input: x, batch: t.n, plane: t.plane, gamma: gamma, beta: beta, mean: mean, rstd: rstd,
                                  silu: t.silu, outputGradient: r, inputGradient: dxp.baseAddress!,
                                  gammaGradient: dgp.baseAddress!, betaGradient: dbp.baseAddress!)
                }
            }
        }
        func loss(_ x: [Double], _ g: [Double], _ b: [Double]) -> Double {
            projection(Reference.groupNorm(x, n: t.n, c: t.c, plane: t.plane, groups: norm.groups, gamma: g, beta: b, silu: t.silu), r)
        }
        let xi = sampleIndices(x.count), ci = Array(0..<t.c)
        #expect(maxRelativeError(xi.map { dx[$0] - 0.25 }, numericGradient(x.doubles, at: xi) { loss($0, gamma.doubles, beta.doubles) }) < 2e-4)
        #expect(maxRelativeError(ci.map { dg[$0] - 0.25 }, numericGradient(gamma.doubles, at: ci) { loss(x.doubles, $0, beta.doubles) }) < 2e-4)
        #expect(maxRelativeError(ci.map { db[$0] - 0.25 }, numericGradient(beta.doubles, at: ci) { loss(x.doubles, gamma.doubles, $0) }) < 2e-4)
    }

    @Test("the variance is accurate for data far from zero")
    func largeOffset() {
        let norm = GroupNorm(channels: 2, groups: 1)
        let x: [Float] = (0..<2000).map { 1000 + Float($0 % 7) * 0.01 }
        var y = [Float](repeating: 0, count: x.count)
        y.withUnsafeMutableBufferPointer {
            norm.forward(input: x, batch: 1, plane: 1000, gamma: [1, 1], beta: [0, 0], output: $0.baseAddress!, silu: false)
        }
        let expected = Reference.groupNorm(x.doubles, n: 1, c: 2, plane: 1000, groups: 1, gamma: [1, 1], beta: [0, 0], silu: false)
        #expect(maxRelativeError(y, expected) < 2e-3)
    }
}

@Suite("SiLU")
struct SiLUTests {
    @Test("forward and backward over a wide range, including the vectorised exp's clamps")
    func siluValues() {
        let x: [Float] = (0..<403).map { Float($0 - 201) * 0.5 } + [-100, 100, 0]
        var y = [Float](repeating: 0, count: x.count)
        y.withUnsafeMutableBufferPointer { SiLU.forward(x, $0.baseAddress!, count: x.count) }
        #expect(maxRelativeError(y, x.doubles.map(Reference.silu)) < 1e-6)
        let r = [Float](repeating: 1, count: x.count)
        var dx = [Float](repeating: 0, count: x.count)
        dx.withUnsafeMutableBufferPointer { SiLU.backward(input: x, outputGradient: r, inputGradient: $0.baseAddress!, count: x.count) }
        let numeric = x.doubles.map { v in (Reference.silu(v + 1e-6) - Reference.silu(v - 1e-6)) / 2e-6 }
        #expect(maxRelativeError(dx, numeric) < 1e-5)
    }
}
