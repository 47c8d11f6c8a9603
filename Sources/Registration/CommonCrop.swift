/// The output frame every aligned slice covers.
enum CommonCrop {
    /// The largest axis-aligned rectangle of reference pixels `[x, y, w, h]` whose pixel centres
    /// all map inside every slice (between its first and last pixel centres), found greedily:
    /// each edge of each slice's footprint pushes in the side of the rectangle it mostly faces.
    /// `nil` when the footprints do not overlap.
    ///
    /// - Parameter sliceToReference: each aligned slice's matrix (slice → reference pixels).
    static func rectangle(width: Int, height: Int, sliceToReference: [Affine]) -> [Int]? {
        var x0 = 0.0, y0 = 0.0, x1 = Double(width - 1), y1 = Double(height - 1)
        let corners = [(0.0, 0.0), (Double(width - 1), 0.0), (Double(width - 1), Double(height - 1)), (0.0, Double(height - 1))]
        for m in sliceToReference {
            let quad = corners.map { m.apply($0.0, $0.1) }
            let cx = quad.map(\.x).reduce(0, +) / 4, cy = quad.map(\.y).reduce(0, +) / 4
            for k in 0..<4 {
                let p = quad[k], q = quad[(k + 1) % 4]
                // Half-plane nx·x + ny·y ≤ limit, oriented so the footprint's centre is inside.
                var nx = q.y - p.y, ny = -(q.x - p.x)
                if nx * (cx - p.x) + ny * (cy - p.y) > 0 { nx = -nx; ny = -ny }
                let limit = nx * p.x + ny * p.y
                let violation = nx * (nx > 0 ? x1 : x0) + ny * (ny > 0 ? y1 : y0) - limit
                guard violation > 0 else { continue }
                if abs(nx) >= abs(ny) {
                    if nx > 0 { x1 -= violation / nx } else { x0 += violation / -nx }
                } else {
                    if ny > 0 { y1 -= violation / ny } else { y0 += violation / -ny }
                }
            }
        }
        let tolerance = 1e-6
        let left = Int((x0 - tolerance).rounded(.up)), right = Int((x1 + tolerance).rounded(.down))
        let top = Int((y0 - tolerance).rounded(.up)), bottom = Int((y1 + tolerance).rounded(.down))
        guard right >= left, bottom >= top else { return nil }
        return [left, top, right - left + 1, bottom - top + 1]
    }
}
