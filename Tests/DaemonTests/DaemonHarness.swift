import Foundation
import Logging
import ServiceLifecycle
import SystemCalls
import Testing
@testable import Daemon
@testable import Pipeline

/// A stand-in for the fusion pipeline with the same contract (outputs staged under temporary names
/// for the daemon to commit with the sidecar, inputs never modified), so daemon mechanics are
/// tested without depending on fusion speed:
/// an input that does not start with a TIFF header is bad input; the "fused" output is the inputs
/// concatenated in slice order, so tests can check order and completeness byte for byte.
final class TestProcessor: StackProcessor, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [String] = []
    private var transientFailuresLeft: Int
    private var depthFailuresLeft: Int
    let delay: Double
    let settingsJSON: String

    /// `depthDiskFull`: attempts whose depth map fails to write (no space) after the fused image was written.
    init(delay: Double = 0, transientFailures: Int = 0, depthDiskFull: Int = 0, settingsJSON: String = #"{"engine":"test"}"#) {
        self.delay = delay
        self.transientFailuresLeft = transientFailures
        self.depthFailuresLeft = depthDiskFull
        self.settingsJSON = settingsJSON
    }

    /// The stack names processed, in order (one entry per `process` call).
    var calls: [String] { lock.lock(); defer { lock.unlock() }; return _calls }

    func identity() throws(ProcessFailure) -> ProcessorIdentity {
        ProcessorIdentity(settingsJSON: settingsJSON, modelSHA256: nil)
    }

    func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                 clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
        let t0 = clock()
        lock.lock()
        _calls.append(stackName)
        let failNow = transientFailuresLeft > 0
        if failNow { transientFailuresLeft -= 1 }
        lock.unlock()
        if failNow { throw ProcessFailure(.transient, "\(outputDirectory): no space left on device (injected); free space, the job is retried") }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        var fused = Data()
        var records: [ProcessedInput] = []
        for path in inputs {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProcessFailure(.transient, "\(path): cannot be read")
            }
            guard data.starts(with: [0x49, 0x49, 0x2A, 0x00]) || data.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) else {
                throw ProcessFailure(.badInput, "\(path): not a TIFF file (bad header); re-export the stack as TIFF")
            }
            fused.append(data)
            records.append(ProcessedInput(path: path, size: data.count, sha256: SHA256Hex.of(data)))
        }
        var outputs: [JobOutput] = []
        var staged = OutputSet()
        for (role, pattern) in [("fused", names.fused), ("depth", names.depth)] {
            guard let pattern else { continue }
            let path = (outputDirectory as NSString).appendingPathComponent(OutputPatterns.resolve(pattern, stack: stackName))
            let bytes = role == "fused" ? fused : Data("depth of \(stackName)".utf8)
            let diskFull = role == "depth" && lock.withLock { () -> Bool in
                defer { depthFailuresLeft = max(0, depthFailuresLeft - 1) }
                return depthFailuresLeft > 0
            }
            do {
                if diskFull { throw SystemCallError("write", path: path, code: ENOSPC) }
                try staged.stage(bytes, as: path)
            } catch {
                staged.discard()
                throw ProcessFailure((error as? SystemCallError)?.isTransient ?? true ? .transient : .configuration, "\(error)")
            }
            outputs.append(JobOutput(role: role, path: path, size: bytes.count, sha256: SHA256Hex.of(bytes)))
        }
        var report = ProcessReport(inputs: records, sliceNames: inputs.map { ($0 as NSString).lastPathComponent }, outputs: outputs,
                                   stageSeconds: ["load": 0.001, "fuse": clock() - t0, "write": 0.001], settingsJSON: settingsJSON,
                                   model: nil, alignmentJSON: nil, width: 32, height: 32, channels: 1, sliceCount: inputs.count,
                                   format: "uint16")
        report.staged = staged
        return report
    }
}

import Checksum
enum SHA256Hex {
    static func of(_ data: Data) -> String { SHA256.hex(data) }
}

/// A daemon in a temporary folder: drop, output, archive, quarantine and state folders.
struct DaemonFixture {
    let root = TemporaryFolder("focusd-daemon")
    var drop: String { root.sub("drop") }
    var output: String { root.sub("out") }
    var quarantine: String { root.sub("quarantine") }
    var archive: String { root.sub("archive") }
    var state: String { root.sub("state") }
    let logs = LineCollector()

    func configuration(workers: Int = 1, archive: Bool = false, shutdownTimeout: Double = 10,
                       edit: (inout DropFolderConfiguration) -> Void = { _ in }) -> DaemonConfiguration {
        var rules = DetectionRules()
        rules.stableSeconds = 0.3
        rules.quietSeconds = nil
        var drop = DropFolderConfiguration(name: "scope", path: self.drop, output: output,
                                           archive: archive ? self.archive : nil, quarantine: quarantine,
                                           detection: rules, retry: RetryPolicy(maxAttempts: 3, backoffSeconds: 0.1, maxBackoffSeconds: 1))
        edit(&drop)
        var config = DaemonConfiguration(stateDirectory: state, dropFolders: [drop])
        config.workers = workers
        config.pollIntervalSeconds = 0.05
        config.shutdownTimeoutSeconds = shutdownTimeout
        try? FileManager.default.createDirectory(atPath: self.drop, withIntermediateDirectories: true)
        return config
    }

    var logger: Logger {
        let logs = self.logs
        return Logger(label: "focusd-test") { _ in KeyValueLogHandler(label: "t", level: .debug, sink: { logs.append($0) }) }
    }

    func service(_ config: DaemonConfiguration, processor: any StackProcessor, once: Bool = false) -> DaemonService {
        DaemonService(configuration: config, software: SoftwareInfo(version: "test", gitCommit: "0000000"),
                      logger: logger, once: once, notifier: SystemdNotifier(environment: [:]),
                      processorFactory: { _ in processor })
    }

    /// Runs the daemon until `body` returns, then shuts it down gracefully (as SIGTERM does).
    func serving(_ config: DaemonConfiguration, processor: any StackProcessor,
                 _ body: @Sendable () async throws -> Void) async throws {
        let group = ServiceGroup(services: [service(config, processor: processor)], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                // The body starts only once the daemon watches its folders ("serving" is logged after
                // the watches exist): a file written before that is a start-up-scan case (taken as
                // closed), a different scenario from the one the test describes. On a loaded machine
                // the start can take long; never run the body early — fail instead.
                let deadline = Date().addingTimeInterval(300)
                while !logs.lines.contains(where: { $0.contains("msg=serving") }) {
                    guard Date() < deadline else {
                        throw DaemonError("the daemon did not start serving within 300 s; logs:\n\(logs.lines.suffix(30).joined(separator: "\n"))")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // A clean stop is clean in the log too: no service of the daemon's group ends out of turn.
        #expect(!logs.lines.contains { $0.contains("stopped with an error") },
                "\(logs.lines.filter { $0.contains("error") }.suffix(5))")
    }

    func journal() throws -> Journal { try Journal(path: (state as NSString).appendingPathComponent("journal.sqlite")) }

    /// The jobs in the journal, once all of them are final (or nil after `seconds`).
    func jobsWhenSettled(count: Int, seconds: Double = 20) async throws -> [JobRecord] {
        let deadline = Date().addingTimeInterval(seconds)
        let journal = try journal()
        while Date() < deadline {
            let jobs = try journal.allJobs()
            if jobs.count >= count && jobs.allSatisfy({ $0.state.isFinal }) { return jobs }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Checked once more after the deadline: a test task starved of threads may wake only then.
        let jobs = try journal.allJobs()
        if jobs.count >= count && jobs.allSatisfy({ $0.state.isFinal }) { return jobs }
        Issue.record("jobs did not settle: \(jobs.map { "\($0.stack):\($0.state.rawValue)" }); logs:\n\(logs.lines.suffix(30).joined(separator: "\n"))")
        return jobs
    }

    func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }
}

/// Bytes that pass the test processor's TIFF header check: a TIFF header with no directory (offset 0)
/// and `tag` as its content. The daemon takes it as a complete file (nothing cut short), the real
/// pipeline as unreadable.
func fakeTIFF(_ tag: String, size: Int = 64) -> Data {
    var d = Data([0x49, 0x49, 0x2A, 0x00, 0x00, 0x00, 0x00, 0x00])
    d.append(Data(tag.utf8))
    while d.count < size { d.append(UInt8(d.count % 251)) }
    return d
}

/// Writes `data` as a new file, backdated so its mtime is older than the stability window.
func drop(_ data: Data, at path: String) {
    try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: path, contents: data)
}
