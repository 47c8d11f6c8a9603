import ServiceLifecycle

/// systemd's watchdog clock as a `Service`: every `interval` it reports a `.watchdogTick` with the
/// intake's heartbeat; `DaemonLifecycle` decides whether to ping (a stuck intake stops the pings,
/// so systemd restarts the unit). Runs until the group shuts it down — after the coordinator, so
/// the pings go on while a shutdown waits for running jobs.
struct WatchdogService: Service {
    let interval: Duration
    let control: ServiceControl
    let monotonic: @Sendable () -> Double
    let events: AsyncStream<DaemonLifecycle.Event>.Continuation

    func run() async {
        let (interval, control, monotonic, events) = (self.interval, self.control, self.monotonic, self.events)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                events.yield(.watchdogTick(now: monotonic(), intakeDone: control.intakeDone,
                                           secondsSinceIntakeBeat: control.secondsSinceIntakeBeat))
            }
        }
    }
}
