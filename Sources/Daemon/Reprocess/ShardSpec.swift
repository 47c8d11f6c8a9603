import Checksum

/// One of `count` disjoint parts of an archive, for running `focusd reprocess` as a job array.
///
/// Written `i/n` with a **0-based** index `i` in `0..<n` (so Slurm's `$SLURM_ARRAY_TASK_ID` of an
/// `--array=0-3` job is the index as it is). A stack belongs to shard `i/n` iff
/// `stableHash(stack id) mod n == i`, where the stack id is its path relative to the archive root and
/// `stableHash` is the first 8 bytes of the id's SHA-256 read as a big-endian integer: the same on every
/// machine and run (never Swift's randomly seeded `Hasher`). For any `n` the shards are disjoint and
/// together cover the archive.
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// - Throws: `ShardSpecError` unless `0 ≤ index < count`.
    public init(index: Int, count: Int) throws(ShardSpecError) {
        guard count >= 1 else { throw ShardSpecError(text: "\(index)/\(count)", reason: "the shard count n must be at least 1") }
        guard (0..<count).contains(index) else {
            throw ShardSpecError(text: "\(index)/\(count)", reason: "the index must be 0…\(count - 1) (0-based, like $SLURM_ARRAY_TASK_ID of --array=0-\(count - 1))")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/n`.
    /// - Throws: `ShardSpecError` for anything else or an index out of range.
    public init(parsing text: String) throws(ShardSpecError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw ShardSpecError(text: text, reason: "expected i/n with whole numbers, e.g. 0/4")
        }
        try self.init(index: i, count: n)
    }

    /// The whole archive.
    public static let all = try! ShardSpec(index: 0, count: 1)

    public var description: String { "\(index)/\(count)" }

    /// Whether the stack with this id belongs to the shard.
    public func contains(_ stackID: String) -> Bool {
        Self.shard(of: stackID, count: count) == index
    }

    /// The shard (0-based) a stack id falls in among `count`.
    public static func shard(of stackID: String, count: Int) -> Int {
        Int(stableHash(stackID) % UInt64(count))
    }

    /// The first 8 bytes of the id's SHA-256 (UTF-8), big-endian.
    public static func stableHash(_ stackID: String) -> UInt64 {
        let hex = SHA256.hex(Array(stackID.utf8))
        return UInt64(hex.prefix(16), radix: 16)!
    }
}

/// A `--shard` value that is not `i/n` with `0 ≤ i < n`.
public struct ShardSpecError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public let reason: String
    public var description: String { "--shard '\(text)': \(reason)" }
}
