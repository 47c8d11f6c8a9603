import Foundation

/// Shared flags between the service's async side and its threads (intake, workers), behind one condition.
final class ServiceControl: @unchecked Sendable {
    private let condition = NSCondition()
    private var _stopping = false
    private var _intakeDone = false
    private var running: [Int64: Bool] = [:]   // job id → abandoned
    private var intakeBeat = DispatchTime.now().uptimeNanoseconds

    /// The intake loop calls this each turn; the watchdog is fed only while it does.
    func intakeAlive() {
        condition.lock(); intakeBeat = DispatchTime.now().uptimeNanoseconds; condition.unlock()
    }

    /// Seconds since the intake loop last turned.
    var secondsSinceIntakeBeat: Double {
        condition.lock(); defer { condition.unlock() }
        return Double(DispatchTime.now().uptimeNanoseconds - intakeBeat) * 1e-9
    }

    /// Intake and workers stop taking new work.
    var stopping: Bool { condition.lock(); defer { condition.unlock() }; return _stopping }
    /// `--once`: the intake has recorded everything that was complete.
    var intakeDone: Bool { condition.lock(); defer { condition.unlock() }; return _intakeDone }

    func beginShutdown() {
        condition.lock()
        _stopping = true
        condition.broadcast()
        condition.unlock()
    }

    func markIntakeDone() {
        condition.lock()
        _intakeDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes idle workers (new jobs were queued).
    func signalWork() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps until `signalWork`, shutdown, or `seconds` pass.
    func waitForWork(seconds: Double) {
        condition.lock()
        if !_stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: max(0.001, seconds))) }
        condition.unlock()
    }

    func started(_ id: Int64) {
        condition.lock(); running[id] = false; condition.unlock()
    }

    func finished(_ id: Int64) {
        condition.lock(); running[id] = nil; condition.unlock()
    }

    /// Marks every running job abandoned; returns their ids.
    func abandonRunning() -> [Int64] {
        condition.lock(); defer { condition.unlock() }
        for id in running.keys { running[id] = true }
        return Array(running.keys)
    }

    func isAbandoned(_ id: Int64) -> Bool {
        condition.lock(); defer { condition.unlock() }
        return running[id] ?? false
    }

    var runningCount: Int { condition.lock(); defer { condition.unlock() }; return running.count }
}
