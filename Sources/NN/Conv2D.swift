import CBLAS

/// 2-D convolution over NCHW Float32 data, PyTorch semantics (cross-correlation, zero padding).
///
/// Weight `[outChannels, inChannels, kernelHeight, kernelWidth]`, bias `[outChannels]`.
/// Forward of a 3×3 stride-1 padding-1 convolution is Winograd F(4×4, 3×3) (`Conv2D+Winograd.swift`);
/// with at most 4 output or fewer than 8 input channels a direct kernel (`Conv2D+Direct.swift`). Any other forward is
/// im2col + one `cblas_sgemm` per batch element and band of output rows:
/// `Y[Cout, band] = W[Cout, Cin·KH·KW] · cols[Cin·KH·KW, band]`. A 1×1 stride-1 convolution
/// multiplies the input directly. Bands keep the column buffer within `columnBudget` floats so it
/// stays in cache between im2col and GEMM. Backward recomputes the columns from the input.
public struct Conv2D: Sendable, Equatable, Hashable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int

    /// Largest column buffer (floats) one band may use in the backward passes.
    public static let columnBudget = 1 << 21
    /// Column budget (floats) of one forward band: about half a core's L2, so a worker's im2col
    /// output is still in cache when its GEMM reads it.
    public static let forwardColumnBudget = 1 << 17
    /// Fewest output columns (pixels) a forward band should hold, so each GEMM stays efficient.
    public static let minimumBandColumns = 512
    /// This convolution's band budgets (tests shrink them to exercise banding).
    var columnBudget = Conv2D.columnBudget
    var forwardBudget = Conv2D.forwardColumnBudget
    var minimumColumns = Conv2D.minimumBandColumns
    /// Whether a 3×3 stride-1 padding-1 forward may use Winograd (tests turn it off to compare
    /// against im2col), and its band budget in floats (tests shrink it to exercise banding).
    var allowsWinograd = true
    var winogradBudget = Conv2D.winogradBandFloats
    /// The build of the Winograd kernels to run (tests pick the slower ones; lowered to what the CPU has).
    var winogradKernels = WinogradKernels.fastest
    /// Whether a 3×3 stride-1 padding-1 forward with few channels may use the direct kernel (tests
    /// turn it off to exercise im2col), and the build of that kernel to run.
    var allowsDirectKernel = true
    var directKernels = DirectKernels.fastest

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0) {
        self.init(
            inChannels: inChannels, outChannels: outChannels, kernelHeight: kernelSize,
            kernelWidth: kernelSize, stride: stride, padding: padding)
    }

    public init(inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        precondition(inChannels > 0 && outChannels > 0, "channel counts must be positive")
        precondition(kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0, "bad kernel geometry")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    public var weightShape: [Int] { [outChannels, inChannels, kernelHeight, kernelWidth] }
    public var weightCount: Int { outChannels * inChannels * kernelHeight * kernelWidth }
    /// Rows of the column matrix: `Cin·KH·KW`.
    public var columnRows: Int { inChannels * kernelHeight * kernelWidth }
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Output height and width for an input of `height × width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let h = (height + 2 * padding - kernelHeight) / stride + 1
        let w = (width + 2 * padding - kernelWidth) / stride + 1
        precondition(h > 0 && w > 0, "input \(height)×\(width) too small for kernel \(kernelHeight)×\(kernelWidth)")
        return (h, w)
    }

    /// Multiply-adds of one forward pass.
    public func multiplyAdds(batch: Int, height: Int, width: Int) -> Int {
        let (oh, ow) = outputSize(height: height, width: width)
        return batch * outChannels * columnRows * oh * ow
    }

    /// Output rows per backward band so that a column band stays within `columnBudget` floats.
    func bandRows(outputHeight: Int, outputWidth: Int) -> Int {
        max(1, min(outputHeight, columnBudget / max(1, columnRows * outputWidth)))
    }

    /// Output rows per forward band: within `forwardBudget` floats of columns, but at least
    /// `minimumColumns` pixels, and small enough that every worker gets two bands.
    func forwardBandRows(batch: Int, outputHeight: Int, outputWidth: Int) -> Int {
        let fitting = forwardBudget / max(1, columnRows * outputWidth)
        let wide = (minimumColumns + outputWidth - 1) / outputWidth
        let balanced = (batch * outputHeight + 2 * Compute.threads - 1) / (2 * Compute.threads)
        return max(1, min(outputHeight, balanced, max(fitting, wide)))
    }

    // MARK: - Forward

    /// `output = conv(input) + bias + shift[n]` (or `+=` into `output` when `accumulate`).
    ///
    /// - Parameters:
    ///   - input: `[batch, inChannels, height, width]`.
    ///   - shift: optional `[batch, outChannels]` added per image and channel (a time embedding).
    ///   - output: `[batch, outChannels, OH, OW]`.
    ///   - transformedWeights: `weight` already put through ``transformWinogradWeights(_:into:)``, used
    ///     when the forward is Winograd (``usesWinograd``); else the forward transforms it itself.
    public func forward(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shift: UnsafePointer<Float>? = nil,
        output: UnsafeMutablePointer<Float>, accumulate: Bool = false, transformedWeights: UnsafePointer<Float>? = nil,
        workspace: Workspace, slot: Int = 0
    ) {
        if usesDirectKernel {
            forwardDirect(input: input, batch: batch, height: height, width: width, weight: weight, bias: bias,
                          shift: shift, output: output, accumulate: accumulate, workspace: workspace, slot: slot)
            return
        }
        if usesWinograd {
            forwardWinograd(input: input, batch: batch, height: height, width: width, weight: weight, bias: bias,
                            shift: shift, output: output, accumulate: accumulate, transformedWeights: transformedWeights,
                            workspace: workspace, slot: slot)
            return
        }
        let (oh, ow) = outputSize(height: height, width: width)
        let outPlane = oh * ow
        let k = columnRows
        let band = forwardBandRows(batch: batch, outputHeight: oh, outputWidth: ow)
        let bandsPerImage = (oh + band - 1) / band
        if isPointwise {
            // Prefill the output with bias (+ shift), then GEMM accumulates onto it.
            Compute.parallelTasks(batch * bandsPerImage) { task, _ in
                let n = task / bandsPerImage
                let y0 = (task % bandsPerImage) * band, y1 = min(oh, y0 + band)
                let cols = (y1 - y0) * ow
                let y = output + n * outChannels * outPlane + y0 * ow
                for co in 0..<outChannels {
                    let value = (bias?[co] ?? 0) + (shift?[n * outChannels + co] ?? 0)
                    let row = y + co * outPlane
                    if accumulate {
                        if value != 0 { for i in 0..<cols { row[i] += value } }
                    } else {
                        row.update(repeating: value, count: cols)
                    }
                }
                // [Cout, cols] += W[Cout, Cin] · X[Cin, cols]
                gemm(m: outChannels, n: cols, k: k, a: weight, lda: k, b: input + n * inChannels * outPlane + y0 * ow,
                     ldb: outPlane, beta: 1, c: y, ldc: outPlane)
            }
            return
        }
        // The bias (+ shift) rides in the GEMM: weights get a last column b[co] + shift[n, co]
        // ([Cout, K+1] per image) and the columns a last row of ones, so no pass over the output
        // is needed before or after the GEMM.
        let augmentedK = k + 1
        let augmented = workspace.floats(batch * outChannels * augmentedK, slot: slot + 1)
        for n in 0..<batch {
            for co in 0..<outChannels {
                let row = augmented + (n * outChannels + co) * augmentedK
                row.update(from: weight + co * k, count: k)
                row[k] = (bias?[co] ?? 0) + (shift?[n * outChannels + co] ?? 0)
            }
        }
        let perWorker = augmentedK * band * ow
        let workers = Compute.threads
        let columns = workspace.floats(perWorker * workers, slot: slot)
        // Each band is one task: im2col and a single-threaded GEMM on one core.
        Compute.parallelTasks(batch * bandsPerImage, workers: workers) { task, worker in
            let n = task / bandsPerImage
            let y0 = (task % bandsPerImage) * band, y1 = min(oh, y0 + band)
            let cols = (y1 - y0) * ow
            let mine = columns + worker * perWorker
            im2col(input: input + n * inChannels * height * width, height: height, width: width, outputWidth: ow,
                   rows: y0..<y1, columns: mine, columnRows: 0..<k)
            (mine + k * cols).update(repeating: 1, count: cols)
            // Y[Cout, cols] (+)= [W | b][Cout, K+1] · [columns; 1][K+1, cols]
            gemm(m: outChannels, n: cols, k: augmentedK, a: augmented + n * outChannels * augmentedK, lda: augmentedK,
                 b: mine, ldb: cols, beta: accumulate ? 1 : 0, c: output + n * outChannels * outPlane + y0 * ow, ldc: outPlane)
        }
    }

    // MARK: - Backward

    /// Adds `∂L/∂W` (and `∂L/∂b`) for the given input and output gradient.
    public func backwardWeights(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        outputGradient: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, workspace: Workspace, slot: Int = 0
    ) {
        let (oh, ow) = outputSize(height: height, width: width)
        let outPlane = oh * ow
        let k = columnRows
        let band = bandRows(outputHeight: oh, outputWidth: ow)
        let columns = isPointwise ? nil : workspace.floats(k * band * ow, slot: slot)
        for n in 0..<batch {
            let x = input + n * inChannels * height * width
            let dy = outputGradient + n * outChannels * outPlane
            if let biasGradient {
                for co in 0..<outChannels { biasGradient[co] += sum(dy + co * outPlane, count: outPlane) }
            }
            var y0 = 0
            while y0 < oh {
                let y1 = min(oh, y0 + band)
                let cols = (y1 - y0) * ow
                let b: UnsafePointer<Float>
                let ldb: Int
                if let columns {
                    im2col(input: x, height: height, width: width, outputWidth: ow, rows: y0..<y1, columns: columns)
                    b = UnsafePointer(columns)
                    ldb = cols
                } else {
                    b = x + y0 * ow
                    ldb = outPlane
                }
                // dW[Cout, K] += dY[Cout, cols] · columns[K, cols]ᵀ
                parallelGEMM(transposeB: true, m: outChannels, n: k, k: cols, a: dy + y0 * ow, lda: outPlane,
                     b: b, ldb: ldb, beta: 1, c: weightGradient, ldc: k)
                y0 = y1
            }
        }
    }

    /// Adds `∂L/∂X = col2im(Wᵀ · ∂L/∂Y)` into `inputGradient` `[batch, inChannels, height, width]`.
    public func backwardData(
        outputGradient: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        workspace: Workspace, slot: Int = 0
    ) {
        let (oh, ow) = outputSize(height: height, width: width)
        let outPlane = oh * ow
        let k = columnRows
        let band = bandRows(outputHeight: oh, outputWidth: ow)
        let columns = isPointwise ? nil : workspace.floats(k * band * ow, slot: slot)
        for n in 0..<batch {
            let dx = inputGradient + n * inChannels * height * width
            let dy = outputGradient + n * outChannels * outPlane
            var y0 = 0
            while y0 < oh {
                let y1 = min(oh, y0 + band)
                let cols = (y1 - y0) * ow
                if let columns {
                    // columns[K, cols] = Wᵀ[K, Cout] · dY[Cout, cols]
                    parallelGEMM(transposeA: true, m: k, n: cols, k: outChannels, a: weight, lda: k,
                         b: dy + y0 * ow, ldb: outPlane, beta: 0, c: columns, ldc: cols)
                    col2im(columns: columns, height: height, width: width, outputWidth: ow, rows: y0..<y1, output: dx)
                } else {
                    // dX[Cin, cols] += Wᵀ[Cin, Cout] · dY[Cout, cols]
                    parallelGEMM(transposeA: true, m: k, n: cols, k: outChannels, a: weight, lda: k,
                         b: dy + y0 * ow, ldb: outPlane, beta: 1, c: dx + y0 * ow, ldc: outPlane)
                }
                y0 = y1
            }
        }
    }

    // MARK: - im2col / col2im

    /// ``im2col(input:height:width:outputWidth:rows:columns:columnRows:)`` over all column rows,
    /// split over the threads.
    func im2col(
        input: UnsafePointer<Float>, height: Int, width: Int, outputWidth ow: Int, rows: Range<Int>,
        columns: UnsafeMutablePointer<Float>
    ) {
        let cols = rows.count * ow
        Compute.parallelRanges(columnRows, minimumPerThread: max(1, 32768 / max(1, cols))) { range in
            im2col(input: input, height: height, width: width, outputWidth: ow, rows: rows, columns: columns, columnRows: range)
        }
    }

    /// Fills `columns[(ci·KH + ky)·KW + kx][(oy − rows.lowerBound)·OW + ox]` with
    /// `input[ci, oy·s − p + ky, ox·s − p + kx]` (0 outside the image) for output rows `rows`
    /// and the column-matrix rows `columnRows`, on the calling thread.
    func im2col(
        input: UnsafePointer<Float>, height: Int, width: Int, outputWidth ow: Int, rows: Range<Int>,
        columns: UnsafeMutablePointer<Float>, columnRows: Range<Int>
    ) {
        let kh = kernelHeight, kw = kernelWidth, s = stride, p = padding
        let cols = rows.count * ow
        for row in columnRows {
            let kx = row % kw
            let ky = (row / kw) % kh
            let ci = row / (kw * kh)
            let plane = input + ci * height * width
            var out = columns + row * cols
            // Valid ox: 0 ≤ ox·s − p + kx < width.
            let oxStart = min(ow, max(0, (p - kx + s - 1) / s))
            let oxEnd = max(oxStart, min(ow, (width + p - kx + s - 1) / s))
            for oy in rows {
                let iy = oy * s - p + ky
                if iy < 0 || iy >= height {
                    out.update(repeating: 0, count: ow)
                } else {
                    let source = plane + iy * width - p + kx
                    if oxStart > 0 { out.update(repeating: 0, count: oxStart) }
                    if s == 1 {
                        (out + oxStart).update(from: source + oxStart, count: oxEnd - oxStart)
                    } else if s == 2 {
                        nn_gather_even(source + 2 * oxStart, out + oxStart, oxEnd - oxStart)
                    } else {
                        for ox in oxStart..<oxEnd { out[ox] = source[ox * s] }
                    }
                    if oxEnd < ow { (out + oxEnd).update(repeating: 0, count: ow - oxEnd) }
                }
                out += ow
            }
        }
    }

    /// The adjoint of ``im2col``: adds every column entry back onto the input position it was
    /// read from. Parallel over input channels, so no two threads write the same element.
    func col2im(
        columns: UnsafePointer<Float>, height: Int, width: Int, outputWidth ow: Int, rows: Range<Int>,
        output: UnsafeMutablePointer<Float>
    ) {
        let kh = kernelHeight, kw = kernelWidth, s = stride, p = padding
        let cols = rows.count * ow
        Compute.parallelFor(inChannels) { ci in
            let plane = output + ci * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let row = (ci * kh + ky) * kw + kx
                    var source = columns + row * cols
                    let oxStart = min(ow, max(0, (p - kx + s - 1) / s))
                    let oxEnd = max(oxStart, min(ow, (width + p - kx + s - 1) / s))
                    for oy in rows {
                        let iy = oy * s - p + ky
                        if iy >= 0 && iy < height {
                            let target = plane + iy * width - p + kx
                            if s == 1 {
                                for ox in oxStart..<oxEnd { target[ox] += source[ox] }
                            } else {
                                for ox in oxStart..<oxEnd { target[ox * s] += source[ox] }
                            }
                        }
                        source += ow
                    }
                }
            }
        }
    }
}

/// Sum of `count` floats (pairs of 8-lane partial sums, accumulated in Double per block).
@inline(__always)
func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var total = 0.0
    var i = 0
    while i < count {
        let end = min(count, i + 4096)
        var partial: Float = 0
        while i < end { partial += x[i]; i += 1 }
        total += Double(partial)
    }
    return Float(total)
}
