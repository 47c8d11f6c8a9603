/// The daemon's coordination as a pure state machine: what its intake, workers, watchdog and the
/// service lifecycle report goes in as an `Event`; what the daemon must do comes out as `Action`s,
/// which `DaemonService` carries out. No clock, thread or file here, so every decision — when to
/// stop intake, when to give up on running jobs, when to ping systemd's watchdog, when the daemon
/// is done — is unit-tested without a process.
public struct DaemonLifecycle: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// A worker's loop ended (the queue drained in `--once` mode, or a shutdown).
        case workerExited
        /// The intake's loop ended.
        case intakeExited
        /// The watcher failed; the message says why.
        case intakeFailed(String)
        /// SIGTERM/SIGINT through the service group.
        case shutdownRequested
        /// The shutdown timeout ran out.
        case shutdownDeadline
        /// A job started or finished, or intake queued work; `now` in monotonic seconds.
        case statusChanged(now: Double)
        /// The watchdog's interval passed: whether intake is done and how long since its last beat.
        case watchdogTick(now: Double, intakeDone: Bool, secondsSinceIntakeBeat: Double)
        /// The event stream ended (the service was cancelled, or the loop finished).
        case loopEnded
    }

    public enum Action: Sendable, Equatable {
        /// Stop intake and let workers finish their job and return.
        case stopIntakeAndWorkers
        /// Log that the watcher failed (and why).
        case reportWatcherFailure(String)
        /// Tell systemd `STOPPING=1` and log that the daemon waits for running jobs.
        case announceShutdown
        /// Deliver `.shutdownDeadline` after the shutdown timeout.
        case armShutdownDeadline
        /// Mark running jobs abandoned and re-queue them in the journal; `report` logs which.
        case requeueRunningJobs(report: Bool)
        /// Ping systemd's watchdog.
        case pingWatchdog
        /// Write the metrics file if its interval has passed.
        case writeMetricsIfDue
        /// Send systemd a new status line.
        case publishStatus
        /// Leave the event loop.
        case finish
    }

    /// Workers whose loop has not ended.
    public private(set) var liveWorkers: Int
    /// Whether the intake's loop is still running.
    public private(set) var intakeAlive = true
    /// Whether a graceful shutdown has begun.
    public private(set) var shuttingDown = false
    /// Whether `.finish` has been returned.
    public private(set) var finished = false
    /// In `--once` mode the watchdog is pinged whatever intake does.
    public let once: Bool
    /// Seconds without an intake heartbeat after which intake counts as stuck: the watchdog pings
    /// stop, so systemd restarts the unit.
    public let stuckAfter: Double
    /// Minimum seconds between two status lines.
    public let statusInterval: Double
    private var lastStatus = 0.0

    public init(workers: Int, once: Bool = false, stuckAfter: Double = 30, statusInterval: Double = 1) {
        liveWorkers = workers
        self.once = once
        self.stuckAfter = stuckAfter
        self.statusInterval = statusInterval
    }

    /// What to do about `event`, in order.
    public mutating func handle(_ event: Event) -> [Action] {
        if event == .loopEnded {
            finished = true
            // Ended with workers still running (cancelled, or the shutdown timeout): stop them and
            // re-queue what they run.
            return liveWorkers > 0 ? [.stopIntakeAndWorkers, .requeueRunningJobs(report: false)] : []
        }
        guard !finished else { return [] }
        var actions: [Action] = []
        switch event {
        case .workerExited:
            liveWorkers -= 1
            if liveWorkers == 0 { actions.append(.stopIntakeAndWorkers) }
        case .intakeExited:
            intakeAlive = false
        case .intakeFailed(let message):
            actions += [.reportWatcherFailure(message), .stopIntakeAndWorkers]
        case .shutdownRequested:
            guard !shuttingDown else { break }
            shuttingDown = true
            actions += [.announceShutdown, .stopIntakeAndWorkers, .armShutdownDeadline]
        case .shutdownDeadline:
            if liveWorkers > 0 {
                finished = true
                return [.requeueRunningJobs(report: true), .finish]
            }
        case .statusChanged(let now):
            actions += status(now: now)
        case .watchdogTick(let now, let intakeDone, let sinceBeat):
            if once || intakeDone || sinceBeat < stuckAfter { actions.append(.pingWatchdog) }
            actions += status(now: now)
        case .loopEnded:
            break
        }
        if liveWorkers == 0 && !intakeAlive {
            finished = true
            actions.append(.finish)
        }
        return actions
    }

    private mutating func status(now: Double) -> [Action] {
        guard now - lastStatus >= statusInterval else { return [.writeMetricsIfDue] }
        lastStatus = now
        return [.writeMetricsIfDue, .publishStatus]
    }
}
