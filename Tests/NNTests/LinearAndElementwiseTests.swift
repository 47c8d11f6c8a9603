import Foundation
import SeededRandom
import Testing
@testable import NN

@Suite("Linear")
struct LinearTests {
    @Test("forward and backward against the reference", arguments: [(1, 3, 4), (3, 5, 2), (4, 8, 8)])
    func linear(n: Int, inFeatures: Int, outFeatures: Int) {
        var data = TestData(seed: 20)
        let layer = Linear(inFeatures: inFeatures, outFeatures: outFeatures)
        let x = data.floats(n * inFeatures), weight = data.floats(inFeatures * outFeatures), bias = data.floats(outFeatures)
        var y = [Float](repeating: 0, count: n * outFeatures)
        y.withUnsafeMutableBufferPointer { layer.forward(input: x, batch: n, weight: weight, bias: bias, output: $0.baseAddress!) }
        let reference = { (x: [Double], w: [Double], b: [Double]) in
            Reference.linear(x, n: n, inFeatures: inFeatures, weight: w, bias: b, outFeatures: outFeatures)
        }
        #expect(maxRelativeError(y, reference(x.doubles, weight.doubles, bias.doubles)) < 1e-6)
        let r = data.floats(y.count)
        var dx = [Float](repeating: 1, count: x.count), dw = [Float](repeating: 1, count: weight.count)
        var db = [Float](repeating: 1, count: bias.count)
        dx.withUnsafeMutableBufferPointer { dxp in
            dw.withUnsafeMutableBufferPointer { dwp in
                db.withUnsafeMutableBufferPointer { dbp in
                    layer.backward(input: x, batch: n, weight: weight, outputGradient: r, inputGradient: dxp.baseAddress!,
                                   weightGradient: dwp.baseAddress!, biasGradient: dbp.baseAddress!)
                }
            }
        }
        let xi = Array(0..<x.count), wi = Array(0..<weight.count), bi = Array(0..<bias.count)
        #expect(maxRelativeError(dx.map { $0 - 1 }, numericGradient(x.doubles, at: xi) { projection(reference($0, weight.doubles, bias.doubles), r) }) < 1e-5)
        #expect(maxRelativeError(dw.map { $0 - 1 }, numericGradient(weight.doubles, at: wi) { projection(reference(x.doubles, $0, bias.doubles), r) }) < 1e-5)
        #expect(maxRelativeError(db.map { $0 - 1 }, numericGradient(bias.doubles, at: bi) { projection(reference(x.doubles, weight.doubles, $0), r) }) < 1e-5)
    }
}

@Suite("Elementwise ops")
struct ElementwiseTests {
    @Test("broadcast add of a per-channel vector and its backward")
    func channelVector() {
        var data = TestData(seed: 21)
        let n = 2, c = 3, plane = 5
        let x = data.floats(n * c * plane), v = data.floats(n * c)
        var y = x
        y.withUnsafeMutableBufferPointer { Elementwise.addChannelVector(v, to: $0.baseAddress!, batch: n, channels: c, plane: plane) }
        for i in 0..<x.count { #expect(y[i] == x[i] + v[i / plane]) }
        let r = data.floats(x.count)
        var dv = [Float](repeating: 2, count: v.count)
        dv.withUnsafeMutableBufferPointer {
            Elementwise.addChannelVectorBackward(outputGradient: r, vectorGradient: $0.baseAddress!, batch: n, channels: c, plane: plane)
        }
        let numeric = numericGradient(v.doubles, at: Array(0..<v.count)) { v in
            projection((0..<x.count).map { Double(x[$0]) + v[$0 / plane] }, r)
        }
        #expect(maxRelativeError(dv.map { $0 - 2 }, numeric) < 1e-5)
    }

    @Test("top-left crop and its backward")
    func crop() {
        let x: [Float] = (0..<2 * 4 * 5).map(Float.init)
        var y = [Float](repeating: 0, count: 2 * 3 * 4)
        y.withUnsafeMutableBufferPointer {
            Elementwise.crop(x, batchChannels: 2, height: 4, width: 5, toHeight: 3, width: 4, output: $0.baseAddress!)
        }
        #expect(Array(y[0..<8]) == [0, 1, 2, 3, 5, 6, 7, 8])
        #expect(y[12] == 20)
        var dx = [Float](repeating: 1, count: x.count)
        let r = [Float](repeating: 3, count: y.count)
        dx.withUnsafeMutableBufferPointer {
            Elementwise.cropBackward(outputGradient: r, batchChannels: 2, height: 4, width: 5, croppedHeight: 3, width: 4,
                                     inputGradient: $0.baseAddress!)
        }
        for plane in 0..<2 { for yy in 0..<4 { for xx in 0..<5 {
            #expect(dx[(plane * 4 + yy) * 5 + xx] == (yy < 3 && xx < 4 ? 4 : 1))
        } } }
    }

    @Test("add and accumulate")
    func add() {
        let a: [Float] = [1, 2, 3], b: [Float] = [10, 20, 30]
        var out = [Float](repeating: 0, count: 3)
        out.withUnsafeMutableBufferPointer { Elementwise.add(a, b, into: $0.baseAddress!, count: 3) }
        #expect(out == [11, 22, 33])
        out.withUnsafeMutableBufferPointer { Elementwise.accumulate(a, into: $0.baseAddress!, count: 3) }
        #expect(out == [12, 24, 36])
    }

    @Test("dropout keeps about 1−p of the elements, scales them by 1/(1−p), and its backward applies the mask")
    func dropout() {
        var generator = SplitMix64(seed: 7)
        let count = 20_000
        var x = [Float](repeating: 2, count: count), mask = [Float](repeating: 0, count: count)
        x.withUnsafeMutableBufferPointer { xp in
            mask.withUnsafeMutableBufferPointer { mp in
                Dropout.forward(xp.baseAddress!, mask: mp.baseAddress!, count: count, probability: 0.25, generator: &generator)
            }
        }
        let kept = mask.filter { $0 != 0 }
        #expect(abs(Double(kept.count) / Double(count) - 0.75) < 0.02)
        #expect(kept.allSatisfy { abs($0 - 4 / 3) < 1e-6 })
        for i in 0..<count { #expect(x[i] == 2 * mask[i]) }
        var dx = [Float](repeating: 1, count: count)
        let r = [Float](repeating: 3, count: count)
        dx.withUnsafeMutableBufferPointer { Dropout.backward(outputGradient: r, mask: mask, inputGradient: $0.baseAddress!, count: count) }
        for i in 0..<count { #expect(dx[i] == 1 + 3 * mask[i]) }
        // Same seed, same mask.
        var again = SplitMix64(seed: 7)
        var mask2 = [Float](repeating: 0, count: count), x2 = [Float](repeating: 2, count: count)
        x2.withUnsafeMutableBufferPointer { xp in
            mask2.withUnsafeMutableBufferPointer { Dropout.forward(xp.baseAddress!, mask: $0.baseAddress!, count: count, probability: 0.25, generator: &again) }
        }
        #expect(mask2 == mask)
    }

    @Test("mean squared error and its gradient")
    func meanSquaredError() {
        let p: [Float] = [1, 2, 3, 4], t: [Float] = [0, 2, 5, 3]
        #expect(abs(MeanSquaredError.forward(prediction: p, target: t, count: 4, scale: 128) - 128 * 6 / 4) < 1e-4)
        var g = [Float](repeating: 0, count: 4)
        g.withUnsafeMutableBufferPointer { MeanSquaredError.backward(prediction: p, target: t, count: 4, scale: 128, gradient: $0.baseAddress!) }
        let numeric = numericGradient(p.doubles, at: [0, 1, 2, 3]) { (p: [Double]) -> Double in
            var total = 0.0
            for i in 0..<4 { let d = p[i] - Double(t[i]); total += d * d }
            return 128 * total / 4
        }
        #expect(maxRelativeError(g, numeric) < 1e-5)
    }
}

@Suite("Sinusoidal embedding")
struct EmbeddingTests {
    @Test("cos first then sin, frequencies exp(−ln(10000)·i/half)")
    func embedding() {
        let e = SinusoidalEmbedding.embed(timesteps: [0, 3, 1999], channels: 8)
        #expect(e.shape == [3, 8])
        for i in 0..<4 {
            #expect(e[0, i] == 1)
            #expect(e[0, 4 + i] == 0)
            let f = exp(-log(10000.0) * Double(i) / 4)
            #expect(abs(Double(e[1, i]) - cos(3 * f)) < 1e-6)
            #expect(abs(Double(e[1, 4 + i]) - sin(3 * f)) < 1e-6)
            #expect(abs(Double(e[2, i]) - cos(1999 * f)) < 2e-4)
        }
    }
}
