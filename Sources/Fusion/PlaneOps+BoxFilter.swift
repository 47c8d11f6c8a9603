/// Box sums and means (issue 21: one streaming pass, no plane-sized temporaries).
///
/// The arithmetic is fixed so that results never change with the implementation: per row, a
/// `Double` prefix sum of the pixels, each window's sum `Float(prefix[hi + 1] − prefix[lo])`; per
/// column, a `Double` prefix sum of those row sums, likewise; a mean divides that `Float` by
/// `Float(nx · ny)`, the window's pixel count inside the image. Here the column prefix sums live in
/// a ring of 2r + 2 rows (all that one output row needs) instead of a (h + 1) × w plane, the rows'
/// window sums are made four rows at a time just before the ring needs them, and the interior of
/// each row is processed without clamping.
extension Plane {
    /// Sum over the (2r+1)² window, truncated at the borders (only pixels inside the image count).
    func boxSum(radius r: Int) -> Plane {
        r == 0 ? self : boxFiltered(radius: r, mean: false)
    }

    /// Mean over the (2r+1)² window, truncated at the borders.
    func boxMean(radius r: Int) -> Plane {
        r == 0 ? self : boxFiltered(radius: r, mean: true)
    }

    private func boxFiltered(radius r: Int, mean: Bool) -> Plane {
        let w = width, h = height
        let ringRows = min(2 * r + 2, h + 1)
        // Row window sums are made `rowBlock` rows at a time (independent prefix chains overlap).
        let rowBlock = 4
        let rowPrefix = UnsafeMutablePointer<Double>.allocate(capacity: rowBlock * (w + 1))
        let rowSums = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * w)
        let ring = UnsafeMutablePointer<Double>.allocate(capacity: ringRows * w)
        let divisors = UnsafeMutablePointer<Float>.allocate(capacity: w)
        defer {
            rowPrefix.deallocate()
            rowSums.deallocate()
            ring.deallocate()
            divisors.deallocate()
        }
        // Column prefix row j (the sum of rows 0..<j) lives in ring slot j % ringRows.
        func slot(_ j: Int) -> UnsafeMutablePointer<Double> { ring + (j % ringRows) * w }
        slot(0).initialize(repeating: 0, count: w)
        var next = 1
        var blockStart = 0, blockCount = 0
        var divisorRows = -1
        let out = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let dst = buffer.baseAddress!
            values.withUnsafeBufferPointer { source in
                let src = source.baseAddress!
                for y in 0..<h {
                    let lo = max(0, y - r), hiEnd = min(h, y + r + 1)
                    while next <= hiEnd {
                        let source = next - 1
                        if source >= blockStart + blockCount {
                            blockStart = source
                            blockCount = min(rowBlock, h - source)
                            Self.rowWindowSums(src + source * w, rows: blockCount, width: w, radius: r,
                                               prefix: rowPrefix, into: rowSums)
                        }
                        let sums = rowSums + (source - blockStart) * w
                        let previous = slot(next - 1), current = slot(next)
                        for x in 0..<w { current[x] = previous[x] + Double(sums[x]) }
                        next += 1
                    }
                    let upper = slot(hiEnd), lower = slot(lo), row = dst + y * w
                    if mean {
                        let rows = hiEnd - lo
                        if rows != divisorRows {
                            for x in 0..<w { divisors[x] = Float((min(w - 1, x + r) - max(0, x - r) + 1) * rows) }
                            divisorRows = rows
                        }
                        for x in 0..<w { row[x] = Float(upper[x] - lower[x]) / divisors[x] }
                    } else {
                        for x in 0..<w { row[x] = Float(upper[x] - lower[x]) }
                    }
                }
            }
            initialized = count
        }
        return Plane(width: w, height: h, values: out)
    }

    /// Window sums of `rows` consecutive rows (1…4): `out[j·w + x]` = Σ row j's
    /// `[max(0, x−r)…min(w−1, x+r)]` through `Double` prefix sums (`prefix` holds 4·(w + 1)
    /// values). Four rows run their prefix chains in one loop, so their additions overlap.
    private static func rowWindowSums(_ first: UnsafePointer<Float>, rows: Int, width w: Int, radius r: Int,
                                      prefix: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Float>) {
        let stride = w + 1
        if rows == 4 {
            let a = first, b = first + w, c = first + 2 * w, d = first + 3 * w
            let pa = prefix, pb = prefix + stride, pc = prefix + 2 * stride, pd = prefix + 3 * stride
            var sa: Double = 0, sb: Double = 0, sc: Double = 0, sd: Double = 0
            pa[0] = 0; pb[0] = 0; pc[0] = 0; pd[0] = 0
            for x in 0..<w {
                sa += Double(a[x]); pa[x + 1] = sa
                sb += Double(b[x]); pb[x + 1] = sb
                sc += Double(c[x]); pc[x + 1] = sc
                sd += Double(d[x]); pd[x + 1] = sd
            }
        } else {
            for j in 0..<rows {
                let row = first + j * w, p = prefix + j * stride
                var running: Double = 0
                p[0] = 0
                for x in 0..<w {
                    running += Double(row[x])
                    p[x + 1] = running
                }
            }
        }
        let interiorStart = min(r, w), interiorEnd = max(interiorStart, w - r)
        for j in 0..<rows {
            let p = prefix + j * stride, o = out + j * w
            for x in 0..<interiorStart { o[x] = Float(p[min(w - 1, x + r) + 1] - p[max(0, x - r)]) }
            for x in interiorStart..<interiorEnd { o[x] = Float(p[x + r + 1] - p[x - r]) }
            for x in interiorEnd..<w { o[x] = Float(p[min(w - 1, x + r) + 1] - p[max(0, x - r)]) }
        }
    }
}
