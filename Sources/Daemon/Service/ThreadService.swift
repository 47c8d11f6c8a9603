import Foundation
import ServiceLifecycle

/// Blocking loops (the intake's, the workers') on threads of their own, as a `Service`: `run()`
/// starts one thread per name and returns when the coordinator releases them (or the group is
/// cancelled). The threads report their own end as lifecycle events; the daemon joins them after
/// the group, so a worker stuck past the shutdown timeout never holds up the exit.
final class ThreadService: Service, @unchecked Sendable {
    let names: [String]
    private let body: @Sendable () -> Void
    private let lock = NSLock()
    private var started: [JoinableThread] = []
    private let released: AsyncStream<Void>
    private let releasing: AsyncStream<Void>.Continuation
    private let startedSignal: AsyncStream<Void>
    private let starting: AsyncStream<Void>.Continuation

    init(names: [String], body: @escaping @Sendable () -> Void) {
        self.names = names
        self.body = body
        (released, releasing) = AsyncStream.makeStream(of: Void.self)
        (startedSignal, starting) = AsyncStream.makeStream(of: Void.self)
    }

    func run() async {
        let threads = names.map { JoinableThread(name: $0, body) }
        lock.withLock { started = threads }
        starting.finish()
        for await _ in released {}
    }

    /// Returns once `run()` has started the threads (or the waiting task is cancelled). One waiter.
    func waitUntilStarted() async {
        for await _ in startedSignal {}
    }

    /// Ends `run()`; the threads go on until their loops see the shutdown.
    func release() {
        releasing.finish()
    }

    /// The threads `run()` started.
    var threads: [JoinableThread] {
        lock.withLock { started }
    }
}
