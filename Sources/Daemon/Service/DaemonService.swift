import Foundation
import Logging
import Pipeline
import ServiceLifecycle
import SystemCalls
#if canImport(Glibc)
import Glibc
#endif

/// A problem that keeps the daemon from starting: what, where, and what to do.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds the processor for a drop folder from its profile.
public typealias ProcessorFactory = @Sendable (DropFolderConfiguration) throws(ProcessFailure) -> any StackProcessor

/// The drop-folder daemon as a swift-service-lifecycle `Service`.
///
/// `run()` opens the journal (re-queuing jobs a crash left running), removes temporary files left in
/// the output folders, then runs an inner `ServiceGroup`: the watchdog, the intake thread (inotify
/// watcher, start-up scan, stack detection), `workers` worker threads (claim a job from the journal,
/// fuse, write, record), the metrics writer and the coordinator, which tells systemd `READY=1` and
/// carries out what `DaemonLifecycle` (a pure state machine) decides. On graceful shutdown
/// (SIGTERM/SIGINT via the service group) it stops intake, waits up to `shutdownTimeoutSeconds` for
/// running jobs, re-queues those still running, sends `STOPPING=1` and returns. With `once`, it
/// processes what is complete at start and returns when the queue is empty.
public final class DaemonService: Service, Sendable {
    public let configuration: DaemonConfiguration
    public let software: SoftwareInfo
    public let once: Bool
    let logger: Logger
    let notifier: SystemdNotifier
    let processorFactory: ProcessorFactory

    public init(configuration: DaemonConfiguration, software: SoftwareInfo, logger: Logger, once: Bool = false,
                notifier: SystemdNotifier = SystemdNotifier(), processorFactory: @escaping ProcessorFactory) {
        self.configuration = configuration
        self.software = software
        self.logger = logger
        self.once = once
        self.notifier = notifier
        self.processorFactory = processorFactory
    }

    public func run() async throws {
        let config = configuration
        let logger = self.logger
        let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        let start = DispatchTime.now().uptimeNanoseconds
        let monotonic: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

        // Set-up: any failure here stops the daemon with a message (exit 1).
        do { try FileOperations.createDirectory(config.stateDirectory) } catch {
            throw DaemonError("state_directory in \(config.sourceFile): \(error); create it and make it writable for the focusd user")
        }
        let lock = try StateDirectoryLock.acquire(directory: config.stateDirectory)
        let journal: Journal
        do { journal = try Journal(path: config.journalPath) } catch { throw DaemonError(error.description) }
        var contexts: [String: DropContext] = [:]
        for drop in config.dropFolders {
            let processor: any StackProcessor
            do { processor = try processorFactory(drop) } catch {
                throw DaemonError("drop folder '\(drop.name)' in \(config.sourceFile): \(error.message)")
            }
            contexts[drop.name] = DropContext(configuration: drop, processor: OutputModeProcessor(inner: processor, mode: config.outputMode))
            for (key, dir) in [("path", drop.path), ("output", drop.output), ("quarantine", drop.quarantine)] + (drop.archive.map { [("archive", $0)] } ?? []) {
                do { try FileOperations.createDirectory(dir) } catch {
                    throw DaemonError("drop folder '\(drop.name)' \(key) in \(config.sourceFile): \(error); create it or fix the path")
                }
            }
        }
        let policies = Dictionary(uniqueKeysWithValues: config.dropFolders.map { ($0.name, $0.retry) })
        let policy: @Sendable (String) -> RetryPolicy = { policies[$0] ?? RetryPolicy() }
        do {
            for job in try journal.recoverInterrupted(now: wallClock(), outputMode: config.outputMode, policy: policy) {
                if job.state == .done {
                    logger.notice("finished the commit of an output set interrupted by a stop or crash", metadata: ["job": "\(job.id ?? 0)", "stack": "\(job.stack)"])
                } else {
                    logger.notice("job was interrupted by a stop or crash", metadata: ["job": "\(job.id ?? 0)", "stack": "\(job.stack)", "state": "\(job.state.rawValue)"])
                }
            }
        } catch { throw DaemonError(error.description) }
        // After recovery, which finishes an output set's interrupted commit from its temporary files.
        for drop in config.dropFolders {
            for removed in FileOperations.removeTemporaries(in: drop.output, markers: Self.temporaryMarkers) {
                logger.notice("removed a temporary file left by an interrupted write", metadata: ["path": "\(removed)"])
            }
        }
        let watcher: InotifyWatcher
        do {
            watcher = try InotifyWatcher()
            for drop in config.dropFolders { try watcher.watchRecursively(drop.path) }
        } catch { throw DaemonError("cannot watch the drop folders: \(error)") }

        let control = ServiceControl()
        let (events, sink) = AsyncStream.makeStream(of: DaemonLifecycle.Event.self)
        let metricsSink = config.metricsFile.map { path -> MetricsSink in
            let metrics = FocusdMetrics(mode: "serve", instance: config.instance)
            var models: [FocusdMetrics.ModelInfo] = []
            for drop in config.dropFolders {
                guard let context = contexts[drop.name] else { continue }
                let info = FocusdMetrics.ModelInfo.of(drop: drop, processor: context.processor)
                if !models.contains(info) { models.append(info) }
            }
            metrics.setModels(models)
            return MetricsSink(metrics: metrics, path: path, logger: logger)
        }
        var jobRunner = JobRunner(journal: journal, drops: contexts, software: software, logger: logger, now: wallClock, monotonic: monotonic)
        jobRunner.metrics = metricsSink
        jobRunner.outputMode = config.outputMode
        jobRunner.license = config.license
        jobRunner.organization = config.organization
        let runner = jobRunner
        metricsSink?.write(journal: journal)
        let once = self.once
        let notifier = self.notifier

        // Threads run blocking work; each reports its end on `sink`.
        let intakeBody: @Sendable () -> Void = {
            defer { sink.yield(.intakeExited) }
            let intake = Intake(configurations: config.dropFolders, journal: journal, logger: logger, now: wallClock)
            intake.heartbeat = { control.intakeAlive() }
            control.intakeAlive()
            intake.scanAll(assumeClosed: true)
            if once {
                // Files found by the scan are stable only after stable_seconds of watching.
                let settle = (config.dropFolders.map(\.detection.stableSeconds).max() ?? 0) + 2 * config.pollIntervalSeconds
                let until = monotonic() + settle
                repeat {
                    if !intake.tick().isEmpty { control.signalWork() }
                    Thread.sleep(forTimeInterval: config.pollIntervalSeconds)
                } while monotonic() < until
                if !intake.tick().isEmpty { control.signalWork() }
                control.markIntakeDone()
                return
            }
            var lastTick = 0.0
            var lastArchiveCheck = 0.0
            while !control.stopping {
                control.intakeAlive()
                do {
                    intake.handle(try watcher.next(timeoutMilliseconds: Int32(min(100, config.pollIntervalSeconds * 1000))))
                } catch {
                    sink.yield(.intakeFailed("\(error)"))
                    return
                }
                let t = monotonic()
                if t - lastTick >= config.pollIntervalSeconds {
                    lastTick = t
                    if !intake.tick().isEmpty {
                        control.signalWork()
                        sink.yield(.statusChanged(now: monotonic()))
                    }
                }
                // Inputs whose archiving waited for a writer to let go, looked at every 2 s.
                if t - lastArchiveCheck >= 2 {
                    lastArchiveCheck = t
                    runner.retryPendingArchives()
                }
            }
        }
        let workerBody: @Sendable () -> Void = {
            defer { sink.yield(.workerExited) }
            while !control.stopping {
                let intakeDone = control.intakeDone
                let job: JobRecord?
                do { job = try journal.claimNext(now: wallClock(), policy: policy) } catch {
                    logger.error("cannot read the job journal", metadata: ["error": "\(error)"])
                    control.waitForWork(seconds: 1)
                    continue
                }
                if let job, let id = job.id {
                    control.started(id)
                    sink.yield(.statusChanged(now: monotonic()))
                    runner.run(job, isAbandoned: { control.isAbandoned(id) })
                    control.finished(id)
                    sink.yield(.statusChanged(now: monotonic()))
                    continue
                }
                if once && intakeDone { return }
                let due = (try? journal.nextDueTime()) ?? nil
                let wait = due.map { $0 - wallClock() } ?? 1
                control.waitForWork(seconds: min(max(wait, 0.02), 1))
            }
        }

        let shutdownTimeout = config.shutdownTimeoutSeconds
        // Carries out what the lifecycle decides (all but arming the deadline and leaving the loop).
        let (metricsRequests, requestMetrics) = AsyncStream.makeStream(of: Void.self)
        let carryOut: @Sendable (DaemonLifecycle.Action) -> Void = { action in
            switch action {
            case .stopIntakeAndWorkers:
                control.beginShutdown()
            case .reportWatcherFailure(let message):
                logger.critical("the watcher failed; stopping", metadata: ["error": "\(message)"])
            case .announceShutdown:
                notifier.stopping()
                logger.notice("shutting down: intake stopped, waiting for running jobs",
                              metadata: ["running": "\(control.runningCount)", "timeout_s": "\(shutdownTimeout)"])
            case .requeueRunningJobs(let report):
                let abandoned = control.abandonRunning()
                let requeued = (try? journal.recoverInterrupted(now: wallClock(), outputMode: config.outputMode, policy: policy)) ?? []
                if report {
                    logger.warning("shutdown timeout: running jobs re-queued", metadata: [
                        "jobs": "\(abandoned.map(String.init).joined(separator: ","))", "requeued": "\(requeued.count)",
                    ])
                }
            case .pingWatchdog:
                notifier.watchdog()
            case .writeMetricsIfDue:
                requestMetrics.yield()
            case .publishStatus:
                notifier.status(Self.statusLine(journal: journal, running: control.runningCount))
            case .armShutdownDeadline, .finish:
                break
            }
        }
        // Intake, workers, metrics writer and watchdog are small services; the coordinator, started
        // last, is shut down first on SIGTERM/SIGINT, and when it finishes the group stops the rest
        // (the watchdog last, so systemd is pinged while running jobs finish).
        let intake = ThreadService(names: ["focusd-intake"], body: intakeBody)
        let workerPool = ThreadService(names: (0..<config.workers).map { "focusd-worker-\($0)" }, body: workerBody)
        let interval = notifier.watchdogInterval ?? .seconds(5)
        let coordinator = CoordinatorService(
            events: events, sink: sink,
            // A stuck intake (hung file system) stops the pings, so systemd restarts the unit.
            lifecycle: DaemonLifecycle(workers: config.workers, once: once,
                                       stuckAfter: max(30, 4 * Double(interval.components.seconds))),
            shutdownTimeout: shutdownTimeout,
            onStart: {
                await intake.waitUntilStarted()
                await workerPool.waitUntilStarted()
                notifier.ready(status: Self.statusLine(journal: journal, running: 0))
                logger.info("serving", metadata: [
                    "drop_folders": "\(config.dropFolders.map(\.path).joined(separator: ","))",
                    "workers": "\(config.workers)", "journal": "\(config.journalPath)", "once": "\(once)",
                ])
            },
            carryOut: carryOut)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: WatchdogService(interval: interval, control: control, monotonic: monotonic, events: sink),
                  successTerminationBehavior: .ignore),
            .init(service: intake, successTerminationBehavior: .ignore),
            .init(service: workerPool, successTerminationBehavior: .ignore),
            .init(service: MetricsWriterService(sink: metricsSink, journal: journal, requests: metricsRequests,
                                                 stop: { requestMetrics.finish() }),
                  successTerminationBehavior: .ignore),
            .init(service: coordinator, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        do {
            try await ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger)).run()
        } catch {
            logger.error("the daemon's services stopped with an error", metadata: ["error": "\(error)"])
        }
        let threads = intake.threads + workerPool.threads
        sink.finish()
        // Every thread that has ended is joined, so what it captured (the journal above all) is released
        // here, not by a thread-exit destructor racing with the process's exit. Threads that reported
        // their end finish within moments; only a worker abandoned at the shutdown timeout is still busy.
        let joinDeadline = Date().addingTimeInterval(2)
        let abandoned = threads.filter { !$0.join(before: joinDeadline) }
        metricsSink?.metrics.markStopped()
        metricsSink?.write(journal: journal)
        notifier.stopping()
        logger.info("stopped", metadata: ["status": "\(Self.statusLine(journal: journal, running: 0))"])
        if abandoned.isEmpty {
            do { try journal.close() } catch {
                logger.warning("cannot close the job journal", metadata: ["error": "\(error)"])
            }
        } else {
            // An abandoned worker still holds the journal and may finish while the process exits: one
            // reference is kept for good, so the database is never deinitialised on that thread.
            _ = Unmanaged.passRetained(journal)
            logger.warning("threads still running at exit", metadata: ["threads": "\(abandoned.map(\.name).joined(separator: ","))"])
        }
        withExtendedLifetime(lock) {}
    }

    /// Temporary-name markers of interrupted writes (the daemon's own and the fusion pipeline's).
    static let temporaryMarkers = [FileOperations.temporaryMarker, ".tmp-"]

    static func statusLine(journal: Journal, running: Int) -> String {
        guard let counts = try? journal.counts() else { return "journal unavailable" }
        return "queued \(counts[.queued] ?? 0), running \(running), done \(counts[.done] ?? 0), failed \(counts[.failed] ?? 0), quarantined \(counts[.quarantined] ?? 0)"
    }
}

/// An exclusive, non-blocking `flock` on a file (created if missing), held for the object's
/// lifetime: two daemons never share a state directory, two reprocess runs never share a shard.
public final class ExclusiveFileLock: Sendable {
    public enum Failure: Error, Sendable {
        /// The lock file cannot be opened (errno text).
        case cannotOpen(String)
        /// Another process holds the lock.
        case held
    }
    let fd: Int32
    public let path: String
    public init(path: String) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(SystemCallError.reason(errno)) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .held
        }
        self.fd = fd
        self.path = path
    }
    deinit { close(fd) }
}

/// The lock on `<state directory>/focusd.lock`, so two daemons never share a journal.
enum StateDirectoryLock {
    static func acquire(directory: String) throws(DaemonError) -> ExclusiveFileLock {
        let path = (directory as NSString).appendingPathComponent("focusd.lock")
        do { return try ExclusiveFileLock(path: path) } catch {
            switch error {
            case .cannotOpen(let reason):
                throw DaemonError("cannot open \(path): \(reason); make the state directory writable")
            case .held:
                throw DaemonError("another focusd is already using the state directory \(directory) (\(path) is locked); stop it or use another state_directory")
            }
        }
    }
}
