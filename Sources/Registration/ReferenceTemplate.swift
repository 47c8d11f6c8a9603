/// The reference slice at one pyramid level, prepared once for the inverse-compositional fit:
/// its luminance, gradients and the Gauss–Newton Hessian over every interior pixel.
///
/// Coordinates: a level-`k` pixel `x_k` has centred coordinate `v = x_k − origin`, with
/// `v = u / 2^k` where `u` is the level-0 position relative to the image centre. Warps at this
/// level act on `v`; their linear part is the same at every level and their shift scales by 2^k.
struct TemplateLevel: Sendable {
    let level: Int
    let model: TransformModel
    let image: Plane
    /// Central differences, 0 on the one-pixel border. `[height, width]` each.
    let gradientX: [Float]
    let gradientY: [Float]
    /// Σ over interior pixels of SD·SDᵀ, `P × P` row-major, P = `model.parameterCount`.
    let hessian: [Double]
    let originX: Double
    let originY: Double

    var scale: Double { Double(1 << level) }

    init(image: Plane, level: Int, model: TransformModel, fullWidth: Int, fullHeight: Int) {
        precondition(model != .none)
        self.image = image
        self.level = level
        self.model = model
        let s = Double(1 << level)
        originX = ((Double(fullWidth) - 1) / 2 - (s - 1) / 2) / s
        originY = ((Double(fullHeight) - 1) / 2 - (s - 1) / 2) / s
        let w = image.width, h = image.height
        var gx = [Float](repeating: 0, count: w * h)
        var gy = [Float](repeating: 0, count: w * h)
        if w >= 3 && h >= 3 {
            image.data.withUnsafeBufferPointer { t in
                for y in 1..<(h - 1) {
                    for x in 1..<(w - 1) {
                        let i = y * w + x
                        gx[i] = 0.5 * (t[i + 1] - t[i - 1])
                        gy[i] = 0.5 * (t[i + w] - t[i - w])
                    }
                }
            }
        }
        gradientX = gx
        gradientY = gy
        let p = model.parameterCount
        var hessian = [Double](repeating: 0, count: p * p)
        if w >= 3 && h >= 3 {
            var sd = [Double](repeating: 0, count: 6)
            for y in 1..<(h - 1) {
                let vy = Double(y) - originY
                for x in 1..<(w - 1) {
                    let i = y * w + x
                    steepestDescent(model, Double(gx[i]), Double(gy[i]), Double(x) - originX, vy, into: &sd)
                    for r in 0..<p { for c in r..<p { hessian[r * p + c] += sd[r] * sd[c] } }
                }
            }
            for r in 0..<p { for c in 0..<r { hessian[r * p + c] = hessian[c * p + r] } }
        }
        self.hessian = hessian
    }
}

/// The steepest-descent row ∇T·∂W/∂p at centred position `(vx, vy)` for the model's
/// parameterisation (see `incrementWarp`).
@inline(__always)
func steepestDescent(_ model: TransformModel, _ gx: Double, _ gy: Double, _ vx: Double, _ vy: Double,
                     into sd: inout [Double]) {
    switch model {
    case .none:
        break
    case .translation:
        sd[0] = gx; sd[1] = gy
    case .similarity:
        sd[0] = gx * vx + gy * vy; sd[1] = gy * vx - gx * vy; sd[2] = gx; sd[3] = gy
    case .affine:
        sd[0] = gx * vx; sd[1] = gx * vy; sd[2] = gy * vx; sd[3] = gy * vy; sd[4] = gx; sd[5] = gy
    }
}

/// The warp for parameter vector `p` (identity at p = 0):
/// translation `[1 0 p0; 0 1 p1]`, similarity `[1+p0 −p1 p2; p1 1+p0 p3]`,
/// affine `[1+p0 p1 p4; p2 1+p3 p5]`.
func incrementWarp(_ model: TransformModel, _ p: [Double]) -> Affine {
    switch model {
    case .none: .identity
    case .translation: Affine(a: 1, b: 0, tx: p[0], c: 0, d: 1, ty: p[1])
    case .similarity: Affine(a: 1 + p[0], b: -p[1], tx: p[2], c: p[1], d: 1 + p[0], ty: p[3])
    case .affine: Affine(a: 1 + p[0], b: p[1], tx: p[4], c: p[2], d: 1 + p[3], ty: p[5])
    }
}

/// Solves the symmetric positive-definite system `H·x = b` (Cholesky); `nil` when `H` is not
/// positive definite (no texture to fit against).
func solveSymmetric(_ h: [Double], _ b: [Double]) -> [Double]? {
    let n = b.count
    var l = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0...i {
            var sum = h[i * n + j]
            for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
            if i == j {
                guard sum > 1e-12 * max(abs(h[i * n + i]), 1e-300), sum.isFinite else { return nil }
                l[i * n + i] = sum.squareRoot()
            } else {
                l[i * n + j] = sum / l[j * n + j]
            }
        }
    }
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
        var sum = b[i]
        for k in 0..<i { sum -= l[i * n + k] * y[k] }
        y[i] = sum / l[i * n + i]
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var sum = y[i]
        for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
        x[i] = sum / l[i * n + i]
    }
    return x
}
