import Foundation
import Imaging

extension FusionMetrics {
    /// Q_CB (Chen & Blum 2009), as in Liu et al.'s toolbox: each image is filtered by the
    /// contrast-sensitivity function S(r) = e^{−(r/f0)²} − a·e^{−(r/f1)²} (f0 15.3870, f1 1.3456,
    /// a 0.7622; r = √(kx² + ky²)/15 for centred DFT indices kx, ky, applied circularly as in the
    /// FFT original); local contrast C = (G₂ * I)/(G₄ * I) − 1 with 31×31 Gaussians σ 2 and 4
    /// (zero-padded), C' = |C|³/(|C|² + 10⁻⁴); per pixel the contrast-preservation ratios of A and B
    /// in F, weighted by the saliencies C'²_A/(C'²_A + C'²_B); averaged over the image.
    public static func qcb(_ a: Image, _ b: Image, fused: Image, peak: Double? = nil) -> Double {
        let g = grey([a, b, fused], peak: peak)
        let contrasts = g.map { contrastResponse(csfFiltered($0)) }
        let ca = contrasts[0], cb = contrasts[1], cf = contrasts[2]
        func preservation(_ x: Double, _ f: Double) -> Double {
            if x == f { return 1 }
            return x < f ? x / f : f / x
        }
        var sum = 0.0
        for i in 0..<ca.count {
            let sa = ca[i] * ca[i], sb = cb[i] * cb[i]
            let λ = sa + sb > 0 ? sa / (sa + sb) : 0.5
            sum += λ * preservation(ca[i], cf[i]) + (1 - λ) * preservation(cb[i], cf[i])
        }
        return sum / Double(ca.count)
    }

    /// C' = |C|³/(|C|² + Z) with C = (G₂ * I)/(G₄ * I) − 1.
    static func contrastResponse(_ image: Grey) -> [Double] {
        func gaussian(_ sigma: Double) -> [Double] {
            (-15...15).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) / ((2 * Double.pi).squareRoot() * sigma) }
        }
        let fine = filter(image, gaussian(2), valid: false), coarse = filter(image, gaussian(4), valid: false)
        return (0..<fine.values.count).map { i in
            let denominator = coarse.values[i]
            let c = denominator != 0 ? abs(fine.values[i] / denominator - 1) : 0
            return c * c * c / (c * c + 0.0001)
        }
    }

    /// The CSF filter, exactly the original's DFT-domain product: F⁻¹[F[I] · S(kx, ky)] with
    /// S = e^{−(r/f0)²} − a·e^{−(r/f1)²}, r = √(kx² + ky²)/15 at centred frequency indices.
    static func csfFiltered(_ image: Grey) -> Grey {
        let f0 = 15.3870, f1 = 1.3456, a = 0.7622
        let w = image.width, h = image.height
        let rows = FourierTransform(length: w), columns = FourierTransform(length: h)
        func centred(_ j: Int, _ n: Int) -> Double { Double(j <= n - 1 - n / 2 ? j : j - n) / 15 }
        var re = image.values, im = [Double](repeating: 0, count: w * h)
        func pass(inverse: Bool) {
            for y in 0..<h {
                let t = rows.transform(real: Array(re[(y * w)..<((y + 1) * w)]),
                                       imaginary: Array(im[(y * w)..<((y + 1) * w)]), inverse: inverse)
                re.replaceSubrange((y * w)..<((y + 1) * w), with: t.real)
                im.replaceSubrange((y * w)..<((y + 1) * w), with: t.imaginary)
            }
            for x in 0..<w {
                let t = columns.transform(real: (0..<h).map { re[$0 * w + x] }, imaginary: (0..<h).map { im[$0 * w + x] },
                                          inverse: inverse)
                for y in 0..<h { re[y * w + x] = t.real[y]; im[y * w + x] = t.imaginary[y] }
            }
        }
        pass(inverse: false)
        for y in 0..<h {
            let v = centred(y, h)
            for x in 0..<w {
                let u = centred(x, w)
                let r2 = u * u + v * v
                let s = exp(-r2 / (f0 * f0)) - a * exp(-r2 / (f1 * f1))
                re[y * w + x] *= s
                im[y * w + x] *= s
            }
        }
        pass(inverse: true)
        return Grey(width: w, height: h, values: re)
    }
}
