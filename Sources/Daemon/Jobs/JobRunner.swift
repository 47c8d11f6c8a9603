import Checksum
import Foundation
import Logging

/// A drop folder as the workers see it: its configuration and the processor built from its profile.
public struct DropContext: Sendable {
    public var configuration: DropFolderConfiguration
    public var processor: any StackProcessor
    public init(configuration: DropFolderConfiguration, processor: any StackProcessor) {
        self.configuration = configuration
        self.processor = processor
    }
}

/// Carries out one claimed job — dedupe, fusion, sidecar, then archive or quarantine — recording each
/// step in the journal. The decisions come from `JobStateMachine`; this type only performs them.
struct JobRunner: Sendable {
    let journal: Journal
    let drops: [String: DropContext]
    let software: SoftwareInfo
    let logger: Logger
    /// Wall-clock seconds since 1970 (journal times).
    let now: @Sendable () -> Double
    /// Monotonic seconds (stage timing).
    let monotonic: @Sendable () -> Double
    /// Where finished jobs are counted for Prometheus (`metrics_file:`); nil when off.
    var metrics: MetricsSink? = nil

    /// Runs `job` (already `running`). `isAbandoned` turns true when shutdown gave up waiting and re-queued it.
    func run(_ claimed: JobRecord, isAbandoned: @Sendable () -> Bool) {
        var fusedReport: ProcessReport?
        defer { metrics?.record(job: claimed, report: fusedReport, journal: journal) }
        var job = claimed
        var log = logger
        log[metadataKey: "job"] = "\(job.id ?? 0)"
        log[metadataKey: "stack"] = "\(job.stack)"
        log[metadataKey: "drop"] = "\(job.drop)"
        guard let drop = drops[job.drop] else {
            finish(&job, .fail(.configuration, message: "drop folder '\(job.drop)' is no longer in the configuration; the job was left alone"), log: log)
            return
        }
        let config = drop.configuration
        let startDate = Date()

        // 1. The inputs must still be what was found complete.
        for input in job.inputs {
            guard let sig = FileOperations.signature(input.path), sig.size == input.size, sig.mtime == input.mtime else {
                finish(&job, .fail(.inputsChanged, message: "input \(input.path) changed or vanished after the stack was found complete; a new version is processed once it is stable"), log: log)
                return
            }
        }

        // 2. Hash inputs; a finished job with the same inputs, profile and model makes this one a duplicate.
        let identity: ProcessorIdentity
        do {
            identity = try drop.processor.identity()
        } catch {
            finish(&job, .fail(.configuration, message: error.message), log: log)
            return
        }
        var hashes: [String] = []
        for input in job.inputs {
            do {
                hashes.append(try SHA256.hex(fileAt: input.path))
            } catch {
                let kind: FailureKind = error.errno == ENOENT ? .inputsChanged : .transient
                finish(&job, .fail(kind, message: "cannot read input: \(error)"), log: log)
                return
            }
        }
        let fingerprint = Self.fingerprint(inputHashes: hashes, identity: identity)
        job.inputSHA256 = hashes
        job.fingerprint = fingerprint
        do {
            if let original = try journal.doneJob(fingerprint: fingerprint, excluding: job.id) {
                job.outputs = original.outputs
                job.sidecar = original.sidecar
                job.outputStack = original.outputStack
                log.info("identical to a finished job; not fused again", metadata: ["original": "\(original.id ?? 0)"])
                finish(&job, .duplicate(ofJob: original.id ?? 0), log: log)
                return
            }
        } catch {
            finish(&job, .fail(.transient, message: error.description), log: log)
            return
        }

        // 3. Output names: never another stack's.
        if job.outputStack == nil {
            do {
                job.outputStack = try chooseOutputStack(for: job, config: config)
            } catch {
                finish(&job, .fail(.transient, message: error.description), log: log)
                return
            }
        }
        let outputStack = job.outputStack!
        do {
            try FileOperations.createDirectory(config.output)
            guard try journal.updateIfRunning(job) else { return }
        } catch let error as FileOperationError {
            finish(&job, .fail(error.isTransient ? .transient : .configuration, message: "output folder: \(error)"), log: log)
            return
        } catch {
            finish(&job, .fail(.transient, message: "\(error)"), log: log)
            return
        }

        // 4. Fuse.
        log.info("fusing", metadata: ["slices": "\(job.inputs.count)", "attempt": "\(job.attempts)"])
        let report: ProcessReport
        do {
            report = try drop.processor.process(inputs: job.inputs.map(\.path), stackName: outputStack,
                                                outputDirectory: config.output, names: config.outputs, clock: monotonic)
        } catch {
            var kind = error.kind
            if kind == .badInput, inputsChanged(job) { kind = .inputsChanged }
            finish(&job, .fail(kind, message: error.message), log: log)
            return
        }
        if report.inputs.map(\.sha256) != hashes && !report.inputs.isEmpty {
            // The outputs were made from a version that is no longer there and will get no sidecar:
            // remove them, so no output without provenance is left behind.
            for output in report.outputs { unlink(output.path) }
            finish(&job, .fail(.inputsChanged, message: "the inputs changed while they were read; a new version is processed once it is stable"), log: log)
            return
        }

        // 5. The sidecar, last.
        guard !isAbandoned() else { return }
        let sidecarPath = (config.output as NSString).appendingPathComponent(OutputPatterns.resolve(config.outputs.sidecar, stack: outputStack))
        let sidecar = ProvenanceSidecar(jobID: job.id ?? 0, attempt: job.attempts, stackName: job.stack, dropFolder: config.path,
                                        startTime: startDate, endTime: Date(), succeeded: true, error: nil,
                                        software: software, report: report, fingerprint: fingerprint,
                                        profileFingerprint: ProfileFingerprint.compute(identity: identity))
        do {
            try FileOperations.writeAtomically(sidecar.encoded(), to: sidecarPath)
        } catch {
            finish(&job, .fail(error.isTransient ? .transient : .configuration, message: "cannot write the sidecar: \(error)"), log: log)
            return
        }
        job.outputs = report.outputs
        job.sidecar = sidecarPath
        job.error = nil
        fusedReport = report
        log.info("done", metadata: ["fused": "\(report.outputs.first?.path ?? "")", "sidecar": "\(sidecarPath)",
                                    "seconds": "\(String(format: "%.2f", report.stageSeconds.values.reduce(0, +)))"])
        finish(&job, .succeed, log: log)
    }

    /// SHA-256 over the input hashes (slice order), the canonical settings JSON and the model's hash.
    static func fingerprint(inputHashes: [String], identity: ProcessorIdentity) -> String {
        let text = inputHashes.joined(separator: "\n") + "\nsettings " + identity.settingsJSON + "\nmodel " + (identity.modelSHA256 ?? "none")
        return SHA256.hex(Array(text.utf8))
    }

    private func inputsChanged(_ job: JobRecord) -> Bool {
        job.inputs.contains { input in
            FileOperations.signature(input.path).map { $0.size != input.size || $0.mtime != input.mtime } ?? true
        }
    }

    /// The stack name, or `name-2`, `name-3`, … when another job's outputs already use it.
    private func chooseOutputStack(for job: JobRecord, config: DropFolderConfiguration) throws(JournalError) -> String {
        let inUse = try journal.outputStacksInUse(drop: job.drop, excluding: job.id)
        let base = Self.safeName(job.stack)
        var candidate = base
        var n = 2
        func taken(_ name: String) -> Bool {
            if inUse.contains(name) { return true }
            let patterns = [config.outputs.fused, config.outputs.sidecar] + [config.outputs.depth, config.outputs.confidence].compactMap { $0 }
            return patterns.contains { FileOperations.exists((config.output as NSString).appendingPathComponent(OutputPatterns.resolve($0, stack: name))) }
        }
        while taken(candidate) {
            candidate = "\(base)-\(n)"
            n += 1
        }
        return candidate
    }

    /// A stack name safe for file names: control characters and `/` become `_`.
    static func safeName(_ name: String) -> String {
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { $0.value < 0x20 || $0 == "/" || $0.value == 0x7f ? "_" : $0 }))
        return cleaned.isEmpty ? "stack" : cleaned
    }

    // MARK: Transitions and their side effects

    private func finish(_ job: inout JobRecord, _ event: JobEvent, log: Logger) {
        let policy = drops[job.drop]?.configuration.retry ?? RetryPolicy()
        let transition: JobTransition
        do {
            transition = try JobStateMachine.transition(from: job.state, attempts: job.attempts, event: event, policy: policy, now: now())
        } catch {
            log.error("\(error)")
            return
        }
        job.apply(transition, now: now())
        do {
            guard try journal.updateIfRunning(job) else {
                log.notice("job was re-queued by shutdown while it ran; its result is discarded")
                return
            }
        } catch {
            log.error("cannot record the job's result", metadata: ["error": "\(error)"])
            return
        }
        if case .fail(let kind, let message) = event {
            switch transition.state {
            case .queued:
                log.warning("attempt failed; will retry", metadata: ["kind": "\(kind.rawValue)", "error": "\(message)",
                                                                   "retry_in_s": "\(Int(job.nextAttemptAt - now()))"])
            default:
                log.error("job \(transition.state.rawValue)", metadata: ["kind": "\(kind.rawValue)", "error": "\(message)"])
            }
        }
        for action in transition.actions {
            switch action {
            case .archive:
                archive(job, log: log)
            case .quarantine(let reason):
                quarantine(job, reason: reason, log: log)
            case .runPipeline, .retry, .recordError:
                break
            }
        }
    }

    private func archive(_ job: JobRecord, log: Logger) {
        guard let config = drops[job.drop]?.configuration, let archive = config.archive else { return }
        do {
            let moved = try moveInputs(job, into: archive)
            log.info("inputs archived", metadata: ["to": "\(moved.joined(separator: ","))"])
        } catch {
            log.warning("could not archive the inputs; they stay in the drop folder", metadata: ["error": "\(error)"])
        }
    }

    private func quarantine(_ job: JobRecord, reason: String, log: Logger) {
        guard let config = drops[job.drop]?.configuration else { return }
        do {
            let moved = try moveInputs(job, into: config.quarantine)
            let errorPath = FileOperations.freePath(in: config.quarantine, name: "\(Self.safeName(job.stack)).error.txt")
            let text = """
                focusd could not process the stack '\(job.stack)' from the drop folder \(config.path)
                (job \(job.id ?? 0), \(ISO8601DateFormatter().string(from: Date()))).

                What was wrong:
                  \(reason)

                The inputs were moved here unchanged:
                \(moved.map { "  " + $0 }.joined(separator: "\n"))

                What to do: fix or replace the files named above (or the profile, if the message points at a setting),
                then move them back into \(config.path) to process them again. Delete this file afterwards.

                """
            try FileOperations.writeAtomically(Data(text.utf8), to: errorPath)
            log.warning("inputs quarantined", metadata: ["folder": "\(config.quarantine)", "reason_file": "\(errorPath)"])
        } catch {
            log.error("could not quarantine the inputs; they stay in the drop folder", metadata: ["error": "\(error)"])
        }
    }

    /// Moves the stack's file or folder (or each loose file) into `folder`; returns the new paths.
    private func moveInputs(_ job: JobRecord, into folder: String) throws(FileOperationError) -> [String] {
        try FileOperations.createDirectory(folder)
        var moved: [String] = []
        if let root = job.root {
            guard FileOperations.exists(root) else { return [] }
            let destination = FileOperations.freePath(in: folder, name: (root as NSString).lastPathComponent)
            try FileOperations.move(root, to: destination)
            moved.append(destination)
        } else {
            for input in job.inputs where FileOperations.exists(input.path) {
                let destination = FileOperations.freePath(in: folder, name: (input.path as NSString).lastPathComponent)
                try FileOperations.move(input.path, to: destination)
                moved.append(destination)
            }
        }
        return moved
    }
}
