/// Small stencils over a plane — separable correlation, the 4-neighbour Laplacian — vectorised
/// across each row's interior (issue 21); the border pixels take the reflected path. Each output
/// value is computed with the same operations in the same order as the scalar definition (a sum
/// starts at 0 and adds the taps in kernel order), so results do not depend on the vector width.
extension Plane {
    /// Lanes per vector step of the stencils.
    typealias Lanes = SIMD8<Float>

    /// Separable correlation with a symmetric odd-length kernel, reflected borders.
    func convolved(_ kernel: [Float]) -> Plane {
        let r = kernel.count / 2
        let w = width, h = height, taps = kernel.count
        let lanes = Lanes.scalarCount
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { tmp.deallocate() }
        let out = kernel.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { source in
                let src = source.baseAddress!
                // Horizontal: rows of `src` into `tmp`.
                let interiorStart = min(r, w), interiorEnd = max(interiorStart, w - r)
                for y in 0..<h {
                    let row = src + y * w, dst = tmp + y * w
                    func border(_ x: Int) {
                        var s: Float = 0
                        for t in 0..<taps { s += k[t] * row[reflectIndex(x + t - r, w)] }
                        dst[x] = s
                    }
                    for x in 0..<interiorStart { border(x) }
                    var x = interiorStart
                    while x + lanes <= interiorEnd {
                        var s = Lanes(repeating: 0)
                        for t in 0..<taps { s += k[t] * Self.load(row + x + t - r) }
                        Self.store(s, dst + x)
                        x += lanes
                    }
                    while x < interiorEnd {
                        var s: Float = 0
                        for t in 0..<taps { s += k[t] * row[x + t - r] }
                        dst[x] = s
                        x += 1
                    }
                    for x in interiorEnd..<w { border(x) }
                }
                // Vertical: columns of `tmp` into the result.
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    let result = buffer.baseAddress!
                    let rows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: taps)
                    defer { rows.deallocate() }
                    for y in 0..<h {
                        for t in 0..<taps { rows[t] = UnsafePointer(tmp + reflectIndex(y + t - r, h) * w) }
                        let dst = result + y * w
                        var x = 0
                        while x + lanes <= w {
                            var s = Lanes(repeating: 0)
                            for t in 0..<taps { s += k[t] * Self.load(rows[t] + x) }
                            Self.store(s, dst + x)
                            x += lanes
                        }
                        while x < w {
                            var s: Float = 0
                            for t in 0..<taps { s += k[t] * rows[t][x] }
                            dst[x] = s
                            x += 1
                        }
                    }
                    initialized = count
                }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    /// The 4-neighbour Laplacian (reflected borders).
    func laplacian() -> Plane {
        laplacian(squared: false)
    }

    /// The 4-neighbour Laplacian, each value squared when `squared` (reflected borders).
    func laplacian(squared: Bool) -> Plane {
        let w = width, h = height
        let lanes = Lanes.scalarCount
        let out = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let dst = buffer.baseAddress!
            values.withUnsafeBufferPointer { source in
                let p = source.baseAddress!
                for y in 0..<h {
                    let up = p + reflectIndex(y - 1, h) * w, down = p + reflectIndex(y + 1, h) * w, row = p + y * w
                    let o = dst + y * w
                    func scalar(_ x: Int) {
                        let l = reflectIndex(x - 1, w), r = reflectIndex(x + 1, w)
                        let v = up[x] + down[x] + row[l] + row[r] - 4 * row[x]
                        o[x] = squared ? v * v : v
                    }
                    scalar(0)
                    guard w > 1 else { continue }
                    var x = 1
                    while x + lanes <= w - 1 {
                        let v = Self.load(up + x) + Self.load(down + x) + Self.load(row + x - 1) + Self.load(row + x + 1)
                            - 4 * Self.load(row + x)
                        Self.store(squared ? v * v : v, o + x)
                        x += lanes
                    }
                    while x < w - 1 {
                        let v = up[x] + down[x] + row[x - 1] + row[x + 1] - 4 * row[x]
                        o[x] = squared ? v * v : v
                        x += 1
                    }
                    scalar(w - 1)
                }
            }
            initialized = count
        }
        return Plane(width: w, height: h, values: out)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }
}
