import CThreads
import Foundation
import SystemCalls
#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread that runs one closure and is joined by its owner.
///
/// Why not `Foundation.Thread`: a `Thread`'s closure, and everything it captured (a journal's
/// GRDB queue, say), is released by the thread-exit destructor of that thread, at a moment nobody
/// waits for. When the main thread has already returned and the process is in `exit()`, that
/// release races with exit's own teardown — observed as `double free or corruption` in
/// `DatabaseQueue.deinit` after `focusd reprocess` had printed its summary. Here the closure is
/// released inside the thread function, before the thread ends, and `join` waits for that end,
/// so after `join` returns nothing of the body is left on the thread.
final class JoinableThread: @unchecked Sendable {
    /// What the thread runs; owned by the thread function from start to its last line.
    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        let finished: FinishFlag
        init(name: String, run: @escaping @Sendable () -> Void, finished: FinishFlag) {
            self.name = name
            self.run = run
            self.finished = finished
        }
    }

    /// Set by the thread after it has released its body; owners wait on it with a timeout.
    private final class FinishFlag: @unchecked Sendable {
        private let condition = NSCondition()
        private var done = false

        func set() {
            condition.lock()
            done = true
            condition.broadcast()
            condition.unlock()
        }

        /// `nil`: no deadline. (`NSCondition.wait(until: .distantFuture)` traps on Linux: the date
        /// overflows the `timespec` it is converted to.)
        func wait(until deadline: Date?) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while !done {
                if let deadline {
                    if !condition.wait(until: deadline) { return done }
                } else {
                    condition.wait()
                }
            }
            return true
        }
    }

    let name: String
    private let handle: pthread_t
    private let finished: FinishFlag
    private let lock = NSLock()
    private var joined = false

    /// Starts `body` on a new thread named `name` (truncated to Linux's 15 characters).
    /// - Precondition: the thread can be created (fails only when the process is out of threads or memory).
    init(name: String, stackSize: Int = 16 << 20, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        let finished = FinishFlag()
        self.finished = finished
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        let context = Unmanaged.passRetained(Body(name: name, run: body, finished: finished)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            var finished: FinishFlag?
            do {
                // The body (and all it captured) is released at the end of this scope, on this
                // thread, before the thread ends.
                let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
                _ = focusd_name_current_thread(String(decoding: body.name.utf8.prefix(15), as: UTF8.self))
                finished = body.finished
                body.run()
            }
            finished?.set()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            preconditionFailure("cannot start thread \(name): \(SystemCallError.reason(status))")
        }
        handle = thread
    }

    /// Waits until the thread has ended. Calling it again does nothing.
    func join() {
        _ = join(before: nil)
    }

    /// Waits until the thread has ended or `deadline` (if any) passes; `true` when it has ended (and
    /// is joined). A thread still running at the deadline is left running.
    func join(before deadline: Date?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if joined { return true }
        guard finished.wait(until: deadline) else { return false }
        pthread_join(handle, nil)
        joined = true
        return true
    }

    deinit {
        // An owner that never joined (a thread abandoned in a long fusion) lets it end on its own.
        if !joined { pthread_detach(handle) }
    }
}
