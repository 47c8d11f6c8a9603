import ServiceLifecycle

/// The daemon's coordination as a `Service`: it feeds what intake, workers, the watchdog and the
/// lifecycle report into `DaemonLifecycle` and carries out the actions it returns; a graceful
/// shutdown of the group is one more event. `run()` returns when the lifecycle finishes; the group
/// then shuts the other services down, each in its turn (they end on that signal, never before, so
/// a clean stop logs no "finished unexpectedly").
struct CoordinatorService: Service {
    let events: AsyncStream<DaemonLifecycle.Event>
    let sink: AsyncStream<DaemonLifecycle.Event>.Continuation
    let lifecycle: DaemonLifecycle
    let shutdownTimeout: Double
    /// Runs first: waits for the other services to be up, then announces the daemon ready.
    let onStart: @Sendable () async -> Void
    /// Carries out every action except arming the deadline and finishing.
    let carryOut: @Sendable (DaemonLifecycle.Action) -> Void

    func run() async {
        let (events, sink, shutdownTimeout, carryOut) = (self.events, self.sink, self.shutdownTimeout, self.carryOut)
        let initial = self.lifecycle
        await onStart()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var lifecycle = initial
                loop: for await event in events {
                    for action in lifecycle.handle(event) {
                        switch action {
                        case .armShutdownDeadline:
                            group.addTask {
                                try? await Task.sleep(for: .milliseconds(Int(shutdownTimeout * 1000)))
                                sink.yield(.shutdownDeadline)
                            }
                        case .finish:
                            break loop
                        default:
                            carryOut(action)
                        }
                    }
                }
                // Workers still running here (cancelled without a graceful shutdown, or past the
                // timeout) are stopped and their jobs re-queued.
                for action in lifecycle.handle(.loopEnded) { carryOut(action) }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            sink.yield(.shutdownRequested)
        }
    }
}
