import Foundation
import ServiceLifecycle

/// Blocking loops (the intake's, the workers') on threads of their own, as a `Service`: `run()`
/// starts one thread per name and returns when the group shuts the service down (or is cancelled).
/// The threads report their own end as lifecycle events; the daemon joins them after the group, so a
/// worker stuck past the shutdown timeout never holds up the exit.
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
        // Ends when the group shuts this service down, in its turn: a service of the group that ends
        // while another one is being shut down is, to ServiceLifecycle, one that "finished
        // unexpectedly" — an error logged on every clean stop, and the rest of the group cancelled.
        await withGracefulShutdownHandler {
            for await _ in released {}
        } onGracefulShutdown: { [releasing] in
            releasing.finish()
        }
    }

    /// Returns once `run()` has started the threads (or the waiting task is cancelled). One waiter.
    func waitUntilStarted() async {
        for await _ in startedSignal {}
    }

    /// The threads `run()` started.
    var threads: [JoinableThread] {
        lock.withLock { started }
    }
}
