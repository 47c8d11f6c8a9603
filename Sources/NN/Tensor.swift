/// A dense Float32 tensor, row-major; images are NCHW (`values[((n·C + c)·H + y)·W + x]`).
///
/// Shape contracts between ops are preconditions: a mismatch is a programming error.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// The elements in row-major order; `values.count == shape.product`.
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { values.count }

    /// Batch, channels, height, width of a 4-D NCHW tensor.
    public var nchw: (n: Int, c: Int, h: Int, w: Int) {
        precondition(shape.count == 4, "expected an NCHW tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// The element at a multi-index.
    public subscript(index: Int...) -> Float {
        get { values[flatIndex(index)] }
        set { values[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }
}
