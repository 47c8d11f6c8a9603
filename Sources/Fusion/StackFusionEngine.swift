import Imaging

/// The outcome of fusing a focus stack.
public struct FusionResult: Sendable {
    /// The all-in-focus image, in the stack's own value scale (0…255, 0…65535 or float) and with
    /// the stack's channel count.
    public var fused: Image
    /// One channel, `Float`: the (weighted) slice index 0…N−1 each output pixel came from.
    public var depth: Image
    /// One channel, 0…1: how decisively the pixel was taken from one slice (1 = certain).
    public var confidence: Image

    public init(fused: Image, depth: Image, confidence: Image) {
        self.fused = fused
        self.depth = depth
        self.confidence = confidence
    }
}

/// An engine that fuses a whole focus stack into one all-in-focus image.
public protocol StackFusionEngine {
    /// Fuses every slice of `stack`, reading slices one at a time (memory bounded by a few slices).
    /// - Throws: `FusionError` for inconsistent slices or a misbehaving generator, and whatever
    ///   `stack.slice(at:)` throws while decoding.
    func fuse(_ stack: any SliceSource) throws -> FusionResult
}

/// Errors raised while fusing a stack.
public enum FusionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The stack holds no slices.
    case emptyStack
    /// A slice's size or channel count differs from the stack's geometry.
    case sliceGeometryMismatch(slice: String, expected: String, actual: String)
    /// The pair generator returned an image of the wrong size or channel count.
    case generatorOutputMismatch(expected: String, actual: String)
    /// An option value cannot be used (e.g. a tile smaller than its overlap).
    case invalidOptions(String)

    public var description: String {
        switch self {
        case .emptyStack:
            "the stack has no slices; give at least one image to fuse"
        case let .sliceGeometryMismatch(slice, expected, actual):
            "\(slice) is \(actual) but the stack is \(expected); every slice of a stack must have one size and channel count (align or crop the slices first)"
        case let .generatorOutputMismatch(expected, actual):
            "the pair generator returned \(actual), expected \(expected); the model does not match this fusion setup (check its image_channels)"
        case let .invalidOptions(message):
            "invalid fusion options: \(message)"
        }
    }
}
