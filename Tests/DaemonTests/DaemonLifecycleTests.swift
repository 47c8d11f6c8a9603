import Testing
@testable import Daemon

/// The daemon's coordination, decided without processes, threads or clocks (issue 20).
@Suite("Daemon lifecycle state machine")
struct DaemonLifecycleTests {
    @Test func startsServingWithEveryWorkerAndIntake() {
        var lifecycle = DaemonLifecycle(workers: 2)
        #expect(lifecycle.liveWorkers == 2 && lifecycle.intakeAlive && !lifecycle.shuttingDown && !lifecycle.finished)
        // The first status change publishes a line; another within the second only refreshes metrics.
        #expect(lifecycle.handle(.statusChanged(now: 1)) == [.writeMetricsIfDue, .publishStatus])
        #expect(lifecycle.handle(.statusChanged(now: 1.5)) == [.writeMetricsIfDue])
        #expect(lifecycle.handle(.statusChanged(now: 2)) == [.writeMetricsIfDue, .publishStatus])
    }

    @Test func aJobDoneOrFailedOnlyChangesTheStatus() {
        var lifecycle = DaemonLifecycle(workers: 1)
        // A worker reports every job start and end (done or failed alike) as a status change.
        #expect(lifecycle.handle(.statusChanged(now: 5)) == [.writeMetricsIfDue, .publishStatus])
        #expect(lifecycle.handle(.statusChanged(now: 5.2)) == [.writeMetricsIfDue])
        #expect(lifecycle.liveWorkers == 1 && !lifecycle.finished)
    }

    @Test func onceModeFinishesWhenWorkersAndIntakeAreDone() {
        var lifecycle = DaemonLifecycle(workers: 2, once: true)
        #expect(lifecycle.handle(.intakeExited) == [])
        #expect(lifecycle.handle(.workerExited) == [])
        // The last worker's end stops the rest and, intake being gone, ends the loop.
        #expect(lifecycle.handle(.workerExited) == [.stopIntakeAndWorkers, .finish])
        #expect(lifecycle.finished)
        #expect(lifecycle.handle(.statusChanged(now: 9)) == [])
        #expect(lifecycle.handle(.loopEnded) == [])
    }

    @Test func aFailedWatcherStopsTheDaemon() {
        var lifecycle = DaemonLifecycle(workers: 1)
        #expect(lifecycle.handle(.intakeFailed("inotify: no space")) == [.reportWatcherFailure("inotify: no space"), .stopIntakeAndWorkers])
        #expect(lifecycle.handle(.intakeExited) == [])
        #expect(lifecycle.handle(.workerExited) == [.stopIntakeAndWorkers, .finish])
    }

    @Test func shutdownWaitsForARunningJobThatFinishesInTime() {
        var lifecycle = DaemonLifecycle(workers: 1)
        #expect(lifecycle.handle(.shutdownRequested) == [.announceShutdown, .stopIntakeAndWorkers, .armShutdownDeadline])
        #expect(lifecycle.shuttingDown)
        // A second signal changes nothing.
        #expect(lifecycle.handle(.shutdownRequested) == [])
        #expect(lifecycle.handle(.intakeExited) == [])
        // The running job ends, its worker returns: done, nothing to re-queue.
        #expect(lifecycle.handle(.workerExited) == [.stopIntakeAndWorkers, .finish])
        #expect(lifecycle.handle(.shutdownDeadline) == [])
        #expect(lifecycle.handle(.loopEnded) == [])
    }

    @Test func shutdownRequeuesAJobStillRunningAtTheDeadline() {
        var lifecycle = DaemonLifecycle(workers: 2)
        _ = lifecycle.handle(.shutdownRequested)
        #expect(lifecycle.handle(.intakeExited) == [])
        #expect(lifecycle.handle(.workerExited) == [])
        #expect(lifecycle.handle(.shutdownDeadline) == [.requeueRunningJobs(report: true), .finish])
        #expect(lifecycle.finished && lifecycle.liveWorkers == 1)
        // After the loop, the worker still busy is stopped and its job re-queued once more, quietly.
        #expect(lifecycle.handle(.loopEnded) == [.stopIntakeAndWorkers, .requeueRunningJobs(report: false)])
    }

    @Test func cancelledWithoutGracefulShutdownRequeuesRunningJobs() {
        var lifecycle = DaemonLifecycle(workers: 3)
        #expect(lifecycle.handle(.loopEnded) == [.stopIntakeAndWorkers, .requeueRunningJobs(report: false)])
    }

    @Test func watchdogPingsWhileIntakeBeatsAndStopsWhenItIsStuck() {
        var lifecycle = DaemonLifecycle(workers: 1, stuckAfter: 30)
        #expect(lifecycle.handle(.watchdogTick(now: 5, intakeDone: false, secondsSinceIntakeBeat: 0.1))
                == [.pingWatchdog, .writeMetricsIfDue, .publishStatus])
        // A hung intake: no ping, so systemd restarts the unit; the status still updates.
        #expect(lifecycle.handle(.watchdogTick(now: 40, intakeDone: false, secondsSinceIntakeBeat: 31))
                == [.writeMetricsIfDue, .publishStatus])
        // Intake finished (--once) or once mode: pinged whatever the heartbeat.
        #expect(lifecycle.handle(.watchdogTick(now: 40.5, intakeDone: true, secondsSinceIntakeBeat: 100))
                == [.pingWatchdog, .writeMetricsIfDue])
        var once = DaemonLifecycle(workers: 1, once: true, stuckAfter: 30)
        #expect(once.handle(.watchdogTick(now: 5, intakeDone: false, secondsSinceIntakeBeat: 100)).first == .pingWatchdog)
    }
}
