/// Box sums and means (issue 21: one streaming pass, no plane-sized temporaries).
///
/// The arithmetic is fixed so that results never change with the implementation: per row, a
/// `Double` prefix sum of the pixels, each window's sum `Float(prefix[hi + 1] − prefix[lo])`; per
/// column, a `Double` prefix sum of those row sums, likewise; a mean divides that `Float` by
/// `Float(nx · ny)`, the window's pixel count inside the image. Here the column prefix sums live in
/// a ring of 2r + 2 rows (all that one output row needs) instead of a (h + 1) × w plane, each
/// row's window sums are made just before the ring needs them, and the interior of each row is
/// processed without clamping.
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
        let rowPrefix = UnsafeMutablePointer<Double>.allocate(capacity: w + 1)
        let rowSums = UnsafeMutablePointer<Float>.allocate(capacity: w)
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
        var divisorRows = -1
        let out = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let dst = buffer.baseAddress!
            values.withUnsafeBufferPointer { source in
                let src = source.baseAddress!
                for y in 0..<h {
                    let lo = max(0, y - r), hiEnd = min(h, y + r + 1)
                    while next <= hiEnd {
                        Self.rowWindowSums(src + (next - 1) * w, width: w, radius: r, prefix: rowPrefix, into: rowSums)
                        let previous = slot(next - 1), current = slot(next)
                        for x in 0..<w { current[x] = previous[x] + Double(rowSums[x]) }
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

    /// One row's window sums: `out[x]` = Σ `row[max(0, x−r)…min(w−1, x+r)]` through `Double`
    /// prefix sums (`prefix` holds w + 1 values).
    private static func rowWindowSums(_ row: UnsafePointer<Float>, width w: Int, radius r: Int,
                                      prefix: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Float>) {
        var running: Double = 0
        prefix[0] = 0
        for x in 0..<w {
            running += Double(row[x])
            prefix[x + 1] = running
        }
        let interiorStart = min(r, w), interiorEnd = max(interiorStart, w - r)
        for x in 0..<interiorStart { out[x] = Float(prefix[min(w - 1, x + r) + 1] - prefix[max(0, x - r)]) }
        for x in interiorStart..<interiorEnd { out[x] = Float(prefix[x + r + 1] - prefix[x - r]) }
        for x in interiorEnd..<w { out[x] = Float(prefix[min(w - 1, x + r) + 1] - prefix[max(0, x - r)]) }
    }
}
