import Foundation
import Imaging

extension FusionMetrics {
    /// Q_AB/F (Xydeas & Petrović 2000): how much of the sources' Sobel edge strength and
    /// orientation the fused image keeps, weighted by the sources' edge strength. Parameters
    /// Γg 0.9994, κg −15, σg 0.5, Γα 0.9879, κα −22, σα 0.8 (MFIFB), so identical images score
    /// Γg/(1+e^{−7.5})·Γα/(1+e^{−4.4}) ≈ 0.9748. Sobel with zero-padded borders.
    public static func qabf(_ a: Image, _ b: Image, fused: Image, peak: Double? = nil) -> Double {
        let g = grey([a, b, fused], peak: peak)
        let ea = sobel(g[0]), eb = sobel(g[1]), ef = sobel(g[2])
        var numerator = 0.0, denominator = 0.0
        for i in 0..<g[0].values.count {
            let qa = edgePreservation(source: (ea.strength[i], ea.angle[i]), fused: (ef.strength[i], ef.angle[i]))
            let qb = edgePreservation(source: (eb.strength[i], eb.angle[i]), fused: (ef.strength[i], ef.angle[i]))
            numerator += qa * ea.strength[i] + qb * eb.strength[i]
            denominator += ea.strength[i] + eb.strength[i]
        }
        return denominator > 0 ? numerator / denominator : 1
    }

    /// Sobel strength √(gx² + gy²) and orientation atan(gy / gx) (π/2 where gx = 0).
    static func sobel(_ g: Grey) -> (strength: [Double], angle: [Double]) {
        let w = g.width, h = g.height
        func at(_ x: Int, _ y: Int) -> Double { x < 0 || y < 0 || x >= w || y >= h ? 0 : g.values[y * w + x] }
        var strength = [Double](repeating: 0, count: w * h), angle = strength
        for y in 0..<h {
            for x in 0..<w {
                let gx = (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1))
                    - (at(x - 1, y - 1) + 2 * at(x - 1, y) + at(x - 1, y + 1))
                let gy = (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1))
                    - (at(x - 1, y - 1) + 2 * at(x, y - 1) + at(x + 1, y - 1))
                strength[y * w + x] = (gx * gx + gy * gy).squareRoot()
                angle[y * w + x] = gx == 0 ? Double.pi / 2 : atan(gy / gx)
            }
        }
        return (strength, angle)
    }

    /// Q^{XF} at one pixel: Q_g(G^{XF}) · Q_α(A^{XF}).
    @inline(__always)
    static func edgePreservation(source: (Double, Double), fused: (Double, Double)) -> Double {
        let (gs, αs) = source, (gf, αf) = fused
        let strength: Double
        if gs == gf { strength = gs == 0 ? 0 : 1 } else { strength = gs > gf ? gf / gs : gs / gf }
        let orientation = 1 - abs(αs - αf) / (Double.pi / 2)
        let qg = 0.9994 / (1 + exp(-15 * (strength - 0.5)))
        let qα = 0.9879 / (1 + exp(-22 * (orientation - 0.8)))
        return qg * qα
    }

    /// Q_MI (Hossny et al. 2008): 2·[MI(A,F)/(H(A)+H(F)) + MI(B,F)/(H(B)+H(F))], entropies in
    /// bits from 256-bin histograms of grey values rounded to integers 0…255. 2 when A = B = F
    /// carry information.
    public static func qmi(_ a: Image, _ b: Image, fused: Image, peak: Double? = nil) -> Double {
        let g = grey([a, b, fused], peak: peak)
        let bins = g.map { $0.values.map { min(255, max(0, Int($0.rounded()))) } }
        func entropy(_ x: [Int]) -> Double {
            var histogram = [Double](repeating: 0, count: 256)
            for v in x { histogram[v] += 1 }
            return histogram.reduce(0) { $1 > 0 ? $0 - ($1 / Double(x.count)) * log2($1 / Double(x.count)) : $0 }
        }
        func jointEntropy(_ x: [Int], _ y: [Int]) -> Double {
            var histogram = [Double](repeating: 0, count: 256 * 256)
            for i in 0..<x.count { histogram[x[i] * 256 + y[i]] += 1 }
            let n = Double(x.count)
            return histogram.reduce(0) { $1 > 0 ? $0 - ($1 / n) * log2($1 / n) : $0 }
        }
        let ha = entropy(bins[0]), hb = entropy(bins[1]), hf = entropy(bins[2])
        func normalisedMI(_ hx: Double, _ x: [Int]) -> Double {
            let mi = hx + hf - jointEntropy(x, bins[2])
            return hx + hf > 0 ? mi / (hx + hf) : 0.5
        }
        return 2 * (normalisedMI(ha, bins[0]) + normalisedMI(hb, bins[1]))
    }

    /// Q_Y (Yang et al. 2008), SSIM-based: per 7×7 Gaussian window (σ 1.5, valid region), where
    /// SSIM(A, B) ≥ 0.75 the variance-weighted mean λ·SSIM(A,F) + (1−λ)·SSIM(B,F), λ = σ²_A/(σ²_A+σ²_B),
    /// elsewhere max(SSIM(A,F), SSIM(B,F)); averaged over windows.
    public static func qy(_ a: Image, _ b: Image, fused: Image, peak: Double? = nil) -> Double {
        let g = grey([a, b, fused], peak: peak)
        let ab = ssimMap(g[0], g[1], window: 7, sigma: 1.5)
        let af = ssimMap(g[0], g[2], window: 7, sigma: 1.5)
        let bf = ssimMap(g[1], g[2], window: 7, sigma: 1.5)
        var sum = 0.0
        for i in 0..<ab.map.count {
            if ab.map[i] >= 0.75 {
                let va = af.varianceA[i], vb = bf.varianceA[i]
                let λ = va + vb > 0 ? va / (va + vb) : 0.5
                sum += λ * af.map[i] + (1 - λ) * bf.map[i]
            } else {
                sum += max(af.map[i], bf.map[i])
            }
        }
        return sum / Double(ab.map.count)
    }
}
