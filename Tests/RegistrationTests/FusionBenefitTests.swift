import Foundation
import Simulation
import Testing
import Imaging
@testable import Registration

/// Fusing a misaligned stack with alignment on must beat fusing it as read, measured by PSNR
/// against the sharp original seen from the reference slice.
@Suite struct FusionBenefitTests {
    @Test func alignmentImprovesFusedPSNR() throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 896, height: 896))
        var configuration = SyntheticFocusStack.Configuration(sliceCount: 9, width: 256, height: 256)
        configuration.maximumBlur = 3
        configuration.noise = 1
        configuration.baseScale = 2
        let stack = try materialise(SyntheticFocusStack(base: base, configuration: configuration))
        var sharpConfiguration = configuration
        sharpConfiguration.maximumBlur = 0
        sharpConfiguration.noise = 0
        let sharp = try SyntheticFocusStack(base: base, configuration: sharpConfiguration).slice(at: configuration.sliceCount / 2)

        // Scored on the area every slice covers (the padded border holds a neighbouring plane).
        let alignment = try Aligner(options: AlignmentOptions(keepSize: false)).align(stack)
        let crop = alignment.crop
        let aligned = try fuseByLaplacianEnergy(AlignedStack(stack, alignment: alignment))
        let unaligned = TestData.crop(try fuseByLaplacianEnergy(stack), crop)
        let truth = TestData.crop(sharp, crop)
        let on = psnr(aligned, truth), off = psnr(unaligned, truth)
        #expect(on >= off + 3, "PSNR aligned \(on) dB, unaligned \(off) dB")
        #expect(on >= 30, "PSNR aligned \(on) dB")
    }
}

/// Per pixel, the slice with the largest local Laplacian energy (7×7 box of the squared
/// 4-neighbour Laplacian of the first channel); every channel is taken from that slice.
func fuseByLaplacianEnergy(_ stack: any SliceSource) throws -> Image {
    let w = stack.geometry.width, h = stack.geometry.height
    var best = [Float](repeating: -1, count: w * h)
    var fused = Image(width: w, height: h, channels: stack.geometry.channels)
    for index in 0..<stack.count {
        let slice = try stack.slice(at: index)
        var laplacian = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let c = slice[x, y, 0]
                let l = slice[max(x - 1, 0), y, 0] + slice[min(x + 1, w - 1), y, 0]
                    + slice[x, max(y - 1, 0), 0] + slice[x, min(y + 1, h - 1), 0] - 4 * c
                laplacian[y * w + x] = l * l
            }
        }
        let energy = boxMean(laplacian, width: w, height: h, radius: 3)
        for y in 0..<h {
            for x in 0..<w where energy[y * w + x] > best[y * w + x] {
                best[y * w + x] = energy[y * w + x]
                for c in 0..<slice.channels { fused[x, y, c] = slice[x, y, c] }
            }
        }
    }
    return fused
}

func boxMean(_ values: [Float], width w: Int, height h: Int, radius r: Int) -> [Float] {
    var rows = [Float](repeating: 0, count: w * h), out = rows
    for y in 0..<h {
        for x in 0..<w {
            var s: Float = 0
            for k in -r...r { s += values[y * w + min(max(x + k, 0), w - 1)] }
            rows[y * w + x] = s
        }
    }
    for y in 0..<h {
        for x in 0..<w {
            var s: Float = 0
            for k in -r...r { s += rows[min(max(y + k, 0), h - 1) * w + x] }
            out[y * w + x] = s / Float((2 * r + 1) * (2 * r + 1))
        }
    }
    return out
}

/// PSNR in dB for 8-bit data (peak 255).
func psnr(_ a: Image, _ b: Image) -> Double {
    var squared = 0.0
    for (p, q) in zip(a.pixels, b.pixels) { squared += Double(p - q) * Double(p - q) }
    let mse = squared / Double(a.pixels.count)
    return 10 * log10(255 * 255 / max(mse, 1e-12))
}

extension TestData {
    /// The `[x, y, w, h]` region of `image`.
    static func crop(_ image: Image, _ rect: [Int]) -> Image {
        var out = Image(width: rect[2], height: rect[3], channels: image.channels)
        for c in 0..<image.channels {
            for y in 0..<rect[3] {
                for x in 0..<rect[2] { out[x, y, c] = image[rect[0] + x, rect[1] + y, c] }
            }
        }
        return out
    }
}
