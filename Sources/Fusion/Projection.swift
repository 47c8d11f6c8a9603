import Imaging

/// Source-faithful projection of a generated pair image (ARCHITECTURE.md, "Faithfulness").
///
/// All images here are in the generator's working space ([−1, 1], generator channels).
struct Projection {
    let options: ProjectionOptions

    /// Each channel of `image` minus its mean over the fit window (the same `window`): the detail
    /// the weights are fitted on.
    ///
    /// Fitting on detail rather than on intensities makes the weights blind to smooth errors of the
    /// generated image — an offset or slow shading that an x₀ model at K = 1 leaves — which otherwise
    /// pull w towards whichever source happens to be brighter. A source that is pasted in (the
    /// control's choose-max) has exactly that source's detail, so its weights do not change.
    /// Measured (Lytro 01–10, decision projection, width-16 model at K = 1, 4,300 steps): intensity
    /// fit 0.7478 / 0.8160 (Q_AB/F / Q_CB), detail fit 0.7503 / 0.8292; the control 0.7505 / 0.8277
    /// and 0.7507 / 0.8285. Box radii 2–4 give the same within 0.001 / 0.001; radius 1 removes too
    /// little (0.7464 / 0.8194).
    func detail(_ image: Image) -> Image {
        var out = image
        let n = image.planeSize
        let radius = options.window / 2
        guard radius > 0 else { return image }
        for c in 0..<image.channels {
            let plane = Plane(width: image.width, height: image.height, values: Array(image.pixels[(c * n)..<((c + 1) * n)]))
            let low = plane.boxMean(radius: radius)
            for i in 0..<n { out.pixels[c * n + i] -= low.values[i] }
        }
        return out
    }

    /// Per-pixel least-squares weight w ∈ [0, 1] with Σ_window,channels (G − B − w·(A − B))² least
    /// on the detail of G, A and B (``detail(_:)``): w = Σ g·d / Σ d² (d = A − B, g = G − B), with a
    /// small ridge towards ½ so that w is defined (and ½) where the sources agree.
    func fittedWeights(generated: Image, a sourceA: Image, b sourceB: Image) -> Plane {
        fittedWeights(details: details(generated: generated, a: sourceA, b: sourceB))
    }

    /// ``detail(_:)`` of the generated image and both sources, computed once for both fits.
    func details(generated: Image, a: Image, b: Image) -> (g: Image, a: Image, b: Image) {
        (detail(generated), detail(a), detail(b))
    }

    /// The window fit on precomputed ``details(generated:a:b:)``.
    func fittedWeights(details: (g: Image, a: Image, b: Image)) -> Plane {
        let (gd, dd) = Self.products(details.g, details.a, details.b)
        let r = options.window / 2
        let sumGD = gd.boxSum(radius: r), sumDD = dd.boxSum(radius: r)
        let ridge: Float = Float(details.a.channels) * 1e-6 * Float((2 * r + 1) * (2 * r + 1))
        var w = Plane(width: gd.width, height: gd.height)
        for i in 0..<w.count {
            let v = (sumGD.values[i] + 0.5 * ridge) / (sumDD.values[i] + ridge)
            w.values[i] = min(1, max(0, v))
        }
        return w
    }

    /// Per pixel, summed over channels: Σ_c g·d and Σ_c d² (d = A − B, g = G − B).
    static func products(_ g: Image, _ a: Image, _ b: Image) -> (gd: Plane, dd: Plane) {
        let n = a.planeSize
        var gd = Plane(width: a.width, height: a.height), dd = Plane(width: a.width, height: a.height)
        for c in 0..<a.channels {
            for i in 0..<n {
                let d = a.pixels[c * n + i] - b.pixels[c * n + i]
                gd.values[i] += (g.pixels[c * n + i] - b.pixels[c * n + i]) * d
                dd.values[i] += d * d
            }
        }
        return (gd, dd)
    }

    /// The single-pixel fit Σ_c g·d / Σ_c d² (clamped; ½ where the sources agree at the pixel).
    ///
    /// A generated pixel that is a copy of one source (within 1 % of |A − B|) is that source's, so an
    /// image pasted together from the sources keeps its exact seams. Any other pixel is fitted on
    /// detail (``detail(_:)``), like the window fit: this per-pixel fit decides wherever the window
    /// fit is ambiguous (0.1 < w < 0.9), which for a model's output is much of the boundary area, and
    /// there a smooth offset would otherwise decide (intensity here: Lytro 0.7478 / 0.8167 at K = 1
    /// against 0.750 / 0.829 on detail).
    func pixelWeights(generated: Image, a sourceA: Image, b sourceB: Image,
                      details: (g: Image, a: Image, b: Image)? = nil) -> Plane {
        let d = details ?? self.details(generated: generated, a: sourceA, b: sourceB)
        let exact = Self.pixelFit(generated, sourceA, sourceB, clamp: false)
        var fitted = Self.pixelFit(d.g, d.a, d.b, clamp: true)
        for i in 0..<fitted.count {
            let v = exact.values[i]
            if abs(v - 1) < 0.01 || abs(v) < 0.01 { fitted.values[i] = v < 0.5 ? 0 : 1 }
        }
        return fitted
    }

    /// Σ_c g·d / Σ_c d² per pixel with a small ridge towards ½ (d = A − B, g = G − B).
    static func pixelFit(_ g: Image, _ a: Image, _ b: Image, clamp: Bool) -> Plane {
        var (w, dd) = products(g, a, b)
        let ridge = Float(a.channels) * 1e-6
        for i in 0..<w.count {
            let v = (w.values[i] + 0.5 * ridge) / (dd.values[i] + ridge)
            w.values[i] = clamp ? min(1, max(0, v)) : v
        }
        return w
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
    /// opposite value; repeated until none remains (at most a few passes). Regions are found by
    /// two-pass union–find labelling (row-major, left and upper neighbours).
    static func removingIslands(_ map: Plane, minimumPixels: Int) -> Plane {
        var current = map
        let w = map.width, h = map.height, n = map.count
        var parent = [Int32](repeating: 0, count: n)
        var size = [Int32](repeating: 0, count: n)
        for _ in 0..<4 {
            var regions = 0, anyLarge = false, changed = false
            current.values.withUnsafeMutableBufferPointer { values in
            parent.withUnsafeMutableBufferPointer { parent in
            size.withUnsafeMutableBufferPointer { size in
                func root(_ i: Int) -> Int {
                    var r = i
                    while Int(parent[r]) != r { r = Int(parent[r]) }
                    var j = i
                    while Int(parent[j]) != r { let next = Int(parent[j]); parent[j] = Int32(r); j = next }
                    return r
                }
                func join(_ a: Int, _ b: Int) {
                    let ra = root(a), rb = root(b)
                    if ra < rb { parent[rb] = Int32(ra) } else if rb < ra { parent[ra] = Int32(rb) }
                }
                for y in 0..<h {
                    for x in 0..<w {
                        let i = y * w + x
                        parent[i] = Int32(i)
                        if x > 0 && values[i - 1] == values[i] { join(i, i - 1) }
                        if y > 0 && values[i - w] == values[i] { join(i, i - w) }
                    }
                }
                for i in 0..<n { size[i] = 0 }
                for i in 0..<n {
                    let r = root(i)
                    size[r] += 1
                    if r == i { regions += 1 }
                }
                for i in 0..<n where parent[i] == Int32(i) && Int(size[i]) >= minimumPixels { anyLarge = true; break }
                // A map that is one region, or where every region is small, is left as it is.
                guard regions > 1 && anyLarge else { return }
                for i in 0..<n where Int(size[Int(parent[i])]) < minimumPixels {
                    values[i] = 1 - values[i]
                    changed = true
                }
            } } }
            if regions <= 1 || !anyLarge || !changed { break }
        }
        return current
    }
}
