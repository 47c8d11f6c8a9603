import Foundation
import Pipeline
import Registration

/// Why a stack is fused again.
public enum ReprocessReason: Sendable, Equatable, CustomStringConvertible {
    /// No sidecar (never fused, or a run stopped before writing it).
    case missing
    /// A sidecar exists but does not match (profile or model changed, output missing or modified).
    case outOfDate(String)
    /// The last attempt failed with this error.
    case failedBefore(String)
    /// A run was killed while fusing it.
    case interrupted

    public var description: String {
        switch self {
        case .missing: "missing"
        case .outOfDate(let why): "out of date: \(why)"
        case .failedBefore(let error): "failed before: \(error)"
        case .interrupted: "interrupted"
        }
    }
}

/// A stack to fuse and why.
public struct ReprocessItem: Sendable, Equatable {
    public var stack: ArchiveStack
    public var reason: ReprocessReason
}

/// What a run will do: the stacks to fuse and those already up to date (both within the shard).
public struct ReprocessPlan: Sendable {
    public var toRun: [ReprocessItem]
    public var upToDate: [ArchiveStack]
}

/// A finished stack, reported to the caller's progress display.
public struct ReprocessOutcome: Sendable {
    public var stack: ArchiveStack
    /// nil on success, else the message (names the file, what was wrong and what to do).
    public var error: String?
    public var seconds: Double
}

/// `focusd reprocess` without the command line: decides which stacks need fusing and fuses them with
/// `jobs` worker threads through the daemon's pipeline, writing outputs and sidecars exactly as the
/// daemon does (atomically, the sidecar last) under `outputDirectory`, mirroring each stack's path.
public struct Reprocessor: Sendable {
    public let settings: FusionSettings
    public let baseDirectory: String?
    /// The profile's name (for metrics).
    public let profileName: String
    public let outputDirectory: String
    public let names: OutputPatterns
    public let profileFingerprint: String
    public let identity: ProcessorIdentity
    public let software: SoftwareInfo
    /// The license the sidecars declare (`--license`).
    public var license: CrateLicense = .default
    /// The facility the sidecars name as agent, author and publisher (`--organization`).
    public var organization: CrateOrganization? = nil

    /// - Throws: `ReprocessError` when the model cannot be found or read.
    public init(settings: FusionSettings, baseDirectory: String?, profileName: String, outputDirectory: String,
                names: OutputPatterns = OutputPatterns(), software: SoftwareInfo) throws(ReprocessError) {
        self.settings = settings
        self.baseDirectory = baseDirectory
        self.profileName = profileName
        self.outputDirectory = FileOperations.absolutePath(outputDirectory)
        self.names = names
        self.software = software
        do {
            identity = try PipelineProcessor(settings: settings, baseDirectory: baseDirectory).identity()
        } catch {
            throw ReprocessError("profile '\(profileName)': \(error.message)")
        }
        profileFingerprint = ProfileFingerprint.compute(identity: identity)
    }

    /// The drop-folder-style breathing calibration this run fuses with (`align_calibrate_breathing`;
    /// `calibrateBreathing(over:)`), or nil: each stack fits its own.
    public var breathingCalibration: BreathingCalibration? = nil

    /// Where a run's breathing calibration is kept in the output folder, for later runs and other shards.
    public var breathingCalibrationPath: String {
        (outputDirectory as NSString).appendingPathComponent(".focusd-breathing-calibration.json")
    }

    /// The calibration file: the profile it was fitted for and the fits.
    struct CalibrationFile: Codable {
        var profileFingerprint: String
        var calibration: BreathingCalibration
    }

    /// With `align_calibrate_breathing: N` (and `align_fit_breathing`): the breathing fitted on the
    /// archive's first N stacks in stack order (all of `archive`, not a shard's: every shard of a run
    /// then calibrates alike), each aligned as fusing it would but not fused, and their median fixed
    /// for every stack — what the daemon does with a drop folder's first stacks, without the first N
    /// fused differently. Kept in the output folder (`breathingCalibrationPath`) for the profile's
    /// fingerprint, so later runs and other shards reuse it rather than refit. A stack that cannot be
    /// aligned is passed over (`note` says so); nil when the profile does not calibrate or the archive
    /// has fewer than N stacks that fit a breathing (then each stack fits its own, as `note` says).
    public func calibrateBreathing(over archive: [ArchiveStack], note: (String) -> Void) throws(ReprocessError) -> BreathingCalibration? {
        let stacks = settings.calibratingStacks
        guard stacks > 0 else { return nil }
        if let data = FileManager.default.contents(atPath: breathingCalibrationPath),
           let file = try? JSONDecoder().decode(CalibrationFile.self, from: data),
           file.profileFingerprint == profileFingerprint, file.calibration.breathing != nil {
            return file.calibration
        }
        let pipeline = FusionPipeline(settings: settings, baseDirectory: baseDirectory)
        var fits: [BreathingCalibration.Fit] = []
        for stack in archive.sorted(by: { $0.id < $1.id }) where fits.count < stacks {
            do {
                if let breathing = try pipeline.fittedBreathing(inputs: stack.inputs) {
                    fits.append(.init(stack: stack.id, breathing: breathing))
                    note("breathing fitted on \(stack.id): \(String(format: "%.3f", 100 * breathing)) % (\(fits.count) of \(stacks) for the calibration)")
                }
            } catch {
                note("breathing calibration passes over \(stack.id): \(error.message)")
            }
        }
        let calibration = BreathingCalibration(stacks: stacks, fits: fits)
        guard calibration.breathing != nil else {
            note("only \(fits.count) of the archive's stacks fitted a breathing, fewer than align_calibrate_breathing's \(stacks): each stack fits its own")
            return nil
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try FileOperations.createDirectory(outputDirectory)
            try FileOperations.writeAtomically(try encoder.encode(CalibrationFile(profileFingerprint: profileFingerprint, calibration: calibration)),
                                               to: breathingCalibrationPath)
        } catch {
            note("cannot keep the breathing calibration in \(breathingCalibrationPath) (\(error)); later runs fit it again")
        }
        return calibration
    }

    /// The journal in the output folder for a shard (the whole archive by default).
    public func journalPath(shard: ShardSpec = .all) -> String {
        (outputDirectory as NSString).appendingPathComponent(ReprocessJournal.fileName(for: shard))
    }

    /// Where a stack's sidecar goes.
    public func sidecarPath(_ stack: ArchiveStack) -> String {
        (outputFolder(stack) as NSString).appendingPathComponent(OutputPatterns.resolve(names.sidecar, stack: stack.stackName))
    }

    /// Where a stack's sidecar went before RO-Crate sidecars (`OutputPatterns.legacySidecar`).
    public func legacySidecarPath(_ stack: ArchiveStack) -> String {
        (outputFolder(stack) as NSString).appendingPathComponent(OutputPatterns.resolve(OutputPatterns.legacySidecar, stack: stack.stackName))
    }

    /// The sidecar the up-to-date check reads: the current one, else one of the earlier release.
    func sidecarToRead(_ stack: ArchiveStack) -> String {
        let current = sidecarPath(stack)
        return FileManager.default.fileExists(atPath: current) ? current : legacySidecarPath(stack)
    }

    public func outputFolder(_ stack: ArchiveStack) -> String {
        stack.outputFolder.isEmpty ? outputDirectory : (outputDirectory as NSString).appendingPathComponent(stack.outputFolder)
    }

    /// Every file a stack's run may write (fused image, maps, sidecar; multi-channel stacks add
    /// `_c<channel>` to the first three), for checking that none lands on or among the inputs.
    public func outputPaths(_ stack: ArchiveStack) -> [String] {
        let folder = outputFolder(stack)
        return ([names.fused, names.sidecar] + [names.depth, names.confidence].compactMap { $0 })
            .map { (folder as NSString).appendingPathComponent(OutputPatterns.resolve($0, stack: stack.stackName)) }
    }

    /// Sorts `stacks` into up to date and to run (with the reason), reading sidecars, hashing outputs
    /// and (when given) the journal.
    public func plan(_ stacks: [ArchiveStack], journal: ReprocessJournal?) throws(ReprocessError) -> ReprocessPlan {
        let entries = try journal?.entries(for: stacks.map(\.id)) ?? [:]
        var plan = ReprocessPlan(toRun: [], upToDate: [])
        for stack in stacks {
            let staleness: String?
            if let sidecar = SidecarSummary.read(sidecarToRead(stack)) {
                staleness = sidecar.staleness(for: profileFingerprint)
                if staleness == nil {
                    plan.upToDate.append(stack)
                    continue
                }
            } else {
                staleness = nil
            }
            let entry = entries[stack.id]
            let reason: ReprocessReason
            if entry?.state == .running {
                reason = .interrupted
            } else if entry?.state == .failed, entry?.profileFingerprint == profileFingerprint {
                reason = .failedBefore(entry?.error ?? "unknown error")
            } else if let staleness {
                reason = .outOfDate(staleness)
            } else {
                reason = .missing
            }
            plan.toRun.append(ReprocessItem(stack: stack, reason: reason))
        }
        return plan
    }

    /// Fuses `items` with `jobs` worker threads. `onFinish` is called (from a worker) after each stack;
    /// `tick` about once a second on the calling thread until all are done. Returns the outcomes in order
    /// of completion, after every worker thread has ended (joined): nothing of the run is left on another thread.
    public func run(_ items: [ReprocessItem], jobs: Int, journal: ReprocessJournal, metrics: FocusdMetrics?,
                    onFinish: @escaping @Sendable (ReprocessOutcome) -> Void, tick: () -> Void) -> [ReprocessOutcome] {
        let queue = WorkQueue(items)
        metrics?.setQueueDepth(items.count)
        let base = PipelineProcessor(settings: settings, baseDirectory: baseDirectory)
        let processor = breathingCalibration.flatMap { base.calibrated(by: $0) as? PipelineProcessor } ?? base
        let workers = max(1, min(jobs, items.count))
        queue.expect(workers: workers)
        let threads = (0..<workers).map { i in
            JoinableThread(name: "focusd-reprocess-\(i)") { [self] in
                while let item = queue.next() {
                    metrics?.setQueueDepth(queue.waiting)
                    let outcome = fuse(item.stack, processor: processor, journal: journal, metrics: metrics)
                    queue.finished(outcome)
                    onFinish(outcome)
                }
                queue.workerExited()
            }
        }
        while !queue.waitForWorkers(seconds: 1) { tick() }
        // Joined, so the workers' references to the journal are gone before the caller closes it.
        for thread in threads { thread.join() }
        tick()
        return queue.outcomes
    }

    /// Fuses one stack: journal `running`, the pipeline, the sidecar (last), journal `done` or `failed`.
    func fuse(_ stack: ArchiveStack, processor: PipelineProcessor, journal: ReprocessJournal, metrics: FocusdMetrics?) -> ReprocessOutcome {
        let start = Date()
        let monotonicStart = DispatchTime.now().uptimeNanoseconds
        let clock: @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds - monotonicStart) * 1e-9 }
        func failed(_ message: String) -> ReprocessOutcome {
            let seconds = Date().timeIntervalSince(start)
            try? journal.finish(stack.id, succeeded: false, seconds: seconds, error: message, now: Date().timeIntervalSince1970)
            metrics?.recordStack(result: "failed")
            return ReprocessOutcome(stack: stack, error: message, seconds: seconds)
        }
        let row: (row: Int64, attempt: Int)
        do {
            row = try journal.start(stack.id, profileFingerprint: profileFingerprint, now: start.timeIntervalSince1970)
        } catch {
            metrics?.recordStack(result: "failed")
            return ReprocessOutcome(stack: stack, error: error.message, seconds: 0)
        }
        let folder = outputFolder(stack)
        let sidecarPath = sidecarPath(stack)
        do {
            try FileOperations.createDirectory(folder)
        } catch {
            return failed("output folder: \(error); create it or fix --out")
        }
        // The old sidecar goes first, so it never describes outputs it did not see being written;
        // temporary files of a killed earlier attempt at this stack's outputs go too.
        unlink(sidecarPath)
        if legacySidecarPath(stack) != sidecarPath { unlink(legacySidecarPath(stack)) }
        removeTemporaries(of: stack, in: folder)

        let report: ProcessReport
        do {
            report = try processor.process(inputs: stack.inputs, stackName: stack.stackName, outputDirectory: folder,
                                           names: names, clock: clock)
        } catch {
            return failed(error.message)
        }
        let fingerprint = JobRunner.fingerprint(inputHashes: report.inputs.map(\.sha256), identity: identity)
        var sidecar = ProvenanceSidecar(jobID: max(row.row, 1), attempt: max(row.attempt, 1), stackName: stack.id,
                                        dropFolder: stack.archive, metadataPath: sidecarPath, startTime: start, endTime: Date(), succeeded: true,
                                        error: nil, software: software, report: report, fingerprint: fingerprint,
                                        profileFingerprint: profileFingerprint)
        sidecar.license = license
        sidecar.organization = organization
        // The images and, last, the sidecar are renamed into place together.
        var staged = report.staged
        do {
            try staged.stage(sidecar.encoded(), as: sidecarPath)
            try staged.commit()
        } catch {
            staged.discard()
            return failed("cannot write the outputs: \(error)")
        }
        let seconds = Date().timeIntervalSince(start)
        do {
            try journal.finish(stack.id, succeeded: true, seconds: seconds, error: nil, now: Date().timeIntervalSince1970)
        } catch {
            // The sidecar makes the stack up to date anyway; the journal only misses its history.
        }
        metrics?.recordStack(result: "done", seconds: seconds, fuseSeconds: report.stageSeconds["fuse"],
                             pairs: max(0, report.sliceCount - 1) * max(1, report.outputs.filter { $0.role == "fused" }.count))
        return ReprocessOutcome(stack: stack, error: nil, seconds: seconds)
    }

    /// Removes hidden temporary files named after this stack's outputs (never another stack's: shards
    /// sharing the folder may be writing theirs).
    private func removeTemporaries(of stack: ArchiveStack, in folder: String) {
        let finals = ([names.fused, names.sidecar] + [names.depth, names.confidence].compactMap { $0 })
            .map { OutputPatterns.resolve($0, stack: stack.stackName) }
        let stems = finals.map { "." + (($0 as NSString).deletingPathExtension) }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in entries where stems.contains(where: { name.hasPrefix($0) })
            && DaemonService.temporaryMarkers.contains(where: { name.contains($0) }) {
            unlink((folder as NSString).appendingPathComponent(name))
        }
    }

    /// The model series for metrics.
    public var modelInfo: FocusdMetrics.ModelInfo {
        FocusdMetrics.ModelInfo(name: settings.engine == .fusiondiff ? ((settings.model ?? "") as NSString).lastPathComponent : "none",
                                sha256: identity.modelSHA256 ?? "", profile: profileName)
    }
}

/// The shared list workers take stacks from.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSCondition()
    private let items: [ReprocessItem]
    private var nextIndex = 0
    private var liveWorkers = 0
    private(set) var outcomesStore: [ReprocessOutcome] = []

    init(_ items: [ReprocessItem]) { self.items = items }

    func next() -> ReprocessItem? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < items.count else { return nil }
        defer { nextIndex += 1 }
        return items[nextIndex]
    }

    var waiting: Int {
        lock.lock()
        defer { lock.unlock() }
        return items.count - nextIndex
    }

    func finished(_ outcome: ReprocessOutcome) {
        lock.lock()
        outcomesStore.append(outcome)
        lock.unlock()
    }

    var outcomes: [ReprocessOutcome] {
        lock.lock()
        defer { lock.unlock() }
        return outcomesStore
    }

    func workerExited() {
        lock.lock()
        liveWorkers -= 1
        lock.broadcast()
        lock.unlock()
    }

    /// Registers the workers about to start (called before starting them).
    func expect(workers: Int) {
        lock.lock()
        liveWorkers += workers
        lock.unlock()
    }

    /// Waits up to `seconds` for every worker to exit; returns whether they have.
    func waitForWorkers(seconds: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if liveWorkers > 0 { _ = lock.wait(until: Date().addingTimeInterval(seconds)) }
        return liveWorkers <= 0
    }
}
