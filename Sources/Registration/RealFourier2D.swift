import CFFTW
import Foundation

/// Real two-dimensional discrete Fourier transforms of one size, through FFTW (double precision).
///
/// The spectrum of a `height × width` real image is `height × (width/2 + 1)` complex values,
/// interleaved (re, im), row-major. `inverse` divides by `width · height`, so
/// `inverse(forward(x)) == x` up to rounding. Plans are made once per size with `FFTW_ESTIMATE`
/// (no timing runs, so the same plan — and the same bits — every run) on buffers from
/// `fftw_malloc`, and executed with FFTW's new-array calls on such buffers (aligned as the plan
/// was, so FFTW's SIMD code applies; Swift arrays carry no such guarantee and are copied in and
/// out), which is safe from several threads at once; only the planner is not, so making and
/// destroying plans is serialised by one lock.
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
        let flags = UInt32(FFTW_ESTIMATE)
        Self.planner.lock()
        defer { Self.planner.unlock() }
        let real = fftw_alloc_real(width * height)!, spectrum = fftw_alloc_complex(bins)!
        defer { fftw_free(real); fftw_free(spectrum) }
        forwardPlan = fftw_plan_dft_r2c_2d(Int32(height), Int32(width), real, spectrum, flags)!
        inversePlan = fftw_plan_dft_c2r_2d(Int32(height), Int32(width), spectrum, real, flags)!
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
        let input = fftw_alloc_real(real.count)!, output = fftw_alloc_complex(bins)!
        defer { fftw_free(input); fftw_free(output) }
        real.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: real.count) }
        fftw_execute_dft_r2c(forwardPlan, input, output)
        return UnsafeRawPointer(output).withMemoryRebound(to: Double.self, capacity: 2 * bins) {
            Array(UnsafeBufferPointer(start: $0, count: 2 * bins))
        }
    }

    /// The real image whose spectrum is `spectrum` (Hermitian half), divided by `width · height`.
    func inverse(_ spectrum: [Double]) -> [Double] {
        precondition(spectrum.count == 2 * bins)
        // FFTW's complex-to-real transform overwrites its input, so it gets a copy.
        let input = fftw_alloc_complex(bins)!, output = fftw_alloc_real(width * height)!
        defer { fftw_free(input); fftw_free(output) }
        spectrum.withUnsafeBytes { UnsafeMutableRawPointer(input).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        fftw_execute_dft_c2r(inversePlan, input, output)
        let scale = 1 / Double(width * height)
        return (0..<(width * height)).map { output[$0] * scale }
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
