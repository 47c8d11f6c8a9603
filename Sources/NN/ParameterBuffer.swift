/// All of a network's parameters in one flat Float32 buffer, and their gradients in another of the
/// same layout, so the optimiser is one loop and a checkpoint is one write.
///
/// Each named entry (a PyTorch `state_dict` key) is a contiguous range `offset ..< offset + count`.
public final class ParameterBuffer: @unchecked Sendable {
    /// One named parameter tensor inside the flat buffers.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    public private(set) var count = 0
    /// Parameter values (valid after ``allocate()``).
    public private(set) var values = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    /// Gradients, same layout; backward passes add into them.
    public private(set) var gradients = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    public init() {}

    deinit {
        values.deallocate()
        gradients.deallocate()
    }

    /// Declares a parameter and returns its offset. Only before ``allocate()``.
    @discardableResult
    public func declare(_ name: String, shape: [Int]) -> Int {
        precondition(values.baseAddress == nil, "declare parameters before allocating")
        precondition(index[name] == nil, "parameter \(name) declared twice")
        let entry = Entry(name: name, shape: shape, offset: count)
        index[name] = entries.count
        entries.append(entry)
        count += entry.count
        return entry.offset
    }

    /// Allocates the zero-filled value and gradient buffers.
    public func allocate() {
        precondition(values.baseAddress == nil, "already allocated")
        values = .allocate(capacity: max(1, count))
        values.initialize(repeating: 0)
        gradients = .allocate(capacity: max(1, count))
        gradients.initialize(repeating: 0)
    }

    /// The entry named `name`, if declared.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// Pointer to the values of the parameter at `offset`.
    @inline(__always) public func value(_ offset: Int) -> UnsafeMutablePointer<Float> { values.baseAddress! + offset }
    /// Pointer to the gradient of the parameter at `offset`.
    @inline(__always) public func gradient(_ offset: Int) -> UnsafeMutablePointer<Float> { gradients.baseAddress! + offset }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        gradients.update(repeating: 0)
    }

    /// The parameters as `(name, shape, values)` in declaration order.
    public func stateDict() -> [(name: String, shape: [Int], values: [Float])] {
        entries.map { entry in
            (entry.name, entry.shape, Array(values[entry.offset..<entry.offset + entry.count]))
        }
    }

    /// Loads every parameter from a safetensors file: the key sets must match exactly and every
    /// shape must agree. Throws ``SafeTensorsError`` naming the key and both shapes otherwise.
    public func load(from file: SafeTensorsFile) throws(SafeTensorsError) {
        let declared = Set(entries.map(\.name))
        for entry in entries where file.entry(entry.name) == nil {
            throw .missingKey(key: entry.name, expectedShape: entry.shape)
        }
        for name in file.tensorNames where !declared.contains(name) {
            throw .unexpectedKey(key: name, shape: file.entry(name)?.shape ?? [])
        }
        for entry in entries {
            let floats = try file.floats(entry.name, expectedShape: entry.shape)
            floats.withUnsafeBufferPointer { source in
                (values.baseAddress! + entry.offset).update(from: source.baseAddress!, count: entry.count)
            }
        }
    }
}
