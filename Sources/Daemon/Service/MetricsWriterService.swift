import ServiceLifecycle

/// Writes the metrics file (if its interval has passed) each time the coordinator asks, as a
/// `Service`, so file writes stay off the coordination loop. Ends when the coordinator is done.
struct MetricsWriterService: Service {
    let sink: MetricsSink?
    let journal: Journal
    let requests: AsyncStream<Void>

    func run() async {
        for await _ in requests { sink?.writeIfDue(journal: journal) }
    }
}
