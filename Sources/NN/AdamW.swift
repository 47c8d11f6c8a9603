import Foundation

/// AdamW with PyTorch's semantics (`torch.optim.AdamW`): decoupled weight decay, bias correction.
///
/// Per element, at step t (starting at 1):
/// `p ← p·(1 − lr·λ)`; `m ← β1·m + (1−β1)·g`; `v ← β2·v + (1−β2)·g²`;
/// `p ← p − (lr/(1−β1ᵗ))·m / (√v/√(1−β2ᵗ) + ε)`.
/// Works over one flat parameter buffer and its flat gradient buffer.
public final class AdamW: @unchecked Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Steps taken so far.
    public private(set) var step = 0
    /// First and second moment estimates, same layout as the parameters.
    public private(set) var firstMoment: [Float]
    public private(set) var secondMoment: [Float]

    public init(
        parameterCount: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 1e-2
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// Restores optimiser state (e.g. from a checkpoint).
    public func restore(step: Int, firstMoment: [Float], secondMoment: [Float]) {
        precondition(firstMoment.count == self.firstMoment.count && secondMoment.count == self.secondMoment.count,
                     "moment buffers do not match the parameter count")
        self.step = step
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }

    /// One update of `parameters` from `gradients` (both `count` floats, the same layout).
    public func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, count: Int) {
        precondition(count == firstMoment.count, "AdamW built for \(firstMoment.count) parameters, got \(count)")
        step += 1
        let correction1 = 1 - pow(Double(beta1), Double(step))
        let correction2 = 1 - pow(Double(beta2), Double(step))
        let stepSize = Float(Double(learningRate) / correction1)
        let correction2Root = Float(correction2.squareRoot())
        let decay = 1 - learningRate * weightDecay
        let b1 = beta1, b2 = beta2, eps = epsilon
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                let mp = m.baseAddress!, vp = v.baseAddress!
                Compute.parallelRanges(count, minimumPerThread: 65536) { range in
                    for i in range {
                        let g = gradients[i]
                        parameters[i] *= decay
                        mp[i] = b1 * mp[i] + (1 - b1) * g
                        vp[i] = b2 * vp[i] + (1 - b2) * g * g
                        parameters[i] -= stepSize * mp[i] / (vp[i].squareRoot() / correction2Root + eps)
                    }
                }
            }
        }
    }

    /// One update of a ``ParameterBuffer`` from its gradients.
    public func update(_ buffer: ParameterBuffer) {
        update(parameters: buffer.values.baseAddress!, gradients: buffer.gradients.baseAddress!, count: buffer.count)
    }
}
