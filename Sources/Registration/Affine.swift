/// A 2-D affine map `p ↦ A·p + t` in double precision:
/// `x' = a·x + b·y + tx`, `y' = c·x + d·y + ty`.
public struct Affine: Sendable, Equatable {
    var a: Double, b: Double, tx: Double
    var c: Double, d: Double, ty: Double

    static let identity = Affine(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

    public init(a: Double, b: Double, tx: Double, c: Double, d: Double, ty: Double) {
        self.a = a; self.b = b; self.tx = tx
        self.c = c; self.d = d; self.ty = ty
    }

    /// From rows `[[a, b, tx], [c, d, ty]]`; `nil` unless the shape is 2×3 and every entry is finite.
    public init?(rows: [[Double]]) {
        guard rows.count == 2, rows[0].count == 3, rows[1].count == 3,
              rows.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { return nil }
        self.init(a: rows[0][0], b: rows[0][1], tx: rows[0][2], c: rows[1][0], d: rows[1][1], ty: rows[1][2])
    }

    public var rows: [[Double]] { [[a, b, tx], [c, d, ty]] }

    var determinant: Double { a * d - b * c }

    var isFinite: Bool { [a, b, c, d, tx, ty].allSatisfy(\.isFinite) }

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + tx, c * x + d * y + ty)
    }

    /// `self ∘ other`: applies `other` first, then `self`.
    public func composed(after other: Affine) -> Affine {
        Affine(a: a * other.a + b * other.c, b: a * other.b + b * other.d, tx: a * other.tx + b * other.ty + tx,
               c: c * other.a + d * other.c, d: c * other.b + d * other.d, ty: c * other.tx + d * other.ty + ty)
    }

    /// The inverse map; `nil` when singular.
    public var inverse: Affine? {
        let det = determinant
        guard det.isFinite, abs(det) > 1e-12 else { return nil }
        let ia = d / det, ib = -b / det, ic = -c / det, id = a / det
        return Affine(a: ia, b: ib, tx: -(ia * tx + ib * ty), c: ic, d: id, ty: -(ic * tx + id * ty))
    }

    /// Conjugation by a translation: the same map expressed in coordinates shifted by `(ox, oy)`,
    /// i.e. `q ↦ self(q − o) + o`.
    func shiftedOrigin(_ ox: Double, _ oy: Double) -> Affine {
        var m = self
        m.tx = tx + ox - (a * ox + b * oy)
        m.ty = ty + oy - (c * ox + d * oy)
        return m
    }

    /// The largest displacement `|self(p) − p|` over the corners of a `width × height` box centred
    /// on the origin: how far this map moves anything in that box (affine, so corners bound it).
    func maximumCornerDisplacement(halfWidth: Double, halfHeight: Double) -> Double {
        var worst = 0.0
        for (x, y) in [(-halfWidth, -halfHeight), (halfWidth, -halfHeight), (-halfWidth, halfHeight), (halfWidth, halfHeight)] {
            let p = apply(x, y)
            worst = max(worst, ((p.x - x) * (p.x - x) + (p.y - y) * (p.y - y)).squareRoot())
        }
        return worst
    }

    /// Mean scale factor `√|det A|`.
    var scale: Double { abs(determinant).squareRoot() }
}
