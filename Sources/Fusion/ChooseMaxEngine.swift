import Imaging

/// A classical one-shot baseline: per pixel the slice whose Laplacian energy (squared 4-neighbour
/// Laplacian of luminance, averaged over a `window`×`window` box) is largest over all slices, taken
/// as it is (pure selection, no blending). The choose-max row of `focusd bench stacks`.
public struct ChooseMaxEngine: StackFusionEngine, Sendable {
    public let window: Int

    public init(window: Int = 7) {
        precondition(window >= 1 && window % 2 == 1, "window must be odd and ≥ 1")
        self.window = window
    }

    public func fuse(_ stack: any SliceSource) throws -> FusionResult {
        guard stack.count > 0 else { throw FusionError.emptyStack }
        let g = stack.geometry
        let n = g.width * g.height
        var best = [Float](repeating: -1, count: n)
        var depth = [Float](repeating: 0, count: n)
        var fused = [Float](repeating: 0, count: n * g.channels)
        for k in 0..<stack.count {
            let slice = try checkedSlice(stack, k)
            var lap = slice.luminance().laplacian()
            for i in 0..<n { lap.values[i] *= lap.values[i] }
            let energy = lap.boxMean(radius: window / 2)
            for i in 0..<n where energy.values[i] > best[i] {
                best[i] = energy.values[i]
                depth[i] = Float(k)
                for c in 0..<g.channels { fused[c * n + i] = slice.pixels[c * n + i] }
            }
        }
        return FusionResult(fused: Image(width: g.width, height: g.height, channels: g.channels, pixels: fused),
                            depth: Image(width: g.width, height: g.height, channels: 1, pixels: depth),
                            confidence: Image(width: g.width, height: g.height, channels: 1, repeating: 1))
    }
}
