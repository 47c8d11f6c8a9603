import Foundation
import Imaging
import Simulation
@testable import Registration

/// Shared data and helpers for the registration tests.
enum TestData {
    /// `<package root>/../shared/data`.
    static let root: String = {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static func read(_ relative: String) throws -> Image {
        try ImageFile.read(root + "/" + relative).image
    }

    /// The centre `width × height` region of `image`.
    static func centre(_ image: Image, width: Int, height: Int) -> Image {
        let x0 = (image.width - width) / 2, y0 = (image.height - height) / 2
        var out = Image(width: width, height: height, channels: image.channels)
        for c in 0..<image.channels {
            for y in 0..<height {
                for x in 0..<width { out[x, y, c] = image[x0 + x, y0 + y, c] }
            }
        }
        return out
    }

    static func grey(_ image: Image) -> Image {
        let plane = LuminancePyramid.luminance(of: image)
        return Image(width: plane.width, height: plane.height, channels: 1, pixels: plane.data)
    }

    /// The printed circuit board slice (2048×1536 RGB) the synthetic stacks are made from.
    static func circuitBoard() throws -> Image {
        try read("dev/stacks/focusstack_pcb/slice_003.jpg")
    }
}

/// Per slice (reference excluded), the largest distance between where the estimated and the true
/// matrices put the slice's four corner pixels.
func cornerErrors(_ result: AlignmentResult, truth stack: SyntheticFocusStack) -> [Double] {
    let w = Double(stack.geometry.width - 1), h = Double(stack.geometry.height - 1)
    var errors = [Double]()
    for i in 0..<stack.count where i != stack.reference {
        let truth = Affine(rows: stack.trueMatrix(i))!, estimate = Affine(rows: result.slices[i].matrix)!
        var worst = 0.0
        for (x, y) in [(0.0, 0.0), (w, 0), (0, h), (w, h)] {
            let a = truth.apply(x, y), b = estimate.apply(x, y)
            worst = max(worst, ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot())
        }
        errors.append(worst)
    }
    return errors
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

/// Renders every slice into memory (small test stacks only).
func materialise(_ stack: any SliceSource) throws -> InMemoryStack {
    InMemoryStack(slices: try (0..<stack.count).map { try stack.slice(at: $0) }, format: stack.geometry.format)
}
