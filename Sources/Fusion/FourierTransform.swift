import Foundation

/// A mixed-radix discrete Fourier transform for any length (recursive Cooley–Tukey over the prime
/// factors; O(n · Σ factors)), used by the Chen–Blum metric's contrast-sensitivity filter.
struct FourierTransform {
    let length: Int
    private let cosines: [Double]
    private let sines: [Double]

    init(length: Int) {
        precondition(length >= 1)
        self.length = length
        cosines = (0..<length).map { cos(2 * Double.pi * Double($0) / Double(length)) }
        sines = (0..<length).map { sin(2 * Double.pi * Double($0) / Double(length)) }
    }

    /// X[k] = Σ x[j]·e^{∓2πi jk/n} (− forward, + inverse; the inverse is divided by n).
    func transform(real: [Double], imaginary: [Double], inverse: Bool) -> (real: [Double], imaginary: [Double]) {
        var (re, im) = recurse(real, imaginary, offset: 0, stride: 1, count: length, sign: inverse ? 1 : -1)
        if inverse {
            let scale = 1 / Double(length)
            for i in 0..<length { re[i] *= scale; im[i] *= scale }
        }
        return (re, im)
    }

    private func recurse(_ re: [Double], _ im: [Double], offset: Int, stride: Int, count n: Int, sign: Double)
        -> ([Double], [Double]) {
        if n == 1 { return ([re[offset]], [im[offset]]) }
        var p = 2
        while p * p <= n && n % p != 0 { p += 1 }
        if n % p != 0 { p = n }
        let m = n / p
        // Sub-transforms of the p decimated sequences, concatenated: part r at [r·m, (r+1)·m).
        var partRe = [Double](), partIm = [Double]()
        partRe.reserveCapacity(n)
        partIm.reserveCapacity(n)
        for r in 0..<p {
            let part = recurse(re, im, offset: offset + r * stride, stride: stride * p, count: m, sign: sign)
            partRe.append(contentsOf: part.0)
            partIm.append(contentsOf: part.1)
        }
        var outRe = [Double](repeating: 0, count: n), outIm = [Double](repeating: 0, count: n)
        // Twiddle e^{sign·2πi·r·k/n} is table entry (r·k mod n)·(length/n).
        let step = length / n
        partRe.withUnsafeBufferPointer { pr in
            partIm.withUnsafeBufferPointer { pi in
                cosines.withUnsafeBufferPointer { cs in
                    sines.withUnsafeBufferPointer { sn in
                        for k in 0..<n {
                            var sr = 0.0, si = 0.0
                            var phase = 0
                            let km = k % m
                            for r in 0..<p {
                                let c = cs[phase * step], s = sign * sn[phase * step]
                                let xr = pr[r * m + km], xi = pi[r * m + km]
                                sr += xr * c - xi * s
                                si += xr * s + xi * c
                                phase += k
                                if phase >= n { phase %= n }
                            }
                            outRe[k] = sr
                            outIm[k] = si
                        }
                    }
                }
            }
        }
        return (outRe, outIm)
    }
}
