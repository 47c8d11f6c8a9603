import Imaging
import NN

/// Slices prepared in parallel (issue 21): every pass of the selection engine decodes each slice
/// and computes per-pixel planes from it (focus evidence, noise, the generator's view) before it
/// folds the slice into its running state. At 2048² those planes cost about as much as the U-Net at
/// half resolution and ran on one core. Here up to `Compute.threads` slices are decoded in order
/// on the calling thread, prepared at the same time, and consumed in slice order, so the result is
/// the same for any thread count; one more slice's planes are held per extra thread.
extension SliceSelectionEngine {
    func forEachSlice<Prepared>(_ stack: any SliceSource,
                                prepare: (_ index: Int, _ slice: Image) -> Prepared,
                                consume: (_ index: Int, _ slice: Image, _ prepared: Prepared) throws -> Void) throws {
        let batch = max(1, Compute.threads)
        var start = 0
        while start < stack.count {
            let indices = Array(start..<min(stack.count, start + batch))
            let slices = try indices.map { try checkedSlice(stack, $0) }
            var results = [Prepared?](repeating: nil, count: indices.count)
            results.withUnsafeMutableBufferPointer { out in
                Compute.parallelTasks(indices.count) { task, _ in out[task] = prepare(indices[task], slices[task]) }
            }
            for (position, index) in indices.enumerated() { try consume(index, slices[position], results[position]!) }
            start += batch
        }
    }
}

extension SliceSelectionEngine {
    /// Runs `body` over `0..<count` cut into contiguous ranges, on the engine's threads (issue 21):
    /// for per-pixel loops in which every pixel's result depends only on that pixel, so the result
    /// is the same for any thread count. `pixelsPerItem`: pixels per item (a row's width when the
    /// items are rows); work under 65,536 pixels runs on the calling thread.
    static func forEachPixelRange(_ count: Int, pixelsPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = Compute.threads
        let parts = threads > 1 && count * pixelsPerItem >= 1 << 16 ? min(count, 4 * threads) : 1
        Compute.parallelTasks(parts) { part, _ in body((count * part / parts)..<(count * (part + 1) / parts)) }
    }
}
