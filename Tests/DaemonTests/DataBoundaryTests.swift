import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

/// The promises at the data boundary: an output set appears whole or not at all; a file still
/// being written is neither fused, archived nor quarantined; a changed input replaces its stack's
/// outputs under the same names; a duplicate gets outputs of its own; a failed stack can come back.
@Suite(.serialized) struct DataBoundaryTests {
    /// Output files other than hidden temporaries, by stack name prefix.
    static func visible(_ f: DaemonFixture) -> [String] { f.files(in: f.output).filter { !$0.hasPrefix(".") } }

    @Test func aDiskFullHalfWayThroughASetLeavesNothingAndTheRetryWritesItWhole() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor(delay: 0.2, depthDiskFull: 2)
        let sawPartial = LockedFlag()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("full"), at: "\(f.drop)/full.tif")
            // Watched all along: at no moment does a fused image stand without its depth map and sidecar.
            let done = await eventually(seconds: 20) {
                let files = Self.visible(f)
                if !files.isEmpty && files != ["full-ro-crate-metadata.json", "full_depth.tif", "full_fused.tif"] { sawPartial.set() }
                return (try? f.journal().allJobs().first?.state) == .done
            }
            #expect(done)
        }
        #expect(!sawPartial.value, "a partial set was visible")
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.attempts == 3, "two attempts hit the full disk, the third succeeded")
        #expect(f.files(in: f.output) == ["full-ro-crate-metadata.json", "full_depth.tif", "full_fused.tif"], "no temporary left behind")
        #expect(f.logs.lines.contains { $0.contains("attempt failed; will retry") && $0.contains("No space left") })
    }

    @Test func anInterruptedCommitIsFinishedAtStartUp() throws {
        let f = DaemonFixture()
        let journal = try f.journal()
        try FileManager.default.createDirectory(atPath: f.output, withIntermediateDirectories: true)
        var set = OutputSet()
        try set.stage(Data("fused".utf8), as: "\(f.output)/k_fused.tif")
        try set.stage(Data("sidecar".utf8), as: "\(f.output)/k-ro-crate-metadata.json")
        // The crash came after the first rename.
        #expect(rename(set.files[0].temporary, set.files[0].final) == 0)
        var job = try #require(try journal.insertDetected(drop: "scope", stack: "k", kind: .file, root: "\(f.drop)/k.tif",
                                                          inputs: [JobInput(path: "\(f.drop)/k.tif", size: 1, mtime: 1)], now: 1))
        job.state = .running
        job.attempts = 1
        job.staged = set.files
        try journal.update(job)
        let recovered = try journal.recoverInterrupted(now: 2, outputMode: 0o640) { _ in RetryPolicy() }
        #expect(recovered.map(\.state) == [.done])
        #expect(f.files(in: f.output) == ["k-ro-crate-metadata.json", "k_fused.tif"])
        // The file renamed by recovery gets output_mode like one of an uninterrupted commit.
        let mode = try FileManager.default.attributesOfItem(atPath: "\(f.output)/k-ro-crate-metadata.json")[.posixPermissions] as? Int
        #expect(mode == 0o640)
        #expect(try journal.job(id: job.id!)?.staged == nil)
    }

    @Test func aStagedSetWhoseFilesAreGoneIsDiscardedAndTheJobRunsAgain() throws {
        let f = DaemonFixture()
        let journal = try f.journal()
        try FileManager.default.createDirectory(atPath: f.output, withIntermediateDirectories: true)
        var set = OutputSet()
        try set.stage(Data("fused".utf8), as: "\(f.output)/m_fused.tif")
        try set.stage(Data("sidecar".utf8), as: "\(f.output)/m-ro-crate-metadata.json")
        unlink(set.files[1].temporary)
        var job = try #require(try journal.insertDetected(drop: "scope", stack: "m", kind: .file, root: nil,
                                                          inputs: [JobInput(path: "\(f.drop)/m.tif", size: 1, mtime: 1)], now: 1))
        job.state = .running
        job.attempts = 1
        job.staged = set.files
        try journal.update(job)
        #expect(try journal.recoverInterrupted(now: 2) { _ in RetryPolicy() }.map(\.state) == [.queued])
        #expect(f.files(in: f.output).isEmpty, "the surviving temporary is removed, nothing renamed")
    }

    @Test func aChangedInputIsFusedAgainUnderTheSameNamesAndTheSidecarSaysWhatItReplaced() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("two pages"), at: "\(f.drop)/grow.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            // The instrument was not done: more pages arrive in the same file.
            let handle = try #require(FileHandle(forWritingAtPath: "\(f.drop)/grow.tif"))
            handle.seekToEndOfFile()
            handle.write(Data(" and the third".utf8))
            try handle.close()
            _ = try await f.jobsWhenSettled(count: 2)
            try await Task.sleep(for: .milliseconds(300))
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.state) == [.done, .done])
        #expect(jobs[0].supersededBy == jobs[1].id)
        #expect(jobs[1].supersedes == jobs[0].id)
        #expect(f.files(in: f.output) == ["grow-ro-crate-metadata.json", "grow_depth.tif", "grow_fused.tif"], "one set, no grow-2")
        let final = try #require(FileManager.default.contents(atPath: "\(f.drop)/grow.tif"))
        #expect(FileManager.default.contents(atPath: "\(f.output)/grow_fused.tif") == final)
        let sidecar = try Self.action(in: "\(f.output)/grow-ro-crate-metadata.json")
        let graph = try Self.graph(in: "\(f.output)/grow-ro-crate-metadata.json")
        #expect((sidecar["focusd:supersedes"] as? [String: Any])?["@id"] as? String == "#supersedes")
        let supersedes = try #require(graph.first { $0["@id"] as? String == "#supersedes" })
        #expect(supersedes["focusd:job"] as? Int == Int(jobs[0].id!))
        let replacedIDs = try #require(supersedes["focusd:outputs"] as? [[String: Any]]).compactMap { $0["@id"] as? String }
        let replaced = graph.filter { replacedIDs.contains($0["@id"] as? String ?? "") }
        #expect(replaced.count == replacedIDs.count && !replaced.isEmpty, "each replaced output is an entity of the graph")
        #expect(replaced.compactMap { $0["sha256"] as? String }.contains(SHA256Hex.of(fakeTIFF("two pages"))))
        try SidecarSchemaTests.validate("\(f.output)/grow-ro-crate-metadata.json")
    }

    @Test func aDuplicateUnderANewNameGetsLinkedOutputsAndASidecarNamingTheOriginal() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("same"), at: "\(f.drop)/first.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            drop(fakeTIFF("same"), at: "\(f.drop)/copy.tif")
            _ = try await f.jobsWhenSettled(count: 2)
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(processor.calls == ["first"], "fused once")
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.state) == [.done, .done])
        #expect(jobs[1].duplicateOf == jobs[0].id)
        #expect(f.files(in: f.output) == ["copy-ro-crate-metadata.json", "copy_depth.tif", "copy_fused.tif",
                                           "first-ro-crate-metadata.json", "first_depth.tif", "first_fused.tif"])
        #expect(FileManager.default.contents(atPath: "\(f.output)/copy_fused.tif") == fakeTIFF("same"))
        let action = try Self.action(in: "\(f.output)/copy-ro-crate-metadata.json")
        #expect(action["focusd:duplicateOf"] as? Int == Int(jobs[0].id!))
        #expect(action["focusd:job"] as? Int == Int(jobs[1].id!))
        let graph = try Self.graph(in: "\(f.output)/copy-ro-crate-metadata.json")
        let ids = Set(graph.compactMap { $0["@id"] as? String })
        #expect(ids.contains(CrateID.fileURI("\(f.drop)/copy.tif")) && !ids.contains(CrateID.fileURI("\(f.drop)/first.tif")),
                "the sidecar names this stack's input")
        #expect(ids.contains(CrateID.fileURI("\(f.output)/copy_fused.tif")) && !ids.contains(CrateID.fileURI("\(f.output)/first_fused.tif")))
        #expect(ids.contains("#copy/") && !ids.contains("#first/"), "the root is this crate's")
        #expect(graph.allSatisfy { ($0["name"] as? String)?.contains("first") != true }, "no name of the original's files is left")
        try SidecarSchemaTests.validate("\(f.output)/copy-ro-crate-metadata.json")
    }

    @Test func aDuplicateOfAStackWhoseOutputsWereChangedIsFusedAfresh() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("same"), at: "\(f.drop)/first.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            // Someone edited the earlier output: it can no longer stand for the new stack.
            FileManager.default.createFile(atPath: "\(f.output)/first_fused.tif", contents: fakeTIFF("edited"))
            drop(fakeTIFF("same"), at: "\(f.drop)/copy.tif")
            _ = try await f.jobsWhenSettled(count: 2)
        }
        #expect(processor.calls == ["first", "copy"])
        #expect(try f.journal().allJobs().last?.duplicateOf == nil)
        #expect(FileManager.default.contents(atPath: "\(f.output)/copy_fused.tif") == fakeTIFF("same"))
    }

    @Test func aDuplicateOfAJobWithASidecarOfTheReleaseBeforeIsFusedAfresh() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("same"), at: "\(f.drop)/first.tif")
            let first = try #require(try await f.jobsWhenSettled(count: 1).first)
            // What the release before wrote: not a crate that can be rewritten for a duplicate.
            let outputs = (first.outputs ?? []).map { (role: $0.role, path: $0.path, sha256: $0.sha256) }
            try ReprocessTests.legacySidecar(fingerprint: String(repeating: "b", count: 64), outputs: outputs)
                .write(to: URL(fileURLWithPath: try #require(first.sidecar)))
            drop(fakeTIFF("same"), at: "\(f.drop)/copy.tif")
            _ = try await f.jobsWhenSettled(count: 2)
        }
        #expect(processor.calls == ["first", "copy"])
        #expect(try f.journal().allJobs().last?.duplicateOf == nil)
        try SidecarSchemaTests.validate("\(f.output)/copy-ro-crate-metadata.json")
    }

    @Test func theSidecarRecordsWhereArchiveMovedTheInputs() async throws {
        let f = DaemonFixture()
        try await f.serving(f.configuration(archive: true), processor: TestProcessor()) {
            drop(fakeTIFF("a1"), at: "\(f.drop)/folder/1.tif")
            drop(fakeTIFF("a2"), at: "\(f.drop)/folder/2.tif")
            drop(Data(), at: "\(f.drop)/folder/COMPLETE")
            _ = try await f.jobsWhenSettled(count: 1)
            #expect(await eventually(seconds: 10) { FileManager.default.fileExists(atPath: "\(f.archive)/folder/2.tif") })
        }
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.archivedTo == ["\(f.archive)/folder/1.tif", "\(f.archive)/folder/2.tif"])
        let inputs = try Self.graph(in: "\(f.output)/folder-ro-crate-metadata.json").filter { $0["position"] != nil }
        #expect(inputs.compactMap { $0["focusd:archivedTo"] as? String }.sorted() == job.archivedTo)
        try SidecarSchemaTests.validate("\(f.output)/folder-ro-crate-metadata.json")
    }

    @Test func aFileAWriterStillHoldsOpenIsNotFusedFromTheStartUpScan() async throws {
        let f = DaemonFixture()
        drop(fakeTIFF("held"), at: "\(f.drop)/held.tif")
        // Another process opened the file for writing before the daemon started (an instrument
        // pausing between two pages across a restart).
        let writer = try OpenFileHolder(path: "\(f.drop)/held.tif")
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            try await Task.sleep(for: .milliseconds(1500))
            #expect(processor.calls.isEmpty, "fused while a writer had it open")
            #expect(try f.journal().allJobs().isEmpty)
            writer.release()
            _ = try await f.jobsWhenSettled(count: 1)
        }
        #expect(processor.calls == ["held"])
        #expect(f.logs.lines.contains { $0.contains("still open for writing") })
    }

    @Test func aFileAWriterOpensWhileItIsFusedIsArchivedOnlyOnceTheWriterLetsGo() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor(delay: 1.0)
        try await f.serving(f.configuration(archive: true), processor: processor) {
            drop(fakeTIFF("busy"), at: "\(f.drop)/busy.tif")
            #expect(await eventually(seconds: 10) { processor.calls.count == 1 })
            // The instrument reopens the file for writing while it is being fused.
            let writer = try OpenFileHolder(path: "\(f.drop)/busy.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            try await Task.sleep(for: .milliseconds(2500))
            #expect(FileManager.default.fileExists(atPath: "\(f.drop)/busy.tif"), "left in the drop folder while open")
            #expect(try f.journal().allJobs().first?.archivePending == true)
            writer.release()
            #expect(await eventually(seconds: 10) { FileManager.default.fileExists(atPath: "\(f.archive)/busy.tif") })
        }
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.state == .done && job.archivePending == nil)
        #expect(job.archivedTo == ["\(f.archive)/busy.tif"])
        #expect(!FileManager.default.fileExists(atPath: "\(f.drop)/busy.tif"))
        #expect(f.logs.lines.filter { $0.contains("inputs still open for writing; not archived yet") }.count == 1, "said once, not every retry")
        let sidecar = try #require(job.sidecar)
        let inputs = try Self.graph(in: sidecar).filter { $0["position"] != nil }
        #expect(inputs.compactMap { $0["focusd:archivedTo"] as? String } == ["\(f.archive)/busy.tif"])
        try SidecarSchemaTests.validate(sidecar)
    }

    @Test func aTIFFFoundCutShortByTheStartUpScanWaitsForTheRest() async throws {
        let f = DaemonFixture()
        // A real TIFF whose last page has not arrived yet: its first directory points beyond the end.
        var bytes = fakeTIFF("cut")
        bytes.replaceSubrange(4..<8, with: [0x00, 0x10, 0x00, 0x00])   // directory at 4096, file 64 bytes
        drop(bytes, at: "\(f.drop)/cut.tif")
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            try await Task.sleep(for: .milliseconds(1200))
            #expect(processor.calls.isEmpty, "a TIFF cut short was taken as complete")
        }
        #expect(f.logs.lines.contains { $0.contains("not yet a complete TIFF") })
    }

    @Test func aStackThatFailedCanBeMovedOutAndBackOrRetried() async throws {
        let f = DaemonFixture()
        // Failing for good first (a configuration problem), then fixed.
        let processor = FailingUntilFixed()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("r"), at: "\(f.drop)/r.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            #expect(try f.journal().allJobs().map(\.state) == [.failed])
            processor.fixed.set()
            // Moved out and back: same size and mtime, a new arrival all the same.
            #expect(rename("\(f.drop)/r.tif", "\(f.root.path)/r.tif") == 0)
            try await Task.sleep(for: .milliseconds(300))
            #expect(rename("\(f.root.path)/r.tif", "\(f.drop)/r.tif") == 0)
            _ = try await f.jobsWhenSettled(count: 2)
        }
        #expect(try f.journal().allJobs().map(\.state) == [.failed, .done])
        #expect(f.files(in: f.output) == ["r-ro-crate-metadata.json", "r_depth.tif", "r_fused.tif"])
    }

    @Test func retryQueuesAFailedJobAgainByNumberOrName() throws {
        let f = DaemonFixture()
        let journal = try f.journal()
        var job = try #require(try journal.insertDetected(drop: "scope", stack: "q", kind: .file, root: nil,
                                                          inputs: [JobInput(path: "\(f.drop)/q.tif", size: 1, mtime: 1)], now: 1))
        #expect(try journal.retry("q", now: 2) == .notFailed(job))
        job.state = .failed
        job.attempts = 3
        job.error = "gave up"
        try journal.update(job)
        guard case .requeued(let again) = try journal.retry("\(job.id!)", now: 3) else {
            Issue.record("not re-queued")
            return
        }
        #expect(again.state == .queued && again.attempts == 0 && again.error == nil && again.nextAttemptAt == 3)
        job.state = .quarantined
        try journal.update(job)
        guard case .quarantined = try journal.retry("q", now: 4) else {
            Issue.record("a quarantined job must be moved back, not re-queued")
            return
        }
        #expect(try journal.retry("nothing-like-this", now: 5) == .notFound)
    }

    // MARK: Helpers

    static func graph(in path: String) throws -> [[String: Any]] {
        let data = try #require(FileManager.default.contents(atPath: path))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(document["@graph"] as? [[String: Any]])
    }

    static func action(in path: String) throws -> [String: Any] {
        try #require(try graph(in: path).first { $0["@type"] as? String == "CreateAction" })
    }

    /// A configuration error until `fixed` is set.
    final class FailingUntilFixed: StackProcessor, @unchecked Sendable {
        let fixed = LockedFlag()
        let inner = TestProcessor()
        func identity() throws(ProcessFailure) -> ProcessorIdentity { try inner.identity() }
        func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                     clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
            guard fixed.value else { throw ProcessFailure(.configuration, "the model file is missing (injected)") }
            return try inner.process(inputs: inputs, stackName: stackName, outputDirectory: outputDirectory, names: names, clock: clock)
        }
    }
}

/// A flag set from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = false
    var value: Bool { lock.withLock { _value } }
    func set() { lock.withLock { _value = true } }
}

/// Another process holding a file open for writing (appending nothing) until released.
final class OpenFileHolder: @unchecked Sendable {
    let process = Process()
    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec 3>>\"$1\"; echo open; exec sleep 60", "sh", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        _ = pipe.fileHandleForReading.availableData   // "open": the descriptor exists
    }
    func release() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
    deinit { if process.isRunning { release() } }
}
