import CFFTW
import Foundation

/// Real two-dimensional discrete Fourier transforms of one size, through FFTW (double precision).
///
/// The spectrum of a `height × width` real image is `height × (width/2 + 1)` complex values,
/// interleaved (re, im), row-major. `inverse` divides by `width · height`, so
/// `inverse(forward(x)) == x` up to rounding. Plans are made once per size with `FFTW_ESTIMATE`
/// (no timing runs, so the same plan — and the same bits — every run) and `FFTW_UNALIGNED`, and
/// executed with FFTW's new-array calls, which are safe from several threads at once; only the
/// planner is not, so making and destroying plans is serialised by one lock.
final class RealFourier2D: @unchecked Sendable {
    let width: Int
    let height: Int
    /// Complex values per spectrum: `height × (width/2 + 1)`.
    let bins: Int
    private let forwardPlan: fftw_plan
    private let inversePlan: fftw_plan

    private static let planner = NSLock()

    init(width: Int, height: Int) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        bins = height * (width / 2 + 1)
        var real = [Double](repeating: 0, count: width * height)
        var spectrum = [Double](repeating: 0, count: 2 * bins)
        let flags = UInt32(FFTW_ESTIMATE) | UInt32(FFTW_UNALIGNED)
        Self.planner.lock()
        defer { Self.planner.unlock() }
        forwardPlan = real.withUnsafeMutableBufferPointer { r in
            spectrum.withUnsafeMutableBytes { s in
                fftw_plan_dft_r2c_2d(Int32(height), Int32(width), r.baseAddress!,
                                     s.baseAddress!.assumingMemoryBound(to: fftw_complex.self), flags)!
            }
        }
        inversePlan = real.withUnsafeMutableBufferPointer { r in
            spectrum.withUnsafeMutableBytes { s in
                fftw_plan_dft_c2r_2d(Int32(height), Int32(width),
                                     s.baseAddress!.assumingMemoryBound(to: fftw_complex.self), r.baseAddress!, flags)!
            }
        }
    }

    deinit {
        Self.planner.lock()
        fftw_destroy_plan(forwardPlan)
        fftw_destroy_plan(inversePlan)
        Self.planner.unlock()
    }

    /// The spectrum of a `height × width` real image.
    func forward(_ real: [Double]) -> [Double] {
        precondition(real.count == width * height)
        var input = real
        var spectrum = [Double](repeating: 0, count: 2 * bins)
        input.withUnsafeMutableBufferPointer { r in
            spectrum.withUnsafeMutableBytes { s in
                fftw_execute_dft_r2c(forwardPlan, r.baseAddress!, s.baseAddress!.assumingMemoryBound(to: fftw_complex.self))
            }
        }
        return spectrum
    }

    /// The real image whose spectrum is `spectrum` (Hermitian half), divided by `width · height`.
    func inverse(_ spectrum: [Double]) -> [Double] {
        precondition(spectrum.count == 2 * bins)
        var input = spectrum   // FFTW's complex-to-real transform overwrites its input
        var real = [Double](repeating: 0, count: width * height)
        input.withUnsafeMutableBytes { s in
            real.withUnsafeMutableBufferPointer { r in
                fftw_execute_dft_c2r(inversePlan, s.baseAddress!.assumingMemoryBound(to: fftw_complex.self), r.baseAddress!)
            }
        }
        let scale = 1 / Double(width * height)
        for i in real.indices { real[i] *= scale }
        return real
    }

    /// A size at least `minimum` whose only prime factors are 2, 3 and 5 (FFTW is fastest there).
    static func goodSize(atLeast minimum: Int) -> Int {
        var n = max(1, minimum)
        while true {
            var m = n
            for p in [2, 3, 5] { while m % p == 0 { m /= p } }
            if m == 1 { return n }
            n += 1
        }
    }
}
