import Testing
@testable import Daemon

@Suite struct JobStateMachineTests {
    let policy = RetryPolicy(maxAttempts: 3, backoffSeconds: 10, maxBackoffSeconds: 25)

    func step(_ s: JobState, _ attempts: Int, _ e: JobEvent) throws -> JobTransition {
        try JobStateMachine.transition(from: s, attempts: attempts, event: e, policy: policy, now: 1000)
    }

    @Test func happyPath() throws {
        #expect(try step(.detected, 0, .enqueue) == JobTransition(state: .queued, attempts: 0, actions: []))
        #expect(try step(.queued, 0, .start) == JobTransition(state: .running, attempts: 1, actions: [.runPipeline]))
        #expect(try step(.running, 1, .succeed) == JobTransition(state: .done, attempts: 1, actions: [.archive]))
    }

    @Test func transientFailuresBackOffThenFail() throws {
        let first = try step(.running, 1, .fail(.transient, message: "disk full"))
        #expect(first.state == .queued)
        #expect(first.actions == [.recordError("disk full"), .retry(at: 1010)])
        let second = try step(.running, 2, .fail(.transient, message: "disk full"))
        #expect(second.actions.last == .retry(at: 1020))
        let third = try step(.running, 3, .fail(.transient, message: "disk full"))
        #expect(third.state == .failed)
        #expect(third.actions.count == 1)
        #expect(policy.delay(afterAttempt: 3) == 25, "capped")
    }

    @Test func badInputIsQuarantinedAndConfigurationFails() throws {
        let bad = try step(.running, 1, .fail(.badInput, message: "not a TIFF"))
        #expect(bad.state == .quarantined)
        #expect(bad.actions.contains(.quarantine(reason: "not a TIFF")))
        #expect(try step(.running, 1, .fail(.configuration, message: "no model")).state == .failed)
        #expect(try step(.running, 1, .fail(.inputsChanged, message: "changed")).state == .failed)
    }

    @Test func interruptedJobsAreRequeuedUntilAttemptsRunOut() throws {
        #expect(try step(.running, 1, .interrupt) == JobTransition(state: .queued, attempts: 1, actions: [.retry(at: 1000)]))
        #expect(try step(.running, 3, .interrupt).state == .failed)
    }

    @Test func duplicatesAreDoneWithoutFusion() throws {
        let t = try step(.running, 1, .duplicate(ofJob: 7))
        #expect(t.state == .done)
        #expect(!t.actions.contains(.runPipeline))
    }

    @Test(arguments: [(JobState.done, JobEvent.start), (.queued, .succeed), (.quarantined, .enqueue), (.failed, .interrupt)])
    func invalidTransitionsAreReported(state: JobState, event: JobEvent) {
        #expect(throws: InvalidJobTransition.self) { try step(state, 1, event) }
    }
}
