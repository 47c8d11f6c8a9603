import CBLAS
import Dispatch
import Foundation

/// The engine's thread setting, a value bound to the running task (or thread), never a
/// process-wide variable: two jobs with different `threads` run side by side without racing.
///
/// All parallelism is the engine's own: `threads` workers (`DispatchQueue.concurrentPerform`)
/// run im2col, GroupNorm and elementwise loops, and split every large GEMM into independent
/// pieces that each call `cblas_sgemm` single-threaded. OpenBLAS itself is therefore kept at one
/// thread (`openblas_set_num_threads(1)`), so exactly `threads` cores are busy and never
/// oversubscribed — a convolution band's im2col and GEMM run on the same core, back to back,
/// with the columns still in that core's cache. Run networks inside ``withThreads(_:_:)``; outside
/// it the engine uses one thread.
public enum Compute {
    @TaskLocal private static var boundThreads = 1

    /// OpenBLAS kept single-threaded, done once before the first kernel runs.
    private static let openBLASSingleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Threads used by GEMM and by the engine's parallel loops (at least 1): the count bound by
    /// the innermost ``withThreads(_:_:)`` around the caller, else 1.
    public static var threads: Int {
        _ = openBLASSingleThreaded
        return boundThreads
    }

    /// Runs `body` with `count` threads for GEMM and the parallel loops (bound to the calling
    /// task, or thread outside a task; the engine's workers see it too).
    public static func withThreads<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        precondition(count >= 1, "thread count must be at least 1")
        return try $boundThreads.withValue(count, operation: body)
    }

    /// Runs `body` with `count` threads for GEMM and the parallel loops, across its suspensions.
    public static func withThreads<R>(_ count: Int, isolation: isolated (any Actor)? = #isolation,
                                      _ body: () async throws -> R) async rethrows -> R {
        precondition(count >= 1, "thread count must be at least 1")
        return try await $boundThreads.withValue(count, operation: body, isolation: isolation)
    }

    /// Runs `body(task, worker)` for every task in `0..<count` on `threads` workers that take
    /// the next task as they finish one (dynamic scheduling); `worker` is in `0..<threads`.
    /// `workers` caps the worker count (callers that size per-worker buffers pass the count they
    /// sized for).
    public static func parallelTasks(_ count: Int, workers limit: Int? = nil, _ body: (_ task: Int, _ worker: Int) -> Void) {
        let workers = min(limit ?? threads, threads, count)
        if workers <= 1 {
            for task in 0..<count { body(task, 0) }
            return
        }
        let counter = TaskCounter()
        let bound = threads
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendableBox(value: escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                $boundThreads.withValue(bound) {
                    while let task = counter.next(below: count) { box.value(task, worker) }
                }
            }
        }
    }

    /// Runs `body` over `0..<count` split into at most `threads` contiguous ranges in parallel.
    /// Runs inline when there is one thread or the work is smaller than `minimumPerThread`.
    @inline(__always)
    static func parallelRanges(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, max(1, count / max(1, minimumPerThread)))
        if workers <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        // concurrentPerform returns only after every iteration ran, so `body` (and the pointers
        // it captures) outlives every use; the box only tells the compiler so.
        let bound = threads
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendableBox(value: escapable)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = count * worker / workers
                let end = count * (worker + 1) / workers
                if start < end { $boundThreads.withValue(bound) { box.value(start..<end) } }
            }
        }
    }

    /// Runs `body(index)` for every index in `0..<count`, spread over the threads.
    @inline(__always)
    static func parallelFor(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
        parallelRanges(count, minimumPerThread: minimumPerThread) { range in
            for index in range { body(index) }
        }
    }
}

/// A growable Float32 scratch buffer that keeps its memory between uses.
///
/// Inference passes request the sizes they need; after the first pass at a given size no call
/// allocates. The pointer stays valid until the next `reserve` that grows the buffer.
public final class ScratchBuffer: @unchecked Sendable {
    public private(set) var capacity = 0
    public private(set) var pointer: UnsafeMutablePointer<Float>

    public init(capacity: Int = 0) {
        self.capacity = max(0, capacity)
        pointer = .allocate(capacity: max(1, capacity))
    }

    deinit { pointer.deallocate() }

    /// Returns storage for at least `count` floats (contents unspecified after growth).
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }
        return pointer
    }
}

/// Numbered scratch buffers for an op sequence; slot `i` keeps its memory between passes.
public final class Workspace: @unchecked Sendable {
    private var slots: [ScratchBuffer] = []

    public init() {}

    /// Storage for at least `count` floats in slot `slot`.
    public func floats(_ count: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        while slots.count <= slot { slots.append(ScratchBuffer()) }
        return slots[slot].reserve(count)
    }

    /// Bytes currently held by all slots.
    public var bytes: Int { slots.reduce(0) { $0 + $1.capacity * MemoryLayout<Float>.size } }
}

/// Carries a non-Sendable value into a synchronous parallel loop that finishes before returning.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
}

/// A shared "next task" counter for ``Compute/parallelTasks(_:_:)``.
private final class TaskCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < count else { return nil }
        value += 1
        return value - 1
    }
}
