import Imaging

/// Source-faithful projection of a generated pair image (DESIGN.md, "Faithfulness").
///
/// All images here are in the generator's working space ([−1, 1], generator channels).
struct Projection {
    let options: ProjectionOptions

    /// Per-pixel least-squares weight w ∈ [0, 1] with Σ_window,channels (G − B − w·(A − B))² least:
    /// w = Σ g·d / Σ d² (d = A − B, g = G − B), with a small ridge towards ½ so that w is defined
    /// (and ½) where the sources agree.
    func fittedWeights(generated g: Image, a: Image, b: Image) -> Plane {
        let n = a.planeSize
        var gd = Plane(width: a.width, height: a.height), dd = Plane(width: a.width, height: a.height)
        for c in 0..<a.channels {
            for i in 0..<n {
                let d = a.pixels[c * n + i] - b.pixels[c * n + i]
                gd.values[i] += (g.pixels[c * n + i] - b.pixels[c * n + i]) * d
                dd.values[i] += d * d
            }
        }
        let r = options.window / 2
        let sumGD = gd.boxSum(radius: r), sumDD = dd.boxSum(radius: r)
        let ridge: Float = Float(a.channels) * 1e-6 * Float((2 * r + 1) * (2 * r + 1))
        var w = Plane(width: a.width, height: a.height)
        for i in 0..<n {
            let v = (sumGD.values[i] + 0.5 * ridge) / (sumDD.values[i] + ridge)
            w.values[i] = min(1, max(0, v))
        }
        return w
    }

    /// The single-pixel fit Σ_c g·d / Σ_c d² (clamped; ½ where the sources agree at the pixel).
    func pixelWeights(generated g: Image, a: Image, b: Image) -> Plane {
        let n = a.planeSize
        var gd = Plane(width: a.width, height: a.height), dd = Plane(width: a.width, height: a.height)
        for c in 0..<a.channels {
            for i in 0..<n {
                let d = a.pixels[c * n + i] - b.pixels[c * n + i]
                gd.values[i] += (g.pixels[c * n + i] - b.pixels[c * n + i]) * d
                dd.values[i] += d * d
            }
        }
        let ridge = Float(a.channels) * 1e-6
        for i in 0..<n { gd.values[i] = min(1, max(0, (gd.values[i] + 0.5 * ridge) / (dd.values[i] + ridge))) }
        return gd
    }

    /// The decision map: w ≥ ½, islands below `islandFraction` of the area flipped, then blended
    /// by a guided filter (guide = source luminance) only within `bandRadius` of the boundary.
    ///
    /// Where the fit window straddles a boundary (0.1 < w < 0.9) the window cannot place it, so the
    /// pixel's own fit (`pixel`, when given) decides there: a generated image that switches sources
    /// along a line gives a decision map switching along that same line.
    func decisionWeights(fitted w: Plane, pixel: Plane? = nil, guide: Plane) -> Plane {
        var binary = Plane(width: w.width, height: w.height)
        for i in 0..<w.count {
            var v = w.values[i]
            if let pixel, v > 0.1 && v < 0.9 { v = pixel.values[i] }
            binary.values[i] = v >= 0.5 ? 1 : 0
        }
        let minimum = max(1, Int(options.islandFraction * Double(w.count)))
        if options.islandFraction > 0 { binary = Self.removingIslands(binary, minimumPixels: minimum) }
        let r = options.bandRadius
        guard r > 0 else { return binary }
        let smooth = binary.guidedFiltered(guide: guide, radius: r, epsilon: Float(options.bandEpsilon))
        let local = binary.boxMean(radius: r)
        var out = binary
        for i in 0..<out.count where local.values[i] > 0 && local.values[i] < 1 {
            out.values[i] = min(1, max(0, smooth.values[i]))
        }
        return out
    }

    /// The continuous weights, smoothed edge-aware (guided filter, radius `bandRadius`).
    func softWeights(fitted w: Plane, guide: Plane) -> Plane {
        let r = max(1, options.bandRadius)
        var smooth = w.guidedFiltered(guide: guide, radius: r, epsilon: Float(options.bandEpsilon))
        for i in 0..<smooth.count { smooth.values[i] = min(1, max(0, smooth.values[i])) }
        return smooth
    }

    /// Flips every 4-connected region (of either value) smaller than `minimumPixels` to the
    /// opposite value; repeated until none remains (at most a few passes).
    static func removingIslands(_ map: Plane, minimumPixels: Int) -> Plane {
        var current = map
        let w = map.width, h = map.height
        for _ in 0..<4 {
            var label = [Int32](repeating: -1, count: current.count)
            var flip = [Bool]()
            var queue = [Int]()
            var changed = false
            var regions = 0
            for start in 0..<current.count where label[start] < 0 {
                let value = current.values[start]
                queue.removeAll(keepingCapacity: true)
                queue.append(start)
                label[start] = Int32(regions)
                var head = 0
                while head < queue.count {
                    let p = queue[head]; head += 1
                    let x = p % w, y = p / w
                    for k in 0..<4 {
                        let q: Int
                        switch k {
                        case 0: if x == 0 { continue }; q = p - 1
                        case 1: if x == w - 1 { continue }; q = p + 1
                        case 2: if y == 0 { continue }; q = p - w
                        default: if y == h - 1 { continue }; q = p + w
                        }
                        if label[q] < 0 && current.values[q] == value {
                            label[q] = Int32(regions)
                            queue.append(q)
                        }
                    }
                }
                flip.append(queue.count < minimumPixels)
                regions += 1
            }
            // A map that is one region, or where every region is small, is left as it is.
            if regions <= 1 || !flip.contains(false) { return current }
            for i in 0..<current.count where flip[Int(label[i])] {
                current.values[i] = 1 - current.values[i]
                changed = true
            }
            if !changed { break }
        }
        return current
    }
}
