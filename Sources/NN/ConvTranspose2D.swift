/// Transposed 2-D convolution with kernel 3, stride 2, padding 1, output padding 1 (PyTorch
/// `ConvTranspose2d(in, out, 3, 2, 1, output_padding=1)`): `[N, Cin, H, W] → [N, Cout, 2H, 2W]`.
///
/// Weight `[inChannels, outChannels, 3, 3]` (PyTorch's layout), bias `[outChannels]`.
/// That layout is exactly the weight of the stride-2 convolution `Cout → Cin` whose adjoint this
/// op is, so forward is that convolution's data backward (GEMM + col2im) and backward is its
/// forward (for ∂X) and its weight backward with the roles of input and gradient swapped.
public struct ConvTranspose2D: Sendable, Equatable, Hashable {
    public let inChannels: Int
    public let outChannels: Int

    public init(inChannels: Int, outChannels: Int) {
        precondition(inChannels > 0 && outChannels > 0, "channel counts must be positive")
        self.inChannels = inChannels
        self.outChannels = outChannels
    }

    /// The stride-2 convolution `outChannels → inChannels` this op is the adjoint of.
    var adjoint: Conv2D {
        Conv2D(inChannels: outChannels, outChannels: inChannels, kernelSize: 3, stride: 2, padding: 1)
    }

    public var weightShape: [Int] { [inChannels, outChannels, 3, 3] }
    public var weightCount: Int { inChannels * outChannels * 9 }

    /// Multiply-adds of one forward pass on `height × width` inputs.
    public func multiplyAdds(batch: Int, height: Int, width: Int) -> Int {
        batch * inChannels * outChannels * 9 * height * width
    }

    /// `output [N, Cout, 2H, 2W] = convT(input [N, Cin, H, W]) + bias` (or `+=` when `accumulate`).
    public func forward(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, accumulate: Bool = false, workspace: Workspace, slot: Int = 0
    ) {
        let plane = 4 * height * width
        Compute.parallelFor(batch * outChannels) { index in
            let row = output + index * plane
            let value = bias?[index % outChannels] ?? 0
            if accumulate {
                if value != 0 { for i in 0..<plane { row[i] += value } }
            } else {
                row.update(repeating: value, count: plane)
            }
        }
        adjoint.backwardData(
            outputGradient: input, batch: batch, height: 2 * height, width: 2 * width, weight: weight,
            inputGradient: output, workspace: workspace, slot: slot)
    }

    /// Adds `∂L/∂X` (when `inputGradient` is given), `∂L/∂W` and `∂L/∂b`.
    public func backward(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, weight: UnsafePointer<Float>,
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
        workspace: Workspace, slot: Int = 0
    ) {
        let conv = adjoint
        if let inputGradient {
            conv.forward(
                input: outputGradient, batch: batch, height: 2 * height, width: 2 * width, weight: weight,
                bias: nil, output: inputGradient, accumulate: true, workspace: workspace, slot: slot)
        }
        // dW[Cin, Cout·9] += X[Cin, HW] · cols(dY)[Cout·9, HW]ᵀ — the adjoint's weight gradient.
        conv.backwardWeights(
            input: outputGradient, batch: batch, height: 2 * height, width: 2 * width,
            outputGradient: input, weightGradient: weightGradient, biasGradient: nil,
            workspace: workspace, slot: slot)
        if let biasGradient {
            let plane = 4 * height * width
            for n in 0..<batch {
                for co in 0..<outChannels {
                    biasGradient[co] += sum(outputGradient + (n * outChannels + co) * plane, count: plane)
                }
            }
        }
    }
}
