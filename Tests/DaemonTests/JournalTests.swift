import Foundation
import GRDB
import Testing
@testable import Daemon

@Suite struct JournalTests {
    let policy: (String) -> RetryPolicy = { _ in RetryPolicy(maxAttempts: 2, backoffSeconds: 5, maxBackoffSeconds: 60) }

    func inputs(_ names: [String], size: Int = 10) -> [JobInput] {
        names.map { JobInput(path: "/drop/\($0)", size: size, mtime: 1.5) }
    }

    @Test func journalIsWALAndSurvivesReopening() throws {
        let dir = TemporaryFolder()
        let path = dir.sub("state/journal.sqlite")
        do {
            let j = try Journal(path: path)
            _ = try j.insertDetected(drop: "d", stack: "s", kind: .file, root: "/drop/s.tif", inputs: inputs(["s.tif"]), now: 1)
        }
        let j = try Journal(path: path)
        #expect(try j.allJobs().count == 1)
        let mode = try j.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func theSameInputsAreOneJob() throws {
        let dir = TemporaryFolder()
        let j = try Journal(path: dir.sub("j.sqlite"))
        let a = try j.insertDetected(drop: "d", stack: "s", kind: .file, root: nil, inputs: inputs(["s.tif"]), now: 1)
        #expect(a != nil)
        #expect(try j.insertDetected(drop: "d", stack: "s", kind: .file, root: nil, inputs: inputs(["s.tif"]), now: 2) == nil)
        // Another drop folder, or other content, is another job; a newer version supersedes a waiting one.
        #expect(try j.insertDetected(drop: "e", stack: "s", kind: .file, root: nil, inputs: inputs(["s.tif"]), now: 3) != nil)
        let newer = try j.insertDetected(drop: "d", stack: "s", kind: .file, root: nil, inputs: inputs(["s.tif"], size: 11), now: 4)
        #expect(newer != nil)
        #expect(try j.job(id: a!.id!)?.state == .failed)
        #expect(try j.job(id: a!.id!)?.error?.contains("superseded") == true)
    }

    @Test func claimTakesDueJobsInOrderAndCountsAttempts() throws {
        let dir = TemporaryFolder()
        let j = try Journal(path: dir.sub("j.sqlite"))
        let a = try #require(try j.insertDetected(drop: "d", stack: "a", kind: .file, root: nil, inputs: inputs(["a.tif"]), now: 1))
        let b = try #require(try j.insertDetected(drop: "d", stack: "b", kind: .file, root: nil, inputs: inputs(["b.tif"]), now: 2))
        #expect(try j.claimNext(now: 0.5, policy: policy) == nil, "not yet due")
        let first = try #require(try j.claimNext(now: 10, policy: policy))
        #expect(first.id == a.id)
        #expect(first.state == .running)
        #expect(first.attempts == 1)
        #expect(try j.claimNext(now: 10, policy: policy)?.id == b.id)
        #expect(try j.claimNext(now: 10, policy: policy) == nil)
    }

    @Test func runningJobsAreRequeuedAtStartUntilAttemptsRunOut() throws {
        let dir = TemporaryFolder()
        let j = try Journal(path: dir.sub("j.sqlite"))
        _ = try j.insertDetected(drop: "d", stack: "a", kind: .file, root: nil, inputs: inputs(["a.tif"]), now: 1)
        _ = try j.claimNext(now: 2, policy: policy)
        var recovered = try j.recoverInterrupted(now: 3, policy: policy)
        #expect(recovered.map(\.state) == [.queued])
        _ = try j.claimNext(now: 4, policy: policy)
        recovered = try j.recoverInterrupted(now: 5, policy: policy)
        #expect(recovered.map(\.state) == [.failed], "two attempts died: give up")
        #expect(recovered.first?.error?.contains("stopped") == true)
    }

    @Test func countsAndFingerprintLookup() throws {
        let dir = TemporaryFolder()
        let j = try Journal(path: dir.sub("j.sqlite"))
        _ = try j.insertDetected(drop: "d", stack: "a", kind: .file, root: nil, inputs: inputs(["a.tif"]), now: 1)
        var job = try #require(try j.claimNext(now: 2, policy: policy))
        job.fingerprint = "abc"
        job.outputStack = "a"
        job.state = .done
        job.finishedAt = 3
        try j.update(job)
        #expect(try j.counts() == [.done: 1])
        #expect(try j.doneJob(fingerprint: "abc", excluding: nil)?.id == job.id)
        #expect(try j.doneJob(fingerprint: "abc", excluding: job.id) == nil)
        #expect(try j.outputStacksInUse(drop: "d", excluding: nil) == ["a"])
    }
}
