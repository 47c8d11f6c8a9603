import CBLAS

/// Winograd F(4×4, 3×3) for 3×3, stride-1, padding-1 convolutions — nearly all of the U-Net's
/// multiply-adds. Each 4×4 output tile costs 36 multiplies per channel pair instead of 144; the
/// transforms and the 36 per-position products are C kernels in `CBLAS/nn_winograd.h`.
///
/// An image is cut into bands of tile rows × tile columns (one task each, on one core): the
/// band's input tiles are transformed into `V[36][Cin][lanes]`, multiplied by the transformed
/// weights `U` (computed per call unless the caller passes them) into `M[36][Cout][lanes]`, and transformed
/// back into the output with bias and shift. Every tile is computed on its own in a fixed order,
/// so the output does not depend on the bands or the thread count. Rounding differs from the
/// im2col path: the transforms scale values by up to 8 and back (see the NN tests' tolerance).
extension Conv2D {
    /// Fewest input channels for which ``forward`` uses Winograd. Below it the direct kernel runs
    /// (`Conv2D+Direct.swift`): for the U-Net's 3-channel input convolution Winograd's output
    /// transform, paid per output channel, made it no faster than direct in a single-threaded check.
    public static let winogradMinimumInputChannels = 8
    /// Floats of `V` and `M` one band may use (about 3/4 of a core's L2).
    public static let winogradBandFloats = 192 * 1024

    /// The Winograd kernels' build that runs on this CPU: `"avx512f"`, `"avx2+fma"` or `"portable"`
    /// (the fastest the CPU supports, from CPUID; `focusd model info` and `bench nn` report it).
    public static var kernelPath: String { WinogradKernels.fastest.name }

    /// A build of the Winograd kernels (`CBLAS/nn_winograd.h`).
    enum WinogradKernels: Int32, CaseIterable, Sendable {
        case portable = 0, avx2 = 1, avx512 = 2

        /// The fastest build this CPU runs.
        static let fastest = WinogradKernels(rawValue: nn_winograd_path()) ?? .portable

        var name: String {
            switch self {
            case .portable: "portable"
            case .avx2: "avx2+fma"
            case .avx512: "avx512f"
            }
        }
    }

    /// Whether ``forward`` uses Winograd for this geometry (so transformed weights kept by a caller pay).
    public var usesWinograd: Bool {
        allowsWinograd && kernelHeight == 3 && kernelWidth == 3 && stride == 1 && padding == 1
            && inChannels >= Conv2D.winogradMinimumInputChannels && !usesDirectKernel
    }

    /// Floats of this convolution's transformed Winograd weights (`[36][⌈Cout/6⌉][Cin][6]`).
    public var winogradWeightCount: Int { nn_winograd_weights_count(outChannels, inChannels) }

    /// Transforms `weight` `[Cout, Cin, 3, 3]` into `u` (``winogradWeightCount`` floats), what ``forward``
    /// does on every call unless given `transformedWeights` — for callers that run the same weights often.
    public func transformWinogradWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let cin = inChannels, cout = outChannels
        Compute.parallelRanges((cout + 5) / 6, minimumPerThread: max(1, 2048 / cin)) { blocks in
            nn_winograd_weights(weight, cout, cin, blocks.lowerBound, blocks.upperBound, u)
        }
    }

    /// How a `height × width` image is cut into Winograd bands.
    struct WinogradBands {
        let tilesY, tilesX: Int
        /// Tile rows and columns of a full band.
        let rows, columns: Int
        let rowBands, columnBands: Int
        /// Lanes of a full band (tiles, dummies between tile rows, padding to 16).
        var lanes: Int { Self.lanes(rows: rows, columns: columns) }
        static func lanes(rows: Int, columns: Int) -> Int { (rows * (columns + 1) - 1 + 15) / 16 * 16 }
    }

    /// Lanes of the products' register tile in the build that runs: 64 on AVX-512F, 16 otherwise.
    var winogradRegisterLanes: Int {
        min(winogradKernels.rawValue, WinogradKernels.fastest.rawValue) == WinogradKernels.avx512.rawValue ? 64 : 16
    }

    /// Bands of about `winogradBudget` floats of V and M, but at least 64 lanes, so that the
    /// products' 64-lane register tiles are full and the transformed weights of deep layers
    /// (read once per band) serve more tiles. A tile row that fills whole register tiles (at most
    /// 1/8 padding) is a band of its own: it has no dummy lanes, and its output goes straight into the image (several
    /// tile rows go through scratch) — measured faster on AVX2, where a register tile is 16 lanes
    /// (128-channel layers at 64² about a quarter less CPU time than bands of 3 tile rows in 64 lanes).
    func winogradBands(height: Int, width: Int) -> WinogradBands {
        let tilesY = (height + 3) / 4, tilesX = (width + 3) / 4
        let target = max(64, winogradBudget / (36 * (inChannels + outChannels)))
        let rows: Int, columns: Int
        if tilesX + 1 <= target {
            columns = tilesX
            let padding = WinogradBands.lanes(rows: 1, columns: tilesX) - tilesX
            let ownBand = tilesX >= winogradRegisterLanes && 8 * padding <= tilesX
            rows = ownBand ? 1 : min(tilesY, max(1, (target + 1) / (tilesX + 1)))
        } else {
            columns = max(16, target / 16 * 16)
            rows = 1
        }
        return WinogradBands(tilesY: tilesY, tilesX: tilesX, rows: rows, columns: columns,
                             rowBands: (tilesY + rows - 1) / rows, columnBands: (tilesX + columns - 1) / columns)
    }

    func forwardWinograd(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, accumulate: Bool, transformedWeights: UnsafePointer<Float>?,
        workspace: Workspace, slot: Int
    ) {
        let cin = inChannels, cout = outChannels, plane = height * width
        let bands = winogradBands(height: height, width: width)
        let path = winogradKernels.rawValue
        // Slot + 1: U [36][Cout/6][Cin][6] (unless the caller has it), then bias + shift per image [N, Cout].
        let weightCount = transformedWeights == nil ? winogradWeightCount : 0
        let scratchU = workspace.floats(weightCount + batch * cout, slot: slot + 1)
        let offsets = scratchU + weightCount
        if transformedWeights == nil { transformWinogradWeights(weight, into: scratchU) }
        let transformed = transformedWeights ?? UnsafePointer(scratchU)
        writeOffsets(bias: bias, shift: shift, batch: batch, into: offsets)
        // Slot: per worker V, M and the two transforms' scratch.
        let lanes = bands.lanes
        let inputScratch = nn_winograd_input_scratch(width, lanes), outputScratch = nn_winograd_output_scratch(lanes)
        let inputFloats = nn_winograd_band_floats(cin, lanes), outputFloats = nn_winograd_band_floats(cout, lanes)
        let perWorker = inputFloats + outputFloats + inputScratch + outputScratch
        let workers = Compute.threads
        let scratch = workspace.floats(perWorker * workers, slot: slot)
        let bandsPerImage = bands.rowBands * bands.columnBands
        Compute.parallelTasks(batch * bandsPerImage, workers: workers) { task, worker in
            let n = task / bandsPerImage
            let ty0 = (task % bandsPerImage) / bands.columnBands * bands.rows
            let tx0 = (task % bandsPerImage) % bands.columnBands * bands.columns
            let rows = min(bands.rows, bands.tilesY - ty0), columns = min(bands.columns, bands.tilesX - tx0)
            let bandLanes = WinogradBands.lanes(rows: rows, columns: columns)
            let v = scratch + worker * perWorker
            let m = v + nn_winograd_band_floats(cin, bandLanes)
            let work = m + nn_winograd_band_floats(cout, bandLanes)
            // V[36][Cin][lanes] ← Bᵀ d B for every tile of the band
            nn_winograd_input(path, input + n * cin * plane, cin, 0, cin, height, width, ty0, rows, tx0, columns,
                              bandLanes, work, v)
            // M[ξ][Cout][lanes] = U[ξ][Cout][Cin] · V[ξ][Cin][lanes] (U packed in blocks of 6 output channels)
            nn_winograd_multiply(path, transformed, v, m, cout, cin, bandLanes, 0, 36, 0, cout)
            // Y (+)= Aᵀ M A + bias + shift
            nn_winograd_output(path, m, cout, 0, cout, bandLanes, ty0, rows, tx0, columns, height, width,
                               offsets + n * cout, accumulate ? 1 : 0, output + n * cout * plane, work)
        }
    }
}
