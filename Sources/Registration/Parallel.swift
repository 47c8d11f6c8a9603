import Dispatch

/// A raw pointer shared by the workers of one `concurrentPerform`, each writing a disjoint part.
///
/// Safe only under that discipline; the owner keeps the memory alive for the whole call.
public struct SharedPointer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public init(base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// A read-only raw pointer shared by the workers of one `concurrentPerform`.
public struct SharedReadPointer<Element>: @unchecked Sendable {
    public let base: UnsafePointer<Element>
    public init(base: UnsafePointer<Element>) { self.base = base }
}

public enum Parallel {
    /// Runs `body(chunk)` for `chunk` in `0..<chunks`, concurrently when `chunks > 1`.
    ///
    /// Reductions stay deterministic when callers combine per-chunk partial results in chunk
    /// order: the chunk boundaries depend only on the problem size, never on the core count.
    public static func run(chunks: Int, _ body: @Sendable (Int) -> Void) {
        if chunks <= 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// The `chunk`-th of `chunks` near-equal parts of `0..<total`.
    public static func range(chunk: Int, of chunks: Int, total: Int) -> Range<Int> {
        let lower = total * chunk / chunks
        let upper = total * (chunk + 1) / chunks
        return lower..<upper
    }

    /// A chunk count for `rows` rows of `rowCost` work each: about 64k units per chunk, at most 16.
    public static func chunkCount(rows: Int, rowCost: Int) -> Int {
        let work = rows * max(rowCost, 1)
        return max(1, min(16, min(rows, work / 65_536)))
    }
}
