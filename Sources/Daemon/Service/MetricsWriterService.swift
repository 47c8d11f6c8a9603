import ServiceLifecycle

/// Writes the metrics file (if its interval has passed) each time the coordinator asks, as a
/// `Service`, so file writes stay off the coordination loop. Ends when the group shuts it down
/// (after the coordinator; the daemon writes the file once more after the group).
struct MetricsWriterService: Service {
    let sink: MetricsSink?
    let journal: Journal
    let requests: AsyncStream<Void>
    /// Ends `requests`.
    let stop: @Sendable () -> Void

    func run() async {
        let (sink, journal, requests) = (self.sink, self.journal, self.requests)
        await withGracefulShutdownHandler {
            for await _ in requests { sink?.writeIfDue(journal: journal) }
        } onGracefulShutdown: { [stop] in
            stop()
        }
    }
}
