import Foundation
import Imaging
import Testing
@testable import Fusion

@Suite struct FusionMetricsTests {
    /// Q_AB/F's value where every edge is preserved exactly: Γg/(1+e^{κg(1−σg)}) · Γα/(1+e^{κα(1−σα)}).
    static let perfectQABF = 0.9994 / (1 + exp(-15 * 0.5)) * 0.9879 / (1 + exp(-22 * 0.2))

    @Test func identicalImagesScoreTheirMaximum() {
        let a = Synthetic.texture(width: 40, height: 36)
        #expect(abs(FusionMetrics.qabf(a, a, fused: a) - Self.perfectQABF) < 1e-9)
        #expect(abs(FusionMetrics.qcb(a, a, fused: a) - 1) < 1e-12)
        #expect(abs(FusionMetrics.qy(a, a, fused: a) - 1) < 1e-9)
        #expect(abs(FusionMetrics.qmi(a, a, fused: a) - 2) < 1e-9)
        #expect(abs(FusionMetrics.ssim(a, reference: a) - 1) < 1e-9)
        #expect(FusionMetrics.psnr(a, reference: a, peak: 255) == .infinity)
    }

    @Test func fusedEqualToTheOnlyTexturedSourceKeepsEveryEdge() {
        let a = Synthetic.texture(width: 40, height: 36)
        // B is black, so (with the zero-padded Sobel) it has no edges: only A's edges count, and F keeps them all.
        let flat = Image(width: 40, height: 36, channels: 1, repeating: 0)
        #expect(abs(FusionMetrics.qabf(a, flat, fused: a) - Self.perfectQABF) < 1e-9)
        // A flat fused image keeps none of them.
        #expect(FusionMetrics.qabf(a, flat, fused: flat) < 1e-3)
    }

    @Test func tinyHandComputedExamples() {
        // 2×2: A = [0 0; 255 255], B = [0 255; 0 255], F = A. H(A) = H(B) = H(F) = 1 bit,
        // MI(A, F) = 1, MI(B, F) = 0 → Q_MI = 2·(1/2 + 0/2) = 1.
        let a = Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 255, 255])
        let b = Image(width: 2, height: 2, channels: 1, pixels: [0, 255, 0, 255])
        #expect(abs(FusionMetrics.qmi(a, b, fused: a) - 1) < 1e-12)
        // PSNR: one of four pixels off by 10 → MSE 25 → 10·log10(255²/25) = 34.151 dB.
        let x = Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0, 0])
        let y = Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0, 10])
        #expect(abs(FusionMetrics.psnr(x, reference: y, peak: 255) - 10 * log10(65025.0 / 25)) < 1e-9)
        // Sobel of a 3×3 image with a vertical step (zero padding): centre gx = 4·255, gy = 0.
        let step = Image(width: 3, height: 3, channels: 1, pixels: [0, 0, 255, 0, 0, 255, 0, 0, 255])
        let edges = FusionMetrics.sobel(FusionMetrics.grey([step], peak: 255)[0])
        #expect(abs(edges.strength[4] - 1020) < 1e-9 && edges.angle[4] == 0)
    }

    @Test func valueScaleDoesNotChangeTheScores() {
        let (_, a, b) = Synthetic.halfBlurredPair(width: 48, height: 40)
        let fused = Synthetic.average(a, b)
        func scaled(_ image: Image, _ factor: Float) -> Image {
            Image(width: image.width, height: image.height, channels: 1, pixels: image.pixels.map { $0 * factor })
        }
        let k: Float = 65535.0 / 255.0
        let pairs: [((Image, Image, Image) -> Double, String)] = [
            ({ FusionMetrics.qabf($0, $1, fused: $2) }, "qabf"), ({ FusionMetrics.qcb($0, $1, fused: $2) }, "qcb"),
            ({ FusionMetrics.qmi($0, $1, fused: $2) }, "qmi"), ({ FusionMetrics.qy($0, $1, fused: $2) }, "qy"),
        ]
        for (metric, name) in pairs {
            let eight = metric(a, b, fused), sixteen = metric(scaled(a, k), scaled(b, k), scaled(fused, k))
            #expect(abs(eight - sixteen) < 1e-3, "\(name): \(eight) vs \(sixteen)")
            #expect(abs(metric(a, b, fused) - metric(b, a, fused)) < 1e-12, "\(name) must be symmetric in the sources")
        }
    }

    @Test func inFocusSelectionBeatsAverageBeatsBlurringBoth() {
        let (original, a, b) = Synthetic.halfBlurredPair(width: 64, height: 64, sigma: 2, grain: 1.5)
        let average = Synthetic.average(a, b)
        // Blurring both sources, then averaging (= the average, blurred).
        let blurBoth = Synthetic.average(Synthetic.blurred(a, sigma: 2), Synthetic.blurred(b, sigma: 2))
        let metrics: [(String, (Image) -> Double)] = [
            ("Q_AB/F", { FusionMetrics.qabf(a, b, fused: $0) }), ("Q_MI", { FusionMetrics.qmi(a, b, fused: $0) }),
            ("Q_CB", { FusionMetrics.qcb(a, b, fused: $0) }), ("Q_Y", { FusionMetrics.qy(a, b, fused: $0) }),
            ("SSIM", { FusionMetrics.ssim($0, reference: original) }),
            ("PSNR", { FusionMetrics.psnr($0, reference: original, peak: 255) }),
        ]
        for (name, metric) in metrics {
            let best = metric(original), middle = metric(average), worst = metric(blurBoth)
            #expect(best > middle && middle > worst, "\(name): selection \(best), average \(middle), blur both \(worst)")
        }
    }
}
