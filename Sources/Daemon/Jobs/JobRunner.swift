import Checksum
import Foundation
import Logging
import Pipeline
import Registration
import SystemCalls

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
    /// `output_mode:` for the files a duplicate's output set gets (fused sets get it from their processor).
    var outputMode: UInt16? = nil
    /// The license the sidecars declare (the daemon's `license:`).
    var license: CrateLicense = .default
    /// The facility the sidecars name as agent, author and publisher (the daemon's `organization:`).
    var organization: CrateOrganization? = nil

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

        // 1. The inputs must still be what was found complete — and regular files: a stack folder
        //    with a symbolic link, FIFO or device among its slices is refused as a whole.
        for input in job.inputs {
            if case .other(let kind) = FileOperations.inspect(input.path) {
                finish(&job, .fail(.badInput, message: "slice \(input.path) is \(kind), not a regular file: focusd reads only regular files (a link may point outside the drop folder, a FIFO or device may never end); put the file itself in the folder and drop the stack again"), log: log)
                return
            }
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
                let kind: FailureKind = error.failure.code == ENOENT ? .inputsChanged : .transient
                finish(&job, .fail(kind, message: "cannot read input: \(error)"), log: log)
                return
            }
        }
        let fingerprint = Self.fingerprint(inputHashes: hashes, identity: identity)
        job.inputSHA256 = hashes
        job.fingerprint = fingerprint
        let previous: JobRecord?
        do {
            previous = try journal.previousVersion(of: job)
            if let original = try journal.doneJob(fingerprint: fingerprint, excluding: job.id),
               Self.outputsIntact(original) {
                let unchanged = previous.map { $0.id == original.id || $0.fingerprint == fingerprint } ?? false
                if unchanged {
                    // The same stack, touched but not changed: its outputs are already these.
                    job.outputs = original.outputs
                    job.sidecar = original.sidecar
                    job.outputStack = original.outputStack
                    log.info("unchanged content of a stack already fused; not fused again", metadata: ["original": "\(original.id ?? 0)"])
                    finish(&job, .duplicate(ofJob: original.id ?? 0), log: log)
                    return
                }
                // A sidecar of an earlier release cannot be rewritten for the duplicate: fused afresh.
                if Self.sidecarIsCrate(original) {
                    linkDuplicate(&job, of: original, previous: previous, config: config, log: log)
                    return
                }
            }
        } catch {
            finish(&job, .fail(.transient, message: error.description), log: log)
            return
        }

        // 3. Output names: an earlier version's (replaced as a whole), or a name no other stack uses.
        if let previous, let name = previous.outputStack {
            job.outputStack = name
            job.supersedes = previous.id
        } else if job.outputStack == nil {
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
        } catch let error as SystemCallError {
            finish(&job, .fail(error.isTransient ? .transient : .configuration, message: "output folder: \(error)"), log: log)
            return
        } catch {
            finish(&job, .fail(.transient, message: "\(error)"), log: log)
            return
        }

        // 4. Fuse; the outputs come back staged under temporary names — with the drop folder's
        //    calibrated breathing once its first stacks have fitted it (`align_calibrate_breathing`).
        var processor = drop.processor
        let calibrationStacks = processor.breathingCalibrationStacks
        let profileFingerprint = ProfileFingerprint.compute(identity: identity)
        if calibrationStacks > 0 {
            do {
                let fits = try journal.breathingFits(drop: job.drop, profile: profileFingerprint, limit: calibrationStacks)
                if let calibrated = processor.calibrated(by: BreathingCalibration(stacks: calibrationStacks, fits: fits)) {
                    processor = calibrated
                }
            } catch {
                finish(&job, .fail(.transient, message: error.description), log: log)
                return
            }
        }
        log.info("fusing", metadata: ["slices": "\(job.inputs.count)", "attempt": "\(job.attempts)"])
        let report: ProcessReport
        do {
            report = try processor.process(inputs: job.inputs.map(\.path), stackName: outputStack,
                                           outputDirectory: config.output, names: config.outputs, clock: monotonic)
        } catch {
            var kind = error.kind
            if kind == .badInput, inputsChanged(job) || stillBeingWritten(job, log: log) { kind = .inputsChanged }
            finish(&job, .fail(kind, message: error.message), log: log)
            return
        }
        var staged = report.staged
        // 5. Before anything becomes visible: the inputs must be byte for byte what was fused (the
        //    hashes of what was read, and the size and mtime the stack was found complete with).
        if (report.inputs.map(\.sha256) != hashes && !report.inputs.isEmpty) || inputsChanged(job) {
            staged.discard()
            finish(&job, .fail(.inputsChanged, message: "the inputs changed while they were read; a new version is processed once it is stable"), log: log)
            return
        }

        // 6. The sidecar joins the set, last; the set is recorded, then renamed into place at once.
        guard !isAbandoned() else {
            staged.discard()
            return
        }
        let sidecarPath = (config.output as NSString).appendingPathComponent(OutputPatterns.resolve(config.outputs.sidecar, stack: outputStack))
        var sidecar = ProvenanceSidecar(jobID: job.id ?? 0, attempt: job.attempts, stackName: job.stack, dropFolder: config.path,
                                        metadataPath: sidecarPath, startTime: startDate, endTime: Date(), succeeded: true, error: nil,
                                        software: software, report: report, fingerprint: fingerprint,
                                        profileFingerprint: profileFingerprint)
        sidecar.license = license
        sidecar.organization = organization
        if let previous, let id = previous.id {
            sidecar.supersedes = ProvenanceSidecar.SupersededSet(job: id, outputs: previous.outputs ?? [])
        }
        do {
            try staged.stage(sidecar.encoded(), as: sidecarPath)
        } catch {
            staged.discard()
            finish(&job, .fail(error.isTransient ? .transient : .configuration, message: "cannot write the sidecar: \(error)"), log: log)
            return
        }
        job.outputs = report.outputs
        job.sidecar = sidecarPath
        job.error = nil
        do {
            guard try recordAndCommit(staged, &job) else { return }
        } catch {
            let transient = (error as? SystemCallError)?.isTransient ?? true
            finish(&job, .fail(transient ? .transient : .configuration, message: "cannot move the outputs into place: \(error)"), log: log)
            return
        }
        if let previous { replaced(previous, by: job, log: log) }
        fusedReport = report
        if calibrationStacks > 0, report.breathingCalibration == nil, let fitted = report.fittedBreathing, let id = job.id {
            recordBreathingFit(fitted, job: id, stack: job.stack, drop: job.drop, profile: profileFingerprint,
                               stacks: calibrationStacks, log: log)
        }
        log.info(previous == nil ? "done" : "done; replaced the outputs of an earlier version of the stack", metadata: [
            "fused": "\(report.outputs.first?.path ?? "")", "sidecar": "\(sidecarPath)",
            "seconds": "\(String(format: "%.2f", report.stageSeconds.values.reduce(0, +)))",
        ].merging(previous.map { ["supersedes": "\($0.id ?? 0)"] } ?? [:]) { a, _ in a })
        finish(&job, .succeed, log: log)
    }

    /// Adds a stack's fitted breathing to its drop folder's calibration and says how far it is. A
    /// journal error only costs the calibration this fit (later stacks fit their own).
    private func recordBreathingFit(_ breathing: Double, job: Int64, stack: String, drop: String, profile: String,
                                    stacks: Int, log: Logger) {
        do {
            let fits = try journal.recordBreathingFit(drop: drop, profile: profile, job: job, stack: stack, breathing: breathing,
                                                      limit: stacks, now: Date().timeIntervalSince1970)
            let calibration = BreathingCalibration(stacks: stacks, fits: fits)
            var metadata: Logger.Metadata = ["breathing": "\(String(format: "%.4f", breathing))", "fits": "\(fits.count)", "of": "\(stacks)"]
            if let calibrated = calibration.breathing {
                metadata["calibrated"] = "\(String(format: "%.4f", calibrated))"
                log.notice("focus breathing calibrated for the drop folder: the median of its first stacks' fits; later stacks are aligned with it", metadata: metadata)
            } else {
                log.info("focus breathing fitted; recorded for the drop folder's calibration", metadata: metadata)
            }
        } catch {
            log.warning("cannot record the fitted focus breathing for the drop folder's calibration", metadata: ["error": "\(error)"])
        }
    }

    /// Records `staged` on the running job (so start-up recovery can finish an interrupted commit),
    /// then renames the set into place. Returns false — the set discarded — when the job is no longer
    /// running (shutdown re-queued it). On error the files not yet renamed are removed.
    private func recordAndCommit(_ staged: OutputSet, _ job: inout JobRecord) throws -> Bool {
        job.staged = staged.files
        defer { job.staged = nil }
        do {
            guard try journal.updateIfRunning(job) else {
                staged.discard()
                return false
            }
            try staged.commit()
            return true
        } catch {
            staged.discard()
            throw error
        }
    }

    /// Whether the files of a finished job's output set are still there, byte for byte as recorded
    /// (a duplicate's outputs are links to them: they must be what the sidecar says).
    static func outputsIntact(_ job: JobRecord) -> Bool {
        guard let outputs = job.outputs, !outputs.isEmpty, let sidecar = job.sidecar, FileOperations.signature(sidecar) != nil else { return false }
        return outputs.allSatisfy {
            FileOperations.signature($0.path)?.size == $0.size && (try? SHA256.hex(fileAt: $0.path)) == $0.sha256
        }
    }

    /// Whether a finished job's sidecar is a crate that `ProvenanceSidecar.duplicate` can rewrite
    /// (not a `.prov.json` of an earlier release).
    static func sidecarIsCrate(_ job: JobRecord) -> Bool {
        guard let path = job.sidecar, let data = FileManager.default.contents(atPath: path) else { return false }
        return (try? ProvenanceCrate.decode(data)) != nil
    }

    /// A stack with the same content, profile and model as a finished job, arriving under another
    /// name: its outputs are the original's, linked (or copied) under its own names, with a sidecar
    /// of its own naming its inputs and the original job. All or nothing, like a fused set.
    private func linkDuplicate(_ job: inout JobRecord, of original: JobRecord, previous: JobRecord?,
                               config: DropFolderConfiguration, log: Logger) {
        let name: String
        if let previous, let stack = previous.outputStack {
            name = stack
            job.supersedes = previous.id
        } else {
            do { name = try chooseOutputStack(for: job, config: config) } catch {
                finish(&job, .fail(.transient, message: error.description), log: log)
                return
            }
        }
        job.outputStack = name
        guard let originalStack = original.outputStack, let originalSidecar = original.sidecar,
              let data = FileManager.default.contents(atPath: originalSidecar) else {
            finish(&job, .fail(.transient, message: "cannot read the sidecar of job \(original.id ?? 0)"), log: log)
            return
        }
        var staged = OutputSet()
        staged.outputMode = outputMode
        var outputs: [JobOutput] = []
        var renamed: [String: String] = [:]
        do {
            try FileOperations.createDirectory(config.output)
            for output in original.outputs ?? [] {
                let file = (output.path as NSString).lastPathComponent
                let newName = file.hasPrefix(originalStack) ? name + file.dropFirst(originalStack.count) : "\(name)_\(file)"
                let target = (config.output as NSString).appendingPathComponent(newName)
                let temporary = FileOperations.temporaryPath(for: target)
                try FileOperations.linkOrCopy(output.path, to: temporary)
                staged.add(temporary: temporary, final: target)
                outputs.append(JobOutput(role: output.role, path: target, size: output.size, sha256: output.sha256))
                renamed[output.path] = target
            }
            for (old, new) in zip(original.inputs, job.inputs) { renamed[old.path] = new.path }
            let sidecarPath = (config.output as NSString).appendingPathComponent(OutputPatterns.resolve(config.outputs.sidecar, stack: name))
            let document = try ProvenanceSidecar.duplicate(of: data, renaming: renamed, jobID: job.id ?? 0, attempt: job.attempts,
                                                           stackName: job.stack, metadataPath: sidecarPath, original: original.id ?? 0,
                                                           supersedes: previous.flatMap { p in p.id.map { ($0, p.outputs ?? []) } })
            try staged.stage(document, as: sidecarPath)
            job.outputs = outputs
            job.sidecar = sidecarPath
            job.duplicateOf = original.id
            guard try recordAndCommit(staged, &job) else { return }
        } catch {
            staged.discard()
            let transient = (error as? SystemCallError)?.isTransient ?? true
            finish(&job, .fail(transient ? .transient : .configuration, message: "cannot link the outputs of job \(original.id ?? 0): \(error)"), log: log)
            return
        }
        if let previous { replaced(previous, by: job, log: log) }
        log.info("identical to a finished job; its outputs linked under this stack's names", metadata: ["original": "\(original.id ?? 0)"])
        finish(&job, .duplicate(ofJob: original.id ?? 0), log: log)
    }

    /// After `job`'s set replaced `previous`'s under the same names: the earlier job is marked, and
    /// its files that the new set does not have (a channel fewer, a map no longer asked for) removed.
    private func replaced(_ previous: JobRecord, by job: JobRecord, log: Logger) {
        guard let old = previous.id, let new = job.id else { return }
        do { try journal.markSuperseded(old, by: new) } catch {
            log.warning("cannot record that the earlier job was replaced", metadata: ["error": "\(error)"])
        }
        let kept = Set((job.outputs ?? []).map(\.path) + [job.sidecar].compactMap { $0 })
        for output in previous.outputs ?? [] where !kept.contains(output.path) { unlink(output.path) }
        // A sidecar under the name of an earlier release (`.prov.json`) would describe outputs no longer there.
        if let sidecar = previous.sidecar, !kept.contains(sidecar) { unlink(sidecar) }
    }

    /// Whether some visible process still has one of the job's inputs open for writing.
    private func stillBeingWritten(_ job: JobRecord, log: Logger) -> Bool {
        guard let writing = Self.openForWriting(job) else { return false }
        log.notice("input still open for writing; left in place, not quarantined", metadata: ["files": "\(writing)"])
        return true
    }

    /// The job's inputs some visible process has open for writing (comma-separated), or nil.
    static func openForWriting(_ job: JobRecord) -> String? {
        let writing = OpenWriters.openForWriting(job.inputs.map(\.path))
        return writing.isEmpty ? nil : writing.sorted().joined(separator: ",")
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
                archive(&job, log: log)
            case .quarantine(let reason):
                quarantine(job, reason: reason, log: log)
            case .runPipeline, .retry, .recordError:
                break
            }
        }
    }

    /// Moves the inputs into the archive — unless they changed since they were fused or a process
    /// still has one open for writing (they stay; a new version is fused when it is complete) — and
    /// records where they went, in the journal and in the sidecar.
    private func archive(_ job: inout JobRecord, log: Logger) {
        guard let config = drops[job.drop]?.configuration, let archive = config.archive else { return }
        if inputsChanged(job) {
            log.notice("inputs changed after fusing; not archived (the new version is fused when complete)")
            setArchivePending(&job, nil, log: log)
            return
        }
        if let writing = Self.openForWriting(job) {
            if job.archivePending != true {
                log.notice("inputs still open for writing; not archived yet (retried until the writer lets go)",
                           metadata: ["files": "\(writing)"])
            }
            setArchivePending(&job, true, log: log)
            return
        }
        job.archivePending = nil
        let moved: [(from: String, to: String)]
        do {
            moved = try moveInputs(job, into: archive)
        } catch {
            log.warning("could not archive the inputs; they stay in the drop folder", metadata: ["error": "\(error)"])
            return
        }
        log.info("inputs archived", metadata: ["to": "\(moved.map(\.to).joined(separator: ","))"])
        // Each input's new path: the moved file itself, or the input inside the moved folder.
        var archivedTo: [String: String] = [:]
        for input in job.inputs {
            for m in moved where input.path == m.from || input.path.hasPrefix(m.from + "/") {
                archivedTo[input.path] = m.to + input.path.dropFirst(m.from.count)
            }
        }
        job.archivedTo = job.inputs.compactMap { archivedTo[$0.path] }
        do { try journal.update(job) } catch {
            log.warning("cannot record where the inputs were archived", metadata: ["error": "\(error)"])
        }
        if let path = job.sidecar {
            do {
                try FileOperations.writeAtomically(ProvenanceSidecar.recordingArchive(in: path, archivedTo: job.inputs.map { archivedTo[$0.path] }), to: path)
            } catch {
                log.warning("cannot record the archive location in the sidecar", metadata: ["error": "\(error)"])
            }
        }
    }

    private func setArchivePending(_ job: inout JobRecord, _ value: Bool?, log: Logger) {
        guard job.archivePending != value else { return }
        job.archivePending = value
        do { try journal.update(job) } catch {
            log.warning("cannot record that archiving waits", metadata: ["error": "\(error)"])
        }
    }

    /// Archives the inputs of finished jobs that waited for a writer to let go (checked on each
    /// intake tick): archived once no visible process has them open, dropped from the list when they
    /// changed (the new version is fused and archived in its turn).
    func retryPendingArchives() {
        guard let pending = try? journal.pendingArchives() else { return }
        for var job in pending {
            var log = logger
            log[metadataKey: "job"] = "\(job.id ?? 0)"
            log[metadataKey: "stack"] = "\(job.stack)"
            archive(&job, log: log)
        }
    }

    private func quarantine(_ job: JobRecord, reason: String, log: Logger) {
        guard let config = drops[job.drop]?.configuration else { return }
        if let writing = Self.openForWriting(job) {
            log.warning("inputs still open for writing; not quarantined (they stay in the drop folder)", metadata: ["files": "\(writing)"])
            return
        }
        do {
            let moved = try moveInputs(job, into: config.quarantine).map(\.to)
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

    /// Moves the stack's file or folder (or each loose file) into `folder`; returns what moved where.
    private func moveInputs(_ job: JobRecord, into folder: String) throws(SystemCallError) -> [(from: String, to: String)] {
        try FileOperations.createDirectory(folder)
        var moved: [(from: String, to: String)] = []
        if let root = job.root {
            guard FileOperations.exists(root) else { return [] }
            let destination = FileOperations.freePath(in: folder, name: (root as NSString).lastPathComponent)
            try FileOperations.move(root, to: destination)
            moved.append((root, destination))
        } else {
            for input in job.inputs where FileOperations.exists(input.path) {
                let destination = FileOperations.freePath(in: folder, name: (input.path as NSString).lastPathComponent)
                try FileOperations.move(input.path, to: destination)
                moved.append((input.path, destination))
            }
        }
        return moved
    }
}
