import Foundation
import Imaging

/// The FFT frame around a `width × height` image: `pad` pixels of the image's mirror image on every
/// side (the light from beyond the field of view), rounded up to sizes FFTW handles fast, and the
/// Gaussian blurs on it. One frame serves every model and depth fit of a refinement.
///
/// Forward blurs mirror-pad (`padded`), multiply by a transfer function and crop (`unpadded`); their
/// transposes zero-pad (`zeroPadded`, the crop's transpose), multiply and fold the reflections back
/// (`folded`, the mirror padding's transpose). Blur wider than `pad` wraps around the frame.
struct PaddedFrame: Sendable {
    let width: Int
    let height: Int
    let pad: Int
    let fourier: RealFourier2D
    /// Per frame column and row: the image column and row it mirrors (the frame wraps, so
    /// positions right of the image mirror its right edge and those left of it its left edge).
    let sourceX: [Int32]
    let sourceY: [Int32]
    /// |f|² per spectrum bin, f in cycles per pixel.
    let frequency2: [Double]

    init(width: Int, height: Int, pad: Int = 32) {
        self.width = width
        self.height = height
        self.pad = pad
        let fourier = RealFourier2D(width: RealFourier2D.goodSize(atLeast: width + 2 * pad),
                                    height: RealFourier2D.goodSize(atLeast: height + 2 * pad))
        self.fourier = fourier
        sourceX = (0..<fourier.width).map { Int32(PlaneBlur.reflect($0 - pad, width)) }
        sourceY = (0..<fourier.height).map { Int32(PlaneBlur.reflect($0 - pad, height)) }
        let fw = fourier.width, fh = fourier.height, cols = fw / 2 + 1
        var f2 = [Double](repeating: 0, count: fourier.bins)
        for y in 0..<fh {
            let fy = Double(y <= fh / 2 ? y : y - fh) / Double(fh)
            for x in 0..<cols {
                let fx = Double(x) / Double(fw)
                f2[y * cols + x] = fx * fx + fy * fy
            }
        }
        frequency2 = f2
    }

    /// Gaussian transfer functions `exp(−2π²σ²|f|²)` for σ = `growth · step · i`, i in `0..<levels`,
    /// with, per function and spectrum row, how many leading bins exceed `Transfer.floor` (the
    /// function falls along each row, so the rest are dropped: a wide blur touches few bins).
    struct Transfer: Sendable {
        static let floor: Float = 1e-9
        let values: [[Float]]
        /// `reach[i][y]`: bins of row `y` (from column 0) where `values[i]` is at least `floor`.
        let reach: [[Int32]]
        let columns: Int
        var count: Int { values.count }
    }

    func transferTable(growth: Double, levels: Int, step: Double) -> Transfer {
        let cols = fourier.width / 2 + 1
        var values: [[Float]] = [], reach: [[Int32]] = []
        for i in 0..<levels {
            let sigma = growth * step * Double(i)
            let c = -2 * Double.pi * Double.pi * sigma * sigma
            let row = frequency2.map { Float(exp(c * $0)) }
            values.append(row)
            reach.append((0..<fourier.height).map { y in
                var n = 0
                while n < cols && row[y * cols + n] >= Transfer.floor { n += 1 }
                return Int32(n)
            })
        }
        return Transfer(values: values, reach: reach, columns: cols)
    }

    func padded(_ image: [Double]) -> [Double] {
        let fw = fourier.width
        var out = [Double](repeating: 0, count: fw * fourier.height)
        for y in 0..<fourier.height {
            let src = Int(sourceY[y]) * width, dst = y * fw
            for x in 0..<fw { out[dst + x] = image[src + Int(sourceX[x])] }
        }
        return out
    }

    func folded(_ frame: [Double]) -> [Double] {
        let fw = fourier.width
        var out = [Double](repeating: 0, count: width * height)
        for y in 0..<fourier.height {
            let dst = Int(sourceY[y]) * width, src = y * fw
            for x in 0..<fw { out[dst + Int(sourceX[x])] += frame[src + x] }
        }
        return out
    }

    func zeroPadded(_ image: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: fourier.width * fourier.height)
        for y in 0..<height {
            let src = y * width, dst = (y + pad) * fourier.width + pad
            for x in 0..<width { out[dst + x] = image[src + x] }
        }
        return out
    }

    func unpadded(_ frame: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: width * height)
        for y in 0..<height {
            let src = (y + pad) * fourier.width + pad, dst = y * width
            for x in 0..<width { out[dst + x] = frame[src + x] }
        }
        return out
    }

    /// `spectrum · transfer.values[i]` (complex times real), accumulated into `sum`, over the bins
    /// where the transfer function is above its floor.
    @inline(__always) static func accumulate(_ sum: inout [Double], _ spectrum: [Double], _ transfer: Transfer, _ i: Int) {
        let cols = transfer.columns
        sum.withUnsafeMutableBytes { sBytes in
            spectrum.withUnsafeBytes { aBytes in
                transfer.values[i].withUnsafeBufferPointer { t in
                    transfer.reach[i].withUnsafeBufferPointer { reach in
                        // One complex bin as one two-lane vector.
                        let s = sBytes.baseAddress!.assumingMemoryBound(to: SIMD2<Double>.self)
                        let a = aBytes.baseAddress!.assumingMemoryBound(to: SIMD2<Double>.self)
                        for y in 0..<reach.count {
                            let start = y * cols
                            for b in start..<(start + Int(reach[y])) { s[b] += Double(t[b]) * a[b] }
                        }
                    }
                }
            }
        }
    }

    /// The image whose padded frame's spectrum is `spectrum`, blurred by `transfer.values[i]`, cropped.
    func blurred(spectrum: [Double], transfer: Transfer, _ i: Int) -> [Double] {
        var product = [Double](repeating: 0, count: spectrum.count)
        Self.accumulate(&product, spectrum, transfer, i)
        return unpadded(fourier.inverse(product))
    }
}
