/// A planar [C, H, W] float32 image in [−1, 1], the form the trainer works in.
public struct TrainingImage: Sendable, Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public var pixels: [Float]

    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        precondition(pixels.count == channels * height * width, "pixels must be [C, H, W]")
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// The `size`×`size` window at (x, y).
    func crop(x: Int, y: Int, size: Int) -> [Float] {
        var out = [Float](repeating: 0, count: channels * size * size)
        for c in 0..<channels {
            for row in 0..<size {
                let src = c * height * width + (y + row) * width + x
                let dst = c * size * size + row * size
                for col in 0..<size { out[dst + col] = pixels[src + col] }
            }
        }
        return out
    }
}

/// A labelled pair: two sources and the all-in-focus ground truth, one geometry.
public struct TrainingTriplet: Sendable, Equatable {
    public var source1: TrainingImage
    public var source2: TrainingImage
    public var groundTruth: TrainingImage

    public init(source1: TrainingImage, source2: TrainingImage, groundTruth: TrainingImage) {
        precondition(source1.width == source2.width && source1.width == groundTruth.width
                     && source1.height == source2.height && source1.height == groundTruth.height
                     && source1.channels == source2.channels && source1.channels == groundTruth.channels,
                     "a triplet's images share one geometry")
        self.source1 = source1
        self.source2 = source2
        self.groundTruth = groundTruth
    }
}

/// Everything a training run draws from: labelled triplets and sharp images for synthetic pairs.
/// The order of both lists is part of the run's determinism (load them in a sorted order).
public struct TrainingData: Sendable {
    public var triplets: [TrainingTriplet]
    public var sharpImages: [TrainingImage]

    public init(triplets: [TrainingTriplet], sharpImages: [TrainingImage]) {
        self.triplets = triplets
        self.sharpImages = sharpImages
    }

    public var isEmpty: Bool { triplets.isEmpty && sharpImages.isEmpty }
}

/// Random 90° rotations and flips of a square [C, S, S] crop, and their composition.
enum Augmentation {
    /// Applies `rotations` quarter turns (counter-clockwise), then a horizontal flip if `flip`.
    static func apply(_ image: [Float], channels: Int, size: Int, rotations: Int, flip: Bool) -> [Float] {
        if rotations % 4 == 0 && !flip { return image }
        var out = [Float](repeating: 0, count: image.count)
        let n = size
        for c in 0..<channels {
            let o = c * n * n
            for y in 0..<n {
                for x in 0..<n {
                    // Source coordinate of output (x, y).
                    var sx = flip ? n - 1 - x : x, sy = y
                    for _ in 0..<(rotations % 4) { (sx, sy) = (n - 1 - sy, sx) }
                    out[o + y * n + x] = image[o + sy * n + sx]
                }
            }
        }
        return out
    }
}
