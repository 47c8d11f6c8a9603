import CBLAS

/// Transposed 2-D convolution with kernel 3, stride 2, padding 1, output padding 1 (PyTorch
/// `ConvTranspose2d(in, out, 3, 2, 1, output_padding=1)`): `[N, Cin, H, W] → [N, Cout, 2H, 2W]`.
///
/// Weight `[inChannels, outChannels, 3, 3]` (PyTorch's layout), bias `[outChannels]`.
/// That layout is exactly the weight of the stride-2 convolution `Cout → Cin` whose adjoint this
/// op is, so backward is that convolution's forward (for ∂X) and its weight backward with the
/// roles of input and gradient swapped. Forward uses the sub-pixel decomposition (see
/// ``forward(input:batch:height:width:weight:bias:output:accumulate:workspace:slot:)``).
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
    ///
    /// Sub-pixel form: output pixel (2i + a, 2j + b) only meets kernel taps of its parity
    /// (a = 0: ky = 1 at row i; a = 1: ky = 2 at row i and ky = 0 at row i + 1; likewise in x), so
    /// each of the four parities is a small convolution of the input with 1, 2, 2 or 4 taps per
    /// channel — no multiply by an inserted zero. The two column parities of a row parity are
    /// interleaved into the output rows in one vectorised pass. The input is im2col'd once with the four shifts
    /// in the order (0,1), (0,0), (1,0), (1,1), which makes every parity's taps one contiguous row
    /// range: (0,0) rows [Cin, 2Cin), (0,1) [0, 2Cin), (1,0) [Cin, 3Cin), (1,1) [0, 4Cin).
    public func forward(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, accumulate: Bool = false, workspace: Workspace, slot: Int = 0
    ) {
        let cin = inChannels, cout = outChannels
        let plane = height * width
        let shifts = [(0, 1), (0, 0), (1, 0), (1, 1)]
        // phases: (a, b, first shift, shift count)
        let phases = [(0, 0, 1, 1), (0, 1, 0, 2), (1, 0, 1, 2), (1, 1, 0, 4)]
        // Packed weights per phase: [Cout, taps·Cin], rows in the shift order above.
        let packed = workspace.floats(9 * cin * cout, slot: slot + 1)
        var packedOffsets = [Int](repeating: 0, count: 4)
        var offset = 0
        for (p, phase) in phases.enumerated() {
            packedOffsets[p] = offset
            let k = phase.3 * cin
            for co in 0..<cout {
                for t in 0..<phase.3 {
                    let (dy, dx) = shifts[phase.2 + t]
                    let ky = phase.0 == 0 ? 1 : (dy == 0 ? 2 : 0)
                    let kx = phase.1 == 0 ? 1 : (dx == 0 ? 2 : 0)
                    for ci in 0..<cin {
                        packed[offset + co * k + t * cin + ci] = weight[((ci * cout + co) * 3 + ky) * 3 + kx]
                    }
                }
            }
            offset += cout * k
        }
        // Bands of input rows, one task each: im2col of the four shifts, four phase GEMMs and the
        // interleaving scatter, all on one core.
        let fitting = Conv2D.forwardColumnBudget / max(1, 4 * cin * width)
        let wide = (Conv2D.minimumBandColumns + width - 1) / width
        let balanced = (batch * height + 2 * Compute.threads - 1) / (2 * Compute.threads)
        let band = max(1, min(height, balanced, max(fitting, wide)))
        let bandsPerImage = (height + band - 1) / band
        let columnsPerWorker = 4 * cin * band * width, productPerWorker = 2 * cout * band * width
        let workers = Compute.threads
        let columns = workspace.floats(columnsPerWorker * workers, slot: slot)
        let products = workspace.floats(productPerWorker * workers, slot: slot + 2)
        Compute.parallelTasks(batch * bandsPerImage, workers: workers) { task, worker in
            let n = task / bandsPerImage
            let i0 = (task % bandsPerImage) * band, i1 = min(height, i0 + band)
            let cols = (i1 - i0) * width
            let x = input + n * cin * plane
            let y = output + n * cout * 4 * plane
            let mine = columns + worker * columnsPerWorker
            let even = products + worker * productPerWorker, odd = even + cout * cols
            // mine[s·Cin + ci][(i − i0)·W + j] = x[ci, i + dy, j + dx] (0 past the edge)
            for row in 0..<4 * cin {
                let (dy, dx) = shifts[row / cin]
                let source = x + (row % cin) * plane
                var out = mine + row * cols
                for i in i0..<i1 {
                    if i + dy >= height {
                        out.update(repeating: 0, count: width)
                    } else {
                        out.update(from: source + (i + dy) * width + dx, count: width - dx)
                        if dx == 1 { out[width - 1] = 0 }
                    }
                    out += width
                }
            }
            // Output rows of parity a: phase (a, 0) into `even`, (a, 1) into `odd`, then interleaved.
            for a in 0..<2 {
                for (p, product) in [(2 * a, even), (2 * a + 1, odd)] {
                    let phase = phases[p], k = phase.3 * cin
                    // product[Cout, cols] = packed[Cout, k] · mine[rows of the phase, cols]
                    gemm(m: cout, n: cols, k: k, a: packed + packedOffsets[p], lda: k, b: mine + phase.2 * cin * cols,
                         ldb: cols, beta: 0, c: product, ldc: cols)
                }
                for co in 0..<cout {
                    let value = bias?[co] ?? 0
                    let target = y + co * 4 * plane
                    for i in i0..<i1 {
                        let from = co * cols + (i - i0) * width
                        // y[co, 2i + a, 2j + b] (+)= product_b[co, i, j] + bias[co]
                        nn_interleave_rows(even + from, odd + from, target + (2 * i + a) * 2 * width, width, value,
                                           accumulate ? 1 : 0)
                    }
                }
            }
        }
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
