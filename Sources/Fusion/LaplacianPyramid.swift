/// A Laplacian pyramid of one plane (Burt & Adelson, 5-tap binomial kernel, reflected borders).
///
/// `levels[0 ..< detailCount]` are the detail (band-pass) planes, finest first; the last entry is
/// the low-pass base. Reconstruction is exact: G_l = L_l + expand(G_{l+1}).
struct LaplacianPyramid {
    var levels: [Plane]

    static let kernel: [Float] = [1, 4, 6, 4, 1].map { $0 / 16 }

    init(levels: [Plane]) { self.levels = levels }

    /// Builds `detailCount` detail levels and a base.
    init(_ plane: Plane, detailCount: Int) {
        var levels: [Plane] = []
        var current = plane
        for _ in 0..<detailCount {
            let down = Self.reduce(current)
            let up = Self.expand(down, width: current.width, height: current.height)
            var detail = current
            for i in 0..<detail.count { detail.values[i] -= up.values[i] }
            levels.append(detail)
            current = down
        }
        levels.append(current)
        self.levels = levels
    }

    /// Collapses the pyramid back into a plane.
    func reconstructed() -> Plane {
        var current = levels[levels.count - 1]
        for l in stride(from: levels.count - 2, through: 0, by: -1) {
            let detail = levels[l]
            var up = Self.expand(current, width: detail.width, height: detail.height)
            for i in 0..<up.count { up.values[i] += detail.values[i] }
            current = up
        }
        return current
    }

    /// Blur and keep every second pixel: size ⌈n/2⌉.
    static func reduce(_ p: Plane) -> Plane {
        let blurred = p.convolved(kernel)
        let w = (p.width + 1) / 2, h = (p.height + 1) / 2
        var out = Plane(width: w, height: h)
        for y in 0..<h { for x in 0..<w { out.values[y * w + x] = blurred.values[2 * y * p.width + 2 * x] } }
        return out
    }

    /// Insert zeros, blur with 4× the kernel: size `width` × `height`.
    static func expand(_ p: Plane, width: Int, height: Int) -> Plane {
        var up = Plane(width: width, height: height)
        for y in 0..<p.height where 2 * y < height {
            for x in 0..<p.width where 2 * x < width { up.values[2 * y * width + 2 * x] = 4 * p.values[y * p.width + x] }
        }
        return up.convolved(kernel)
    }

    /// Detail levels for an image whose smaller side is `side`: the base is about 8–16 pixels.
    static func automaticDetailCount(side: Int) -> Int {
        var count = 0, s = side
        while s >= 16 && count < 8 { s = (s + 1) / 2; count += 1 }
        return max(1, count)
    }
}
