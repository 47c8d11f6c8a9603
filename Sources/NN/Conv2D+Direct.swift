import CBLAS

/// A direct 3×3, stride-1, padding-1 convolution for few output channels (the U-Net's last layer
/// has one per image channel) or few input channels (its first layer reads three), where a GEMM
/// with M ≤ 4 or K ≤ 64 wastes most of its kernel and im2col costs more than the products.
///
/// Parallel over output rows; each row is one call of the C kernel (`CBLAS/nn_direct.h`), which
/// keeps up to 4 output channels × 64 pixels in registers and sums over (input channel, ky, kx)
/// in a fixed order, so the output does not depend on the thread count.
extension Conv2D {
    /// Whether ``forward`` uses the direct kernel for this geometry.
    var usesDirectKernel: Bool {
        allowsDirectKernel && kernelHeight == 3 && kernelWidth == 3 && stride == 1 && padding == 1
            && (outChannels <= 4 || inChannels < Conv2D.winogradMinimumInputChannels)
    }

    func forwardDirect(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, accumulate: Bool, workspace: Workspace, slot: Int
    ) {
        let plane = height * width
        // bias + shift per image and output channel [N, Cout]
        let offsets = workspace.floats(batch * outChannels, slot: slot + 1)
        writeOffsets(bias: bias, shift: shift, batch: batch, into: offsets)
        let path = directKernels.rawValue
        // Rows in runs of a few per task (at least 2^16 multiply-adds), each worker with its own partial sums.
        let perRow = max(1, width * inChannels * outChannels * 9)
        let rows = batch * height
        let run = max(1, min(((1 << 16) + perRow - 1) / perRow, (rows + 2 * Compute.threads - 1) / (2 * Compute.threads)))
        let workers = Compute.threads
        let partial = workspace.floats(4 * width * workers, slot: slot)
        Compute.parallelTasks((rows + run - 1) / run, workers: workers) { task, worker in
            for row in task * run..<min(rows, (task + 1) * run) {
                let n = row / height, oy = row % height
                nn_direct_row(path, input + n * inChannels * plane, inChannels, height, width, weight, 0, outChannels, oy,
                              offsets + n * outChannels, accumulate ? 1 : 0, output + n * outChannels * plane,
                              partial + 4 * width * worker)
            }
        }
    }

    /// `offsets[n·Cout + co] = bias[co] + shift[n·Cout + co]` (either may be absent): what the direct and
    /// Winograd kernels add to every output pixel of image n, channel co.
    func writeOffsets(bias: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, batch: Int,
                      into offsets: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            for co in 0..<outChannels { offsets[n * outChannels + co] = (bias?[co] ?? 0) + (shift?[n * outChannels + co] ?? 0) }
        }
    }

    /// A build of the direct kernels (`CBLAS/nn_direct.h`).
    enum DirectKernels: Int32, CaseIterable, Sendable {
        case portable = 0, avx2 = 1

        /// The fastest build this CPU runs.
        static let fastest = DirectKernels(rawValue: nn_direct_path()) ?? .portable
    }
}
