import ArgumentParser
import Daemon
import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// `focusd reprocess`: fuse a whole archive with a profile, skipping stacks whose outputs are up to date.
struct ReprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprocess",
        abstract: "Fuse every stack in archive folders with a profile, skipping those already up to date.",
        discussion: """
            Finds the stacks under each ARCHIVE with the daemon's rules, everything present taken as complete: \
            multi-page TIFFs, and folders of single-image slices (two or more, or a COMPLETE marker), searched \
            recursively; TIFFs focusd wrote (fused images, maps, aligned stacks) are skipped with a warning. \
            Each stack's outputs go under --out at its path below the archive's own folder name \
            (ARCHIVE = /data/archA, /data/archA/b/run7.tif → OUT/archA/b/run7_fused.tif, run7_depth.tif, \
            run7-ro-crate-metadata.json), however many archives are named, so a later run over some of them finds the \
            same outputs; with --relative-to DIR, at its path below DIR instead (OUT/b/run7_fused.tif for \
            --relative-to /data/archA). Outputs are written atomically with a provenance sidecar (an RO-Crate), as the daemon writes them. A stack is up to date when its sidecar (or a run7.prov.json of the release before) records \
            the profile's fingerprint (resolved settings, model sha256, focusd's fusion version) and its \
            outputs still have the recorded sha256. A journal (OUT/.focusd-reprocess.sqlite; one per shard) lets a killed \
            run resume. Inputs are never modified.

            Sharding for job arrays: --shard i/n (0-based i, 0 ≤ i < n) keeps the stacks whose id (the \
            output path above, e.g. archA/b/run7.tif) hashes (sha256) to i mod n; n tasks with i = 0…n−1 cover the archive \
            exactly once. Exit 0 when every stack succeeded, 1 when any failed, 2 for usage errors.
            """)

    @Option(help: "A profile name (as in 'focusd profiles list') or a profile YAML file.")
    var profile: String

    @Option(help: "The output folder; outputs mirror each stack's path under its archive's folder name (or below --relative-to).")
    var out: String

    @Option(name: .customLong("relative-to"), help: ArgumentHelp("Mirror each stack's path below DIR (which must hold every archive) instead of below its archive's folder name.", valueName: "DIR"))
    var relativeTo: String?

    @Argument(help: "Archive folders to search for stacks.")
    var archives: [String]

    @Flag(name: .customLong("dry-run"), help: "List the stacks that would be fused and why (missing, out of date, failed before); fuse nothing.")
    var dryRun = false

    @Option(help: "The license URI every sidecar's crate declares (default: Creative Commons Attribution 4.0).")
    var license: String?

    @Option(name: .customLong("license-name"), help: "The license's name (default: the URI).")
    var licenseName: String?

    @Option(help: "The facility running focusd, named in every sidecar as the run's agent and the crate's author and publisher.")
    var organization: String?

    @Option(name: .customLong("organization-url"), help: "The facility's web address (https://…), the organization's identifier.")
    var organizationURL: String?

    @Option(help: "Stacks fused at the same time.")
    var jobs: Int = 1

    @Option(help: "Loose slices: the daemon's detection.pattern, a regular expression with named captures (?<stack>…) and (?<z>…) matched against file names; matching files form one stack per 'stack' value.")
    var pattern: String?

    @Option(help: "Process only shard i of n (0-based: 0/4 … 3/4), by a stable hash of each stack's id.")
    var shard: String?

    @Option(name: .customLong("metrics-file"), help: "Write Prometheus metrics (node_exporter textfile format, *.prom) here.")
    var metricsFile: String?

    @Option(help: "The metrics' instance label (default: reprocess); when given, '-<instance>' is added to the --metrics-file name unless it contains the instance or {instance}. A sharded run also labels its series shard=\"i/n\" and, unless the name has {shard}, adds '-shard<i>-of-<n>'.")
    var instance: String?

    @Option(name: .customLong("progress-interval"), help: "Seconds between progress lines when stderr is not a terminal.")
    var progressInterval: Double = 10

    func validate() throws {
        guard !archives.isEmpty else { throw ValidationError("give at least one archive folder") }
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs \(jobs): must be 1…256") }
        guard progressInterval >= 0 else { throw ValidationError("--progress-interval must be ≥ 0") }
        if let shard {
            do { _ = try ShardSpec(parsing: shard) } catch { throw ValidationError(error.description) }
        }
        if let pattern {
            do { _ = try ArchiveScanner.presenceRules(pattern: pattern) } catch { throw ValidationError(error.description) }
        }
        if let instance, !MetricsFileName.isInstanceName(instance) {
            throw ValidationError("--instance \(instance): must be 1–64 letters, digits, '.', '_', '-' or '@' (it names the metrics file)")
        }
        if let metricsFile, !metricsFile.hasSuffix(".prom") {
            throw ValidationError("--metrics-file \(metricsFile): must end in .prom (node_exporter's textfile collector reads only *.prom)")
        }
        try OutputPathCheck.validateReprocess(out: out, archives: archives)
    }

    func run() async throws {
        let shardSpec = try shard.map { try ShardSpec(parsing: $0) } ?? ShardSpec.all
        let profilePath = try ProfilesCommand.locate(profile, extra: nil)
        let loaded = try ProfileLoader.load(.file(profilePath), configurationFile: profilePath)
        let profileName = ((profilePath as NSString).lastPathComponent as NSString).deletingPathExtension
        var reprocessor = try Reprocessor(
            settings: loaded.settings, baseDirectory: loaded.baseDirectory, profileName: profileName, outputDirectory: out,
            software: SoftwareInfo(name: FocusdBuild.name, version: FocusdBuild.version, gitCommit: FocusdBuild.gitCommit))
        if let license {
            guard let parsed = CrateLicense(uri: license, name: licenseName) else {
                throw ValidationError("--license '\(license)' is not a license URI; give its address, e.g. https://creativecommons.org/publicdomain/zero/1.0/")
            }
            reprocessor.license = parsed
        } else if licenseName != nil {
            throw ValidationError("--license-name needs --license (the license's URI)")
        }
        if let organization {
            guard let parsed = CrateOrganization(checkedName: organization, url: organizationURL) else {
                throw ValidationError("--organization needs a name that is not blank, and --organization-url an address starting with https://")
            }
            reprocessor.organization = parsed
        } else if organizationURL != nil {
            throw ValidationError("--organization-url needs --organization (the facility's name)")
        }

        let scan: ArchiveScan
        do {
            scan = try ArchiveScanner(rules: ArchiveScanner.presenceRules(pattern: pattern)).find(archives, relativeTo: relativeTo)
        } catch {
            throw ValidationError(error.description)
        }
        for path in scan.skipped {
            FileHandle.standardError.write(Data("focusd: warning: \(path): skipped, focusd wrote it (an earlier output, not a stack or slice); move it out of the archive\n".utf8))
        }
        let all = scan.stacks
        try OutputPathCheck.validateReprocess(stacks: all, reprocessor: reprocessor, archives: archives)
        let stacks = all.filter { shardSpec.contains($0.id) }
        let shardText = shardSpec.count > 1 ? " in shard \(shardSpec)" : ""

        if dryRun {
            let journal = FileManager.default.fileExists(atPath: reprocessor.journalPath(shard: shardSpec))
                ? try ReprocessJournal(path: reprocessor.journalPath(shard: shardSpec)) : nil
            defer { if let journal { Self.close(journal) } }
            let plan = try reprocessor.plan(stacks, journal: journal)
            for item in plan.toRun { print("would fuse\t\(item.stack.id)\t\(item.reason)") }
            print("reprocess (dry run): \(stacks.count) of \(all.count) stacks\(shardText); \(plan.upToDate.count) up to date, "
                  + "\(plan.toRun.count) would be fused with profile \(profileName) (fingerprint \(reprocessor.profileFingerprint.prefix(12)))")
            return
        }

        try FileManager.default.createDirectory(atPath: reprocessor.outputDirectory, withIntermediateDirectories: true)
        let lock = try ShardLock.acquire(folder: reprocessor.outputDirectory, shard: shardSpec)
        let journal = try ReprocessJournal(path: reprocessor.journalPath(shard: shardSpec))
        // Closed here, on every way out: the workers are joined by then (`Reprocessor.run`).
        defer { Self.close(journal) }
        let plan = try reprocessor.plan(stacks, journal: journal)
        print("reprocess: \(stacks.count) of \(all.count) stacks\(shardText); \(plan.upToDate.count) up to date, "
              + "\(plan.toRun.count) to fuse with profile \(profileName) (fingerprint \(reprocessor.profileFingerprint.prefix(12))), "
              + "\(min(jobs, max(plan.toRun.count, 1))) worker(s)")
        fflush(nil)   // before the progress lines on stderr, also when both go to one log file
        if !plan.toRun.isEmpty {
            reprocessor.breathingCalibration = try reprocessor.calibrateBreathing(over: all) { note in
                FileHandle.standardError.write(Data("focusd: \(note)\n".utf8))
            }
            if let calibration = reprocessor.breathingCalibration, let breathing = calibration.breathing {
                print("reprocess: focus breathing calibrated at \(String(format: "%.3f", 100 * breathing)) % (median of "
                      + calibration.fits.prefix(calibration.stacks).map { "\($0.stack) \(String(format: "%.2f", 100 * $0.breathing)) %" }
                        .joined(separator: ", ") + "; kept in \(reprocessor.breathingCalibrationPath)); every stack is aligned with it")
                fflush(nil)
            }
        }

        let sharded = shardSpec.count > 1 ? shardSpec : nil
        let metrics = metricsFile.map { _ in FocusdMetrics(mode: "reprocess", instance: instance ?? "reprocess", shard: sharded?.description) }
        metrics?.setModels([reprocessor.modelInfo])
        let metricsPath = metricsFile.map { MetricsFileName.resolve(FileOperations.absolutePath($0), instance: instance, shard: sharded) }
        func writeMetrics() {
            guard let metrics, let metricsPath else { return }
            do { try metrics.write(to: metricsPath) } catch {
                FileHandle.standardError.write(Data("focusd: warning: cannot write the metrics file: \(error)\n".utf8))
            }
        }
        metrics?.setQueueDepth(plan.toRun.count)
        writeMetrics()

        let progress = ProgressReporter(total: plan.toRun.count, interval: progressInterval)
        var lastMetricsWrite = Date()
        let outcomes = reprocessor.run(plan.toRun, jobs: jobs, journal: journal, metrics: metrics, onFinish: { outcome in
            if let error = outcome.error {
                progress.report("reprocess: FAILED \(outcome.stack.id) (\(outcome.stack.inputs.first ?? outcome.stack.archive)): \(error)")
            } else if !progress.isTerminal {
                // Logs (batch jobs) get one line per stack.
                progress.report("reprocess: fused \(outcome.stack.id) in \(ProgressReporter.duration(outcome.seconds))")
            }
            progress.finished(failed: outcome.error != nil)
            if let metrics, let metricsPath { try? metrics.write(to: metricsPath) }
        }, tick: {
            progress.tick()
            if Date().timeIntervalSince(lastMetricsWrite) >= 30 {
                lastMetricsWrite = Date()
                writeMetrics()
            }
        })
        progress.end()
        metrics?.setQueueDepth(0)
        metrics?.markStopped()
        writeMetrics()
        withExtendedLifetime(lock) {}

        let failures = outcomes.filter { $0.error != nil }
        print("reprocess: \(outcomes.count - failures.count) fused, \(failures.count) failed, \(plan.upToDate.count) already up to date "
              + "in \(ProgressReporter.duration(progress.elapsed))")
        if !failures.isEmpty {
            for failure in failures.sorted(by: { $0.stack.id < $1.stack.id }) {
                FileHandle.standardError.write(Data("focusd: failed: \(failure.stack.id): \(failure.error ?? "")\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

extension ReprocessCommand {
    /// Closes the journal, warning (not failing: the sidecars already record the outputs) when SQLite refuses.
    static func close(_ journal: ReprocessJournal) {
        do { try journal.close() } catch {
            FileHandle.standardError.write(Data("focusd: warning: \(error.message)\n".utf8))
        }
    }
}

/// An exclusive lock per output folder and shard (`.focusd-reprocess-<i>-of-<n>.lock`), so the same
/// shard never runs twice at once over one output folder.
private enum ShardLock {
    static func acquire(folder: String, shard: ShardSpec) throws -> ExclusiveFileLock {
        let path = (folder as NSString).appendingPathComponent(".focusd-reprocess-\(shard.index)-of-\(shard.count).lock")
        do { return try ExclusiveFileLock(path: path) } catch {
            switch error {
            case .cannotOpen(let reason):
                throw ReprocessError("cannot open \(path): \(reason); make --out writable")
            case .held:
                throw ReprocessError("another 'focusd reprocess' is already running shard \(shard) into \(folder) (\(path) is locked); wait for it or stop it")
            }
        }
    }
}

/// Progress on stderr: a bar with ETA redrawn in place on a terminal; otherwise (logs, batch jobs) a
/// line per finished stack and a summary line every `interval` seconds (`reprocess: 12/40 done, 1 failed, ETA 3m10s`).
final class ProgressReporter: @unchecked Sendable {
    private(set) var total: Int
    let interval: Double
    /// The line prefix (`reprocess`, `fuse`) and what is counted (`done` stacks, `slices read`).
    let label: String
    let counted: String
    let isTerminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private let start = Date()
    private var done = 0
    private var failed = 0
    private var lastLine = Date()
    private var barShown = false

    init(total: Int, interval: Double, label: String = "reprocess", counted: String = "done") {
        self.total = total
        self.interval = interval
        self.label = label
        self.counted = counted
    }

    /// Sets the count directly (and the total, which may be an estimate), then redraws.
    func set(done value: Int, total newTotal: Int) {
        lock.lock()
        done = value
        total = newTotal
        lock.unlock()
        tick()
    }

    var elapsed: Double { Date().timeIntervalSince(start) }

    func finished(failed didFail: Bool) {
        lock.lock()
        done += 1
        if didFail { failed += 1 }
        lock.unlock()
        tick()
    }

    /// A message on its own line (above the bar on a terminal).
    func report(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        emit((barShown ? "\r\u{1B}[K" : "") + message + "\n")
        barShown = false
    }

    /// Redraws the bar, or prints a line when `interval` has passed.
    func tick() {
        lock.lock()
        defer { lock.unlock() }
        if isTerminal {
            emit("\r\u{1B}[K" + bar())
            barShown = true
        } else if Date().timeIntervalSince(lastLine) >= interval && done < total {
            lastLine = Date()
            emit(line() + "\n")
        }
    }

    /// Erases the bar (on a terminal) without a summary line.
    func clear() {
        lock.lock()
        defer { lock.unlock() }
        if isTerminal && barShown { emit("\r\u{1B}[K") }
        barShown = false
    }

    func end() {
        lock.lock()
        defer { lock.unlock() }
        if isTerminal && barShown { emit("\r\u{1B}[K") }
        if total > 0 { emit(line() + "\n") }
    }

    private func line() -> String {
        "\(label): \(done)/\(total) \(counted), " + (label == "reprocess" ? "\(failed) failed, " : "")
            + (done < total ? "ETA \(eta())" : "elapsed \(Self.duration(elapsed))")
    }

    private func bar() -> String {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(done)/\(total) \(counted)" + (label == "reprocess" ? ", \(failed) failed" : "") + ", ETA \(eta())"
    }

    private func eta() -> String {
        guard done > 0 else { return "…" }
        return Self.duration(elapsed / Double(done) * Double(total - done))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return seconds < 10 ? String(format: "%.1fs", seconds) : "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
    }

    private func emit(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
