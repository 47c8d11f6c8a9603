import Testing
@testable import NN

@Suite("AdamW")
struct AdamWTests {
    @Test("two steps equal the hand-computed PyTorch update")
    func handComputed() {
        let optimizer = AdamW(parameterCount: 2, learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)
        var p: [Float] = [1.0, -2.0]
        // Step 1, g = [0.5, -1]: p ← p(1 − 0.001); m = 0.1g; v = 0.001g²; m̂ = g, v̂ = g²;
        // p ← p − 0.1·g/(|g| + 1e-8) → each parameter moves by 0.1 against the gradient's sign.
        p.withUnsafeMutableBufferPointer { optimizer.update(parameters: $0.baseAddress!, gradients: [0.5, -1.0], count: 2) }
        #expect(abs(p[0] - (1.0 * 0.999 - 0.1)) < 1e-6)
        #expect(abs(p[1] - (-2.0 * 0.999 + 0.1)) < 1e-6)
        // Step 2, g = [0.25, 0]: m = 0.9·0.05 + 0.1·0.25 = 0.07 → m̂ = 0.07/0.19;
        // v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225 → v̂ = v/(1 − 0.999²) = v/0.001999.
        let before = p
        p.withUnsafeMutableBufferPointer { optimizer.update(parameters: $0.baseAddress!, gradients: [0.25, 0], count: 2) }
        let mHat0 = 0.07 / 0.19, vHat0 = 0.00031225 / 0.001999
        let expected0 = Double(before[0]) * 0.999 - 0.1 * mHat0 / (vHat0.squareRoot() + 1e-8)
        #expect(abs(Double(p[0]) - expected0) < 1e-6)
        // Second parameter: m = 0.9·(−0.1) = −0.09, v = 0.999·0.001 = 0.000999.
        let mHat1 = -0.09 / 0.19, vHat1 = 0.000999 / 0.001999
        let expected1 = Double(before[1]) * 0.999 - 0.1 * mHat1 / (vHat1.squareRoot() + 1e-8)
        #expect(abs(Double(p[1]) - expected1) < 1e-6)
        #expect(optimizer.step == 2)
    }

    @Test("it updates a ParameterBuffer through its flat gradients")
    func parameterBuffer() {
        let buffer = ParameterBuffer()
        buffer.declare("a", shape: [2])
        buffer.declare("b", shape: [1, 1])
        buffer.allocate()
        for i in 0..<3 { buffer.values[i] = 1 }
        buffer.gradients[2] = 1
        let optimizer = AdamW(parameterCount: 3, learningRate: 0.5, weightDecay: 0)
        optimizer.update(buffer)
        #expect(buffer.values[0] == 1 && buffer.values[1] == 1)
        #expect(abs(buffer.values[2] - 0.5) < 1e-6)
        buffer.zeroGradients()
        #expect(buffer.gradients.allSatisfy { $0 == 0 })
    }
}
