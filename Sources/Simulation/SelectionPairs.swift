import Imaging

/// Training pairs taken from a simulated stack (ARCHITECTURE.md, "Decide between sources, compose once"):
/// source 1 is a mosaic of measured slices — the evidence pass's holders, exactly as selection
/// fusion presents them (``SimulatedStack/selectionPair(slice:holders:)``), or the ideal running
/// winner among slices 0…k−1 (``SimulatedStack/selectionPair(slice:)``) — source 2 is slice k, and
/// the target takes per pixel whichever of the two measured pixels lies nearer the surface.
/// Everything stays measured data, noise included: the model is taught to decide, not to invent.
public struct SelectionPair: Sendable {
    public var source1: Image
    public var source2: Image
    public var target: Image
    /// 1 where the target takes source 1.
    public var mask: [Float]
}

extension SimulatedStack {
    /// The pair for slice `k` (1…N−1) against the ideal running winner: per pixel the slice among
    /// 0…k−1 nearest the true surface.
    public func selectionPair(slice k: Int) -> SelectionPair {
        precondition(k >= 1 && k < slices.count, "the pair's second source is slice 1…N−1")
        let holders = height.values.map { Int32(min(max(Int(Double($0).rounded()), 0), k - 1)) }
        return selectionPair(slice: k, holders: holders)
    }

    /// The pair fusion presents for slice `k` (0…N−1) against the evidence pass's `holders` (per
    /// pixel a slice index, as `SliceSelectionEngine.evidenceHolders` returns them): source 1 the
    /// holders' measured pixels, source 2 slice k, the target per pixel whichever of the two slices
    /// lies nearer the true surface (ties to the holder).
    public func selectionPair(slice k: Int, holders: [Int32]) -> SelectionPair {
        precondition(k >= 0 && k < slices.count, "slice index out of range")
        let first = slices[0]
        let n = first.planeSize, channels = first.channels
        precondition(holders.count == n, "one holder per pixel")
        var a = first.pixels, target = slices[k].pixels
        var mask = [Float](repeating: 0, count: n)
        for p in 0..<n {
            let h = Double(height.values[p])
            let holder = min(max(Int(holders[p]), 0), slices.count - 1)
            let keeps = abs(Double(holder) - h) <= abs(Double(k) - h)
            mask[p] = keeps ? 1 : 0
            for c in 0..<channels {
                a[c * n + p] = slices[holder].pixels[c * n + p]
                if keeps { target[c * n + p] = a[c * n + p] }
            }
        }
        return SelectionPair(source1: Image(width: first.width, height: first.height, channels: channels, pixels: a),
                             source2: slices[k], target: Image(width: first.width, height: first.height, channels: channels, pixels: target),
                             mask: mask)
    }

    /// Minimum and maximum over every slice (the range fusion normalises a stack by).
    public var valueRange: (minimum: Float, maximum: Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for s in slices { for v in s.pixels { lo = min(lo, v); hi = max(hi, v) } }
        return hi > lo ? (lo, hi) : (lo, lo + 1)
    }
}
