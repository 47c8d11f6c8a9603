import Foundation

/// A linear model of how a widefield fluorescence stack images a specimen: an in-focus image `L`
/// lying on a depth surface (one depth per pixel, slice units), seen by slice `k` through a
/// Gaussian PSF of σ = `growth · |k − z|` pixels (the in-focus PSF is part of `L`). The depth is
/// split into layers ½ slice apart, each pixel's light shared linearly between the two layers
/// around its depth. Two ways to compose a slice (ARCHITECTURE.md, "Aligning slices that breathe"):
///
/// - `scatter`: every layer spreads its light through the PSF of its own defocus and the slice is
///   the sum — energy-conserving, how a thick specimen images.
/// - `gather`: each pixel takes the image blurred by the PSF of its own defocus — what a
///   depth-of-field renderer (and `focusd simulate`'s default) does.
///
/// `forward` maps `L` to the `count` slices, `adjoint` is its exact transpose (so a conjugate-
/// gradient solve of `adjoint(forward(L)) = adjoint(slices)` is a least-squares fit). Blurs are
/// products with the Gaussian's transfer function on a ``PaddedFrame`` (the image's mirror image
/// around it: the light from beyond the field of view).
struct LayeredImaging: Sendable {
    enum Layering: String, Sendable, CaseIterable { case scatter, gather }

    /// Focus position of each modelled slice (slice units; slice `i` of the stack is at `i`).
    let focus: [Double]
    var count: Int { focus.count }
    let width: Int
    let height: Int
    let layering: Layering
    let growth: Double
    /// Per pixel: the layer at or just above its depth and the share of its light in the next one.
    let layerIndex: [Int32]
    let layerFraction: [Double]
    /// Layers that hold any light, ascending.
    let usedLayers: [Int]
    let frame: PaddedFrame
    var fourier: RealFourier2D { frame.fourier }
    /// `transfer.values[d]`: the Gaussian's transfer function at defocus `d/2` slices, per spectrum bin.
    let transfer: PaddedFrame.Transfer
    /// `steps[k * layerCount + j]`: ``halfSteps(_:_:)`` precomputed.
    private let steps: [Int32]
    private let layerCount: Int

    static let layerSpacing = 0.5

    /// - Parameters:
    ///   - focus: the focus position of each modelled slice, ascending (slice units).
    ///   - depth: focal depth per pixel, slice units (clipped to the focus range).
    ///   - frame: the padded FFT frame of a `width × height` image.
    init(focus: [Double], width: Int, height: Int, depth: [Double], growth: Double, layering: Layering, frame: PaddedFrame) {
        precondition(depth.count == width * height && !focus.isEmpty && frame.width == width && frame.height == height)
        self.focus = focus
        let top = focus.max()!, bottom = focus.min()!
        self.width = width
        self.height = height
        self.growth = growth
        self.layering = layering
        let clipped = depth.map { min(top, max(bottom, $0)) }
        let lowest = (2 * (clipped.min() ?? bottom)).rounded(.down) / 2
        let layers = Int(((top - lowest) / Self.layerSpacing).rounded(.up)) + 2
        var index = [Int32](repeating: 0, count: clipped.count), fraction = [Double](repeating: 0, count: clipped.count)
        var used = [Bool](repeating: false, count: layers)
        for p in clipped.indices {
            let u = (clipped[p] - lowest) / Self.layerSpacing
            let j = min(Int(u), layers - 2), t = u - Double(j)
            index[p] = Int32(j)
            fraction[p] = t
            used[j] = true
            if t > 0 { used[j + 1] = true }
        }
        layerIndex = index
        layerFraction = fraction
        usedLayers = (0..<layers).filter { used[$0] }
        self.frame = frame
        let farthest = Int((2 * (top - bottom)).rounded(.up)) + 3
        transfer = frame.transferTable(growth: growth, levels: farthest, step: Self.layerSpacing)
        layerCount = layers
        var steps = [Int32](repeating: 0, count: focus.count * layers)
        for k in focus.indices {
            for j in 0..<layers { steps[k * layers + j] = Int32((2 * abs(focus[k] - (lowest + Double(j) * Self.layerSpacing))).rounded()) }
        }
        self.steps = steps
    }

    /// The defocus of modelled slice `k` from layer `j`, in half slices (focus positions are
    /// whole slices and layers on the half-slice grid, so this is exact).
    @inline(__always) func halfSteps(_ k: Int, _ j: Int) -> Int {
        Int(steps[k * layerCount + j])
    }

    /// The light of `image` in layer `j`.
    func layerLight(_ image: [Double], _ j: Int) -> [Double] {
        var out = [Double](repeating: 0, count: image.count)
        let below = Int32(j), above = Int32(j - 1)
        for p in image.indices {
            let i = layerIndex[p]
            if i == below { out[p] = image[p] * (1 - layerFraction[p]) } else if i == above { out[p] = image[p] * layerFraction[p] }
        }
        return out
    }

    // MARK: Operators

    /// The slices `L` would give, `count` planes of `width × height`.
    func forward(_ image: [Double]) -> [[Double]] {
        switch layering {
        case .scatter:
            let spectra = Self.map(usedLayers) { j in fourier.forward(frame.padded(layerLight(image, j))) }
            return Self.map(Array(0..<count)) { k in
                var sum = [Double](repeating: 0, count: 2 * fourier.bins)
                for (i, j) in usedLayers.enumerated() { PaddedFrame.accumulate(&sum, spectra[i], transfer, halfSteps(k, j)) }
                return frame.unpadded(fourier.inverse(sum))
            }
        case .gather:
            let spectrum = fourier.forward(frame.padded(image))
            let needed = neededSteps()
            let levels = Self.map(needed) { d in frame.blurred(spectrum: spectrum, transfer: transfer, d) }
            let slot = slots(needed)
            return Self.map(Array(0..<count)) { k in
                var out = [Double](repeating: 0, count: width * height)
                for p in out.indices {
                    let j = Int(layerIndex[p]), t = layerFraction[p]
                    var v = (1 - t) * levels[slot[halfSteps(k, j)]][p]
                    if t > 0 { v += t * levels[slot[halfSteps(k, j + 1)]][p] }
                    out[p] = v
                }
                return out
            }
        }
    }

    /// The transpose of `forward`: `count` residual planes back to one image.
    func adjoint(_ slices: [[Double]]) -> [Double] {
        precondition(slices.count == count)
        switch layering {
        case .scatter:
            let spectra = Self.map(Array(0..<count)) { k in fourier.forward(frame.zeroPadded(slices[k])) }
            let parts = Self.map(usedLayers) { j -> [Double] in
                var sum = [Double](repeating: 0, count: 2 * fourier.bins)
                for k in 0..<count { PaddedFrame.accumulate(&sum, spectra[k], transfer, halfSteps(k, j)) }
                let light = frame.folded(fourier.inverse(sum))
                return layerLight(light, j)
            }
            var out = [Double](repeating: 0, count: width * height)
            for part in parts { for p in out.indices { out[p] += part[p] } }
            return out
        case .gather:
            let needed = neededSteps()
            let slot = slots(needed)
            var gathered = [[Double]](repeating: [Double](repeating: 0, count: width * height), count: needed.count)
            for k in 0..<count {
                let r = slices[k]
                for p in r.indices {
                    let j = Int(layerIndex[p]), t = layerFraction[p]
                    gathered[slot[halfSteps(k, j)]][p] += (1 - t) * r[p]
                    if t > 0 { gathered[slot[halfSteps(k, j + 1)]][p] += t * r[p] }
                }
            }
            let sums = gathered
            let spectra = Self.map(Array(needed.indices)) { i in
                var product = [Double](repeating: 0, count: 2 * fourier.bins)
                PaddedFrame.accumulate(&product, fourier.forward(frame.zeroPadded(sums[i])), transfer, needed[i])
                return product
            }
            var sum = [Double](repeating: 0, count: 2 * fourier.bins)
            for s in spectra { for b in sum.indices { sum[b] += s[b] } }
            return frame.folded(fourier.inverse(sum))
        }
    }

    /// Position of each defocus step in `needed`, by step.
    private func slots(_ needed: [Int]) -> [Int] {
        var slot = [Int](repeating: -1, count: transfer.count)
        for (i, d) in needed.enumerated() { slot[d] = i }
        return slot
    }

    /// The defocus steps any pixel's layers are seen at.
    private func neededSteps() -> [Int] {
        var needed = Set<Int>()
        for k in 0..<count { for j in usedLayers { needed.insert(halfSteps(k, j)) } }
        return needed.sorted()
    }

    /// Least squares: the image whose slices best match `slices`, by `iterations` conjugate-gradient
    /// steps on the normal equations from zero.
    func solve(_ slices: [[Double]], iterations: Int) -> [Double] {
        let n = width * height
        var x = [Double](repeating: 0, count: n)
        var r = adjoint(slices)
        var p = r
        var rr = dot(r, r)
        for _ in 0..<iterations where rr > 0 {
            let ap = adjoint(forward(p))
            let pap = dot(p, ap)
            guard pap > 0 else { break }
            let alpha = rr / pap
            for i in 0..<n { x[i] += alpha * p[i]; r[i] -= alpha * ap[i] }
            let next = dot(r, r)
            let beta = next / rr
            for i in 0..<n { p[i] = r[i] + beta * p[i] }
            rr = next
        }
        return x
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    /// `body` over `items`, two at a time, results in order (each result depends only on its item).
    static func map<T: Sendable>(_ items: [Int], _ body: @Sendable (Int) -> T) -> [T] {
        var results = [T?](repeating: nil, count: items.count)
        let chunks = min(2, items.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = SharedPointer(base: buffer.baseAddress!)
            Parallel.run(chunks: chunks) { chunk in
                for i in Parallel.range(chunk: chunk, of: chunks, total: items.count) { out.base[i] = body(items[i]) }
            }
        }
        return results.map { $0! }
    }
}
