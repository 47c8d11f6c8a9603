import Testing
@testable import NN

struct ConvCase: CustomStringConvertible, Sendable {
    let n, c, h, w, outChannels, kernel, stride, padding: Int
    var description: String { "n\(n) c\(c) \(h)×\(w) → \(outChannels) k\(kernel) s\(stride) p\(padding)" }
}

private let convCases: [ConvCase] = [
    ConvCase(n: 1, c: 3, h: 7, w: 9, outChannels: 5, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 2, c: 4, h: 8, w: 8, outChannels: 6, kernel: 3, stride: 2, padding: 1),
    ConvCase(n: 2, c: 3, h: 9, w: 7, outChannels: 4, kernel: 3, stride: 2, padding: 1),
    ConvCase(n: 3, c: 5, h: 6, w: 5, outChannels: 7, kernel: 1, stride: 1, padding: 0),
    ConvCase(n: 1, c: 2, h: 11, w: 10, outChannels: 3, kernel: 5, stride: 1, padding: 2),
    ConvCase(n: 2, c: 3, h: 10, w: 9, outChannels: 2, kernel: 3, stride: 1, padding: 0),
    ConvCase(n: 1, c: 6, h: 9, w: 12, outChannels: 1, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 2, c: 4, h: 5, w: 6, outChannels: 3, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 1, c: 2, h: 9, w: 9, outChannels: 3, kernel: 4, stride: 3, padding: 1),
    ConvCase(n: 1, c: 3, h: 5, w: 5, outChannels: 2, kernel: 1, stride: 2, padding: 0),
    // Direct kernel (≤ 4 output channels, 3×3, stride 1, padding 1), including 1- and 2-wide images.
    ConvCase(n: 2, c: 3, h: 4, w: 1, outChannels: 2, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 1, c: 2, h: 3, w: 2, outChannels: 4, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 2, c: 5, h: 6, w: 21, outChannels: 1, kernel: 3, stride: 1, padding: 1),
    // Direct kernel for few input channels (< 8): blocks of 4 output channels and the 8-pixel vector
    // blocks with scalar edges and tails; many input channels in several passes.
    ConvCase(n: 2, c: 3, h: 13, w: 37, outChannels: 16, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 1, c: 7, h: 6, w: 75, outChannels: 6, kernel: 3, stride: 1, padding: 1),
    ConvCase(n: 1, c: 17, h: 5, w: 83, outChannels: 3, kernel: 3, stride: 1, padding: 1),
    // Stride 2 wide enough for the vectorised im2col gather.
    ConvCase(n: 1, c: 3, h: 9, w: 75, outChannels: 5, kernel: 3, stride: 2, padding: 1),
]

private func runConvolution(_ t: ConvCase, x: [Float], weight: [Float], bias: [Float], shift: [Float]? = nil) -> [Float] {
    let conv = Conv2D(inChannels: t.c, outChannels: t.outChannels, kernelSize: t.kernel, stride: t.stride, padding: t.padding)
    let (oh, ow) = conv.outputSize(height: t.h, width: t.w)
    var y = [Float](repeating: 0, count: t.n * t.outChannels * oh * ow)
    y.withUnsafeMutableBufferPointer { out in
        conv.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias, shift: shift,
                     output: out.baseAddress!, workspace: Workspace())
    }
    return y
}

@Suite("Conv2D")
struct ConvolutionTests {
    @Test("forward equals the direct double-precision convolution", arguments: convCases)
    func forward(_ t: ConvCase) {
        var data = TestData(seed: 1)
        let x = data.floats(t.n * t.c * t.h * t.w)
        let weight = data.floats(t.outChannels * t.c * t.kernel * t.kernel, scale: 0.5)
        let bias = data.floats(t.outChannels)
        let y = runConvolution(t, x: x, weight: weight, bias: bias)
        let expected = Reference.conv2d(x.doubles, n: t.n, c: t.c, h: t.h, w: t.w, weight: weight.doubles, bias: bias.doubles,
                                        outChannels: t.outChannels, kh: t.kernel, kw: t.kernel, stride: t.stride, padding: t.padding)
        #expect(maxRelativeError(y, expected) < 1e-5)
    }

    @Test("per-image channel shift and accumulate add onto the output", arguments: [convCases[1], convCases[12]])
    func shiftAndAccumulate(_ t: ConvCase) {
        var data = TestData(seed: 2)
        let x = data.floats(t.n * t.c * t.h * t.w)
        let weight = data.floats(t.outChannels * t.c * 9)
        let bias = data.floats(t.outChannels)
        let shift = data.floats(t.n * t.outChannels)
        let plain = runConvolution(t, x: x, weight: weight, bias: bias)
        let shifted = runConvolution(t, x: x, weight: weight, bias: bias, shift: shift)
        let plane = plain.count / (t.n * t.outChannels)
        for i in 0..<plain.count {
            #expect(abs(shifted[i] - plain[i] - shift[i / plane]) < 1e-5)
        }
        let conv = Conv2D(inChannels: t.c, outChannels: t.outChannels, kernelSize: 3, stride: t.stride, padding: 1)
        var base = data.floats(plain.count)
        let original = base
        base.withUnsafeMutableBufferPointer { out in
            conv.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias,
                         output: out.baseAddress!, accumulate: true, workspace: Workspace())
        }
        for i in 0..<plain.count { #expect(abs(base[i] - original[i] - plain[i]) < 1e-5) }
    }

    @Test("backward equals central finite differences of the reference", arguments: convCases)
    func backward(_ t: ConvCase) {
        var data = TestData(seed: 3)
        let conv = Conv2D(inChannels: t.c, outChannels: t.outChannels, kernelSize: t.kernel, stride: t.stride, padding: t.padding)
        let (oh, ow) = conv.outputSize(height: t.h, width: t.w)
        let x = data.floats(t.n * t.c * t.h * t.w)
        let weight = data.floats(conv.weightCount, scale: 0.5)
        let bias = data.floats(t.outChannels)
        let r = data.floats(t.n * t.outChannels * oh * ow)
        // Gradients start non-zero: backward must add.
        let start = data.floats(max(x.count, weight.count))
        var dx = Array(start[0..<x.count]), dw = Array(start[0..<weight.count]), db = Array(start[0..<t.outChannels])
        let workspace = Workspace()
        dw.withUnsafeMutableBufferPointer { dwp in
            db.withUnsafeMutableBufferPointer { dbp in
                conv.backwardWeights(input: x, batch: t.n, height: t.h, width: t.w, outputGradient: r,
                                     weightGradient: dwp.baseAddress!, biasGradient: dbp.baseAddress!, workspace: workspace)
            }
        }
        dx.withUnsafeMutableBufferPointer { dxp in
            conv.backwardData(outputGradient: r, batch: t.n, height: t.h, width: t.w, weight: weight,
                              inputGradient: dxp.baseAddress!, workspace: workspace)
        }
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            projection(Reference.conv2d(x, n: t.n, c: t.c, h: t.h, w: t.w, weight: w, bias: b, outChannels: t.outChannels,
                                        kh: t.kernel, kw: t.kernel, stride: t.stride, padding: t.padding), r)
        }
        let xi = sampleIndices(x.count), wi = sampleIndices(weight.count), bi = Array(0..<t.outChannels)
        let nx = numericGradient(x.doubles, at: xi) { loss($0, weight.doubles, bias.doubles) }
        let nw = numericGradient(weight.doubles, at: wi) { loss(x.doubles, $0, bias.doubles) }
        let nb = numericGradient(bias.doubles, at: bi) { loss(x.doubles, weight.doubles, $0) }
        #expect(maxRelativeError(xi.map { dx[$0] - start[$0] }, nx) < 1e-4)
        #expect(maxRelativeError(wi.map { dw[$0] - start[$0] }, nw) < 1e-4)
        #expect(maxRelativeError(bi.map { db[$0] - start[$0] }, nb) < 1e-4)
    }

    @Test("every build of the direct kernel matches the reference and im2col, with the same bits on 1 and 3 threads",
          arguments: [convCases[12], convCases[13], convCases[14], convCases[15]])
    func directBuilds(_ t: ConvCase) {
        var data = TestData(seed: 7)
        let x = data.floats(t.n * t.c * t.h * t.w)
        let weight = data.floats(t.outChannels * t.c * 9, scale: 0.5)
        let bias = data.floats(t.outChannels), shift = data.floats(t.n * t.outChannels)
        var conv = Conv2D(inChannels: t.c, outChannels: t.outChannels, kernelSize: 3, stride: 1, padding: 1)
        #expect(conv.usesDirectKernel)
        func run(_ conv: Conv2D) -> [Float] {
            var y = [Float](repeating: 0, count: t.n * t.outChannels * t.h * t.w)
            y.withUnsafeMutableBufferPointer { out in
                conv.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias, shift: shift,
                             output: out.baseAddress!, workspace: Workspace())
            }
            return y
        }
        var reference = Reference.conv2d(x.doubles, n: t.n, c: t.c, h: t.h, w: t.w, weight: weight.doubles, bias: bias.doubles,
                                         outChannels: t.outChannels, kh: 3, kw: 3, stride: 1, padding: 1)
        let plane = t.h * t.w
        for i in reference.indices { reference[i] += Double(shift[i / plane]) }
        conv.allowsDirectKernel = false
        let im2col = run(conv)
        conv.allowsDirectKernel = true
        let builds = Conv2D.DirectKernels.allCases.filter { $0.rawValue <= Conv2D.DirectKernels.fastest.rawValue }
        #expect(builds.contains(.portable))
        for build in builds {
            conv.directKernels = build
            let one = Compute.withThreads(1) { run(conv) }
            let three = Compute.withThreads(3) { run(conv) }
            #expect(maxRelativeError(one, reference) < 1e-5, "\(build)")
            #expect(maxRelativeError(one, im2col.doubles) < 1e-5, "\(build)")
            #expect(one == three, "\(build)")
        }
    }

    @Test("bands of a few rows give the same forward and backward as one band", arguments: [1, 40, 100])
    func bandsAgree(budget: Int) {
        let t = ConvCase(n: 2, c: 2, h: 9, w: 7, outChannels: 5, kernel: 3, stride: 1, padding: 1)
        var data = TestData(seed: 6)
        var conv = Conv2D(inChannels: t.c, outChannels: t.outChannels, kernelSize: 3, stride: 1, padding: 1)
        let x = data.floats(t.n * t.c * t.h * t.w), weight = data.floats(conv.weightCount), bias = data.floats(5)
        let r = data.floats(t.n * t.outChannels * t.h * t.w)
        func run(_ conv: Conv2D) -> (y: [Float], dx: [Float], dw: [Float]) {
            var y = [Float](repeating: 0, count: r.count), dx = [Float](repeating: 0, count: x.count)
            var dw = [Float](repeating: 0, count: weight.count)
            let workspace = Workspace()
            y.withUnsafeMutableBufferPointer { conv.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias, output: $0.baseAddress!, workspace: workspace) }
            dx.withUnsafeMutableBufferPointer { conv.backwardData(outputGradient: r, batch: t.n, height: t.h, width: t.w, weight: weight, inputGradient: $0.baseAddress!, workspace: workspace) }
            dw.withUnsafeMutableBufferPointer { conv.backwardWeights(input: x, batch: t.n, height: t.h, width: t.w, outputGradient: r, weightGradient: $0.baseAddress!, biasGradient: nil, workspace: workspace) }
            return (y, dx, dw)
        }
        conv.allowsDirectKernel = false
        #expect(!conv.usesDirectKernel)
        let whole = run(conv)
        conv.columnBudget = budget
        conv.forwardBudget = budget
        conv.minimumColumns = 1
        #expect(conv.bandRows(outputHeight: t.h, outputWidth: t.w) < t.h)
        #expect(conv.forwardBandRows(batch: 1, outputHeight: t.h, outputWidth: t.w) < t.h)
        let banded = run(conv)
        #expect(maxRelativeError(banded.y, whole.y.doubles) < 1e-6)
        #expect(maxRelativeError(banded.dx, whole.dx.doubles) < 1e-6)
        #expect(maxRelativeError(banded.dw, whole.dw.doubles) < 1e-6)
    }
}

struct TransposedCase: CustomStringConvertible, Sendable {
    let n, c, h, w, outChannels: Int
    var description: String { "n\(n) c\(c) \(h)×\(w) → \(outChannels)" }
}

private let transposedCases: [TransposedCase] = [
    TransposedCase(n: 1, c: 3, h: 4, w: 5, outChannels: 2),
    TransposedCase(n: 2, c: 2, h: 3, w: 3, outChannels: 4),
    TransposedCase(n: 1, c: 4, h: 1, w: 2, outChannels: 3),
    TransposedCase(n: 2, c: 5, h: 5, w: 4, outChannels: 5),
    // Wide enough for the vectorised interleave of the column phases (8 pixels a step, then a tail).
    TransposedCase(n: 1, c: 3, h: 3, w: 21, outChannels: 4),
]

@Suite("ConvTranspose2D")
struct TransposedConvolutionTests {
    @Test("forward equals PyTorch's definition (k3 s2 p1 output padding 1)", arguments: transposedCases)
    func forward(_ t: TransposedCase) {
        var data = TestData(seed: 4)
        let op = ConvTranspose2D(inChannels: t.c, outChannels: t.outChannels)
        let x = data.floats(t.n * t.c * t.h * t.w)
        let weight = data.floats(op.weightCount)
        let bias = data.floats(t.outChannels)
        var y = [Float](repeating: 0, count: t.n * t.outChannels * 4 * t.h * t.w)
        y.withUnsafeMutableBufferPointer { out in
            op.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias,
                       output: out.baseAddress!, workspace: Workspace())
        }
        let expected = Reference.convTranspose(x.doubles, n: t.n, c: t.c, h: t.h, w: t.w, weight: weight.doubles,
                                               bias: bias.doubles, outChannels: t.outChannels)
        #expect(maxRelativeError(y, expected) < 1e-5)
    }

    @Test("accumulate adds the forward onto the output", arguments: [transposedCases[3], transposedCases[4]])
    func accumulate(_ t: TransposedCase) {
        var data = TestData(seed: 8)
        let op = ConvTranspose2D(inChannels: t.c, outChannels: t.outChannels)
        let x = data.floats(t.n * t.c * t.h * t.w), weight = data.floats(op.weightCount), bias = data.floats(t.outChannels)
        let start = data.floats(t.n * t.outChannels * 4 * t.h * t.w)
        var plain = [Float](repeating: 0, count: start.count), summed = start
        plain.withUnsafeMutableBufferPointer { out in
            op.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias,
                       output: out.baseAddress!, workspace: Workspace())
        }
        summed.withUnsafeMutableBufferPointer { out in
            op.forward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, bias: bias,
                       output: out.baseAddress!, accumulate: true, workspace: Workspace())
        }
        for i in start.indices { #expect(summed[i] == start[i] + plain[i]) }
    }

    @Test("backward equals central finite differences of the reference", arguments: transposedCases)
    func backward(_ t: TransposedCase) {
        var data = TestData(seed: 5)
        let op = ConvTranspose2D(inChannels: t.c, outChannels: t.outChannels)
        let x = data.floats(t.n * t.c * t.h * t.w)
        let weight = data.floats(op.weightCount)
        let bias = data.floats(t.outChannels)
        let r = data.floats(t.n * t.outChannels * 4 * t.h * t.w)
        var dx = [Float](repeating: 0.5, count: x.count), dw = [Float](repeating: 0.5, count: weight.count)
        var db = [Float](repeating: 0.5, count: bias.count)
        dx.withUnsafeMutableBufferPointer { dxp in
            dw.withUnsafeMutableBufferPointer { dwp in
                db.withUnsafeMutableBufferPointer { dbp in
                    op.backward(input: x, batch: t.n, height: t.h, width: t.w, weight: weight, outputGradient: r,
                                inputGradient: dxp.baseAddress!, weightGradient: dwp.baseAddress!,
                                biasGradient: dbp.baseAddress!, workspace: Workspace())
                }
            }
        }
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            projection(Reference.convTranspose(x, n: t.n, c: t.c, h: t.h, w: t.w, weight: w, bias: b, outChannels: t.outChannels), r)
        }
        let xi = sampleIndices(x.count), wi = sampleIndices(weight.count), bi = Array(0..<bias.count)
        #expect(maxRelativeError(xi.map { dx[$0] - 0.5 }, numericGradient(x.doubles, at: xi) { loss($0, weight.doubles, bias.doubles) }) < 1e-4)
        #expect(maxRelativeError(wi.map { dw[$0] - 0.5 }, numericGradient(weight.doubles, at: wi) { loss(x.doubles, $0, bias.doubles) }) < 1e-4)
        #expect(maxRelativeError(bi.map { db[$0] - 0.5 }, numericGradient(bias.doubles, at: bi) { loss(x.doubles, weight.doubles, $0) }) < 1e-4)
    }
}
