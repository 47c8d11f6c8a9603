import Testing
@testable import NN

// Winograd F(4×4, 3×3) against the im2col + sgemm path (the engine's direct fp32 convolution)
// and the double-precision reference. The transforms scale values by up to 8 and back, so
// Winograd rounds differently: with unit inputs and weights of scale 1/√(9·Cin) (outputs of
// order 1), the largest difference from im2col over these cases was 4.9·10⁻⁶ relative to
// 1 + |y| (n2 c17 31×29 → 33; 5.0·10⁻⁶ from the double reference), measured on the AVX-512F
// build (2026-12-06). The tolerance leaves twice that.
private let winogradTolerance = 1e-5

struct WinogradCase: CustomStringConvertible, Sendable {
    let n, c, h, w, outChannels: Int
    /// Band budget in floats (small values force many bands of a few tiles).
    var budget = Conv2D.winogradBandFloats
    var description: String { "n\(n) c\(c) \(h)×\(w) → \(outChannels), budget \(budget)" }
}

private let winogradCases: [WinogradCase] = [
    WinogradCase(n: 1, c: 8, h: 5, w: 7, outChannels: 8),
    WinogradCase(n: 2, c: 9, h: 13, w: 17, outChannels: 11),
    WinogradCase(n: 1, c: 16, h: 33, w: 40, outChannels: 12),
    WinogradCase(n: 3, c: 10, h: 1, w: 1, outChannels: 5),
    WinogradCase(n: 1, c: 12, h: 2, w: 3, outChannels: 7),
    WinogradCase(n: 2, c: 17, h: 31, w: 29, outChannels: 33),
    WinogradCase(n: 1, c: 64, h: 16, w: 16, outChannels: 64),
    WinogradCase(n: 1, c: 24, h: 12, w: 70, outChannels: 20),
    // Many bands: column bands of 16 tiles and odd remainders; bands of several tile rows.
    WinogradCase(n: 2, c: 8, h: 21, w: 150, outChannels: 9, budget: 1),
    WinogradCase(n: 2, c: 13, h: 45, w: 23, outChannels: 6, budget: 36 * 19 * 20),
]

private func convolve(_ conv: Conv2D, _ t: WinogradCase, x: [Float], weight: [Float], bias: [Float],
                      shift: [Float]? = nil, onto start: [Float]? = nil) -> [Float] {
    var y = start ?? [Float](repeating: 0, count: t.n * t.outChannels * t.h * t.w)
    y.withUnsafeMutableBufferPointer { out in
        conv.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias, shift: shift,
                     output: out.baseAddress!, accumulate: start != nil, workspace: Workspace())
    }
    return y
}

private struct WinogradData {
    let winograd, im2col: Conv2D
    let x, weight, bias, shift: [Float]

    init(_ t: WinogradCase, seed: UInt64) {
        var data = TestData(seed: seed)
        var conv = Conv2D(inChannels: t.c, outChannels: t.outChannels, kernelSize: 3, stride: 1, padding: 1)
        conv.winogradBudget = t.budget
        winograd = conv
        conv.allowsWinograd = false
        im2col = conv
        x = data.floats(t.n * t.c * t.h * t.w)
        weight = data.floats(conv.weightCount, scale: 1 / Float(9 * t.c).squareRoot())
        bias = data.floats(t.outChannels)
        shift = data.floats(t.n * t.outChannels)
    }
}

@Suite("Conv2D Winograd")
struct WinogradTests {
    @Test("3×3 stride-1 padding-1 convolutions with at least 8 input and 5 output channels use Winograd")
    func selection() {
        #expect(Conv2D(inChannels: 8, outChannels: 5, kernelSize: 3, stride: 1, padding: 1).usesWinograd)
        #expect(!Conv2D(inChannels: 7, outChannels: 8, kernelSize: 3, stride: 1, padding: 1).usesWinograd)
        #expect(!Conv2D(inChannels: 8, outChannels: 4, kernelSize: 3, stride: 1, padding: 1).usesWinograd)
        #expect(!Conv2D(inChannels: 8, outChannels: 8, kernelSize: 3, stride: 2, padding: 1).usesWinograd)
        #expect(!Conv2D(inChannels: 8, outChannels: 8, kernelSize: 1, stride: 1, padding: 0).usesWinograd)
        #expect(["avx512f", "avx2+fma", "portable"].contains(Conv2D.kernelPath))
    }

    @Test("forward matches im2col and the double-precision reference within the Winograd tolerance",
          arguments: winogradCases)
    func matchesIm2col(_ t: WinogradCase) {
        let d = WinogradData(t, seed: 41)
        #expect(d.winograd.usesWinograd && !d.im2col.usesWinograd)
        if t.budget < Conv2D.winogradBandFloats {
            let bands = d.winograd.winogradBands(height: t.h, width: t.w)
            #expect(bands.rowBands * bands.columnBands > 1)
        }
        let fast = convolve(d.winograd, t, x: d.x, weight: d.weight, bias: d.bias)
        let plain = convolve(d.im2col, t, x: d.x, weight: d.weight, bias: d.bias)
        let exact = Reference.conv2d(d.x.doubles, n: t.n, c: t.c, h: t.h, w: t.w, weight: d.weight.doubles,
                                     bias: d.bias.doubles, outChannels: t.outChannels, kh: 3, kw: 3, stride: 1, padding: 1)
        #expect(maxRelativeError(fast, plain.doubles) < winogradTolerance)
        #expect(maxRelativeError(fast, exact) < winogradTolerance)
        #expect(maxRelativeError(plain, exact) < 1e-5)
    }

    @Test("shift and accumulate add onto the output as in im2col", arguments: [winogradCases[1], winogradCases[8]])
    func shiftAndAccumulate(_ t: WinogradCase) {
        let d = WinogradData(t, seed: 42)
        var data = TestData(seed: 43)
        let start = data.floats(t.n * t.outChannels * t.h * t.w)
        let fast = convolve(d.winograd, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift, onto: start)
        let plain = convolve(d.im2col, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift, onto: start)
        #expect(maxRelativeError(fast, plain.doubles) < winogradTolerance)
    }

    @Test("the output is bit-identical for any bands and thread count", arguments: [winogradCases[5], winogradCases[9]])
    func independentOfBandsAndThreads(_ t: WinogradCase) {
        let d = WinogradData(t, seed: 44)
        let reference = Compute.withThreads(1) { convolve(d.winograd, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift) }
        for budget in [1, 36 * 40, 36 * 400, Conv2D.winogradBandFloats] {
            var conv = d.winograd
            conv.winogradBudget = budget
            for threads in [1, 2, 3] {
                let y = Compute.withThreads(threads) { convolve(conv, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift) }
                #expect(y == reference, "budget \(budget), \(threads) threads")
            }
        }
    }

    @Test("every build of the kernels this CPU runs (AVX-512F, AVX2+FMA, portable) matches im2col, for any threads",
          arguments: [winogradCases[5], winogradCases[8], winogradCases[9]])
    func everyBuild(_ t: WinogradCase) {
        let d = WinogradData(t, seed: 45)
        let plain = convolve(d.im2col, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift)
        let builds = Conv2D.WinogradKernels.allCases.filter { $0.rawValue <= Conv2D.WinogradKernels.fastest.rawValue }
        #expect(builds.contains(.portable))
        for build in builds {
            var conv = d.winograd
            conv.winogradKernels = build
            let one = Compute.withThreads(1) { convolve(conv, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift) }
            let three = Compute.withThreads(3) { convolve(conv, t, x: d.x, weight: d.weight, bias: d.bias, shift: d.shift) }
            #expect(maxRelativeError(one, plain.doubles) < winogradTolerance, "\(build.name)")
            #expect(one == three, "\(build.name)")
        }
    }
}
