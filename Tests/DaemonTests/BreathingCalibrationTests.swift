import Foundation
import Testing
@testable import Daemon
@testable import Pipeline
import Registration

/// The daemon's per-drop-folder breathing calibration (`align_calibrate_breathing`): the breathing
/// fitted on a folder's first stacks, then fixed at their median for every later stack, across
/// restarts, recorded in the sidecar; a changed profile starts afresh.
@Suite(.serialized) struct BreathingCalibrationTests {
    /// What each `process` call ran with: the stack and the calibrated breathing (nil: fitted).
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var _runs: [(stack: String, calibrated: Double?)] = []
        func append(_ stack: String, _ calibrated: Double?) { lock.withLock { _runs.append((stack, calibrated)) } }
        var runs: [(stack: String, calibrated: Double?)] { lock.withLock { _runs } }
    }

    /// `TestProcessor` that calibrates over `stacks` stacks: uncalibrated, it reports the breathing
    /// `fits` gives its stack as fitted; calibrated, it reports none and carries the calibration.
    struct CalibratingProcessor: StackProcessor {
        let base: TestProcessor
        let stacks: Int
        let fits: [String: Double]
        let recorder: Recorder
        var calibration: BreathingCalibration?

        var breathingCalibrationStacks: Int { stacks }
        func identity() throws(ProcessFailure) -> ProcessorIdentity { try base.identity() }
        func calibrated(by calibration: BreathingCalibration) -> (any StackProcessor)? {
            guard calibration.breathing != nil else { return nil }
            var copy = self
            copy.calibration = calibration
            return copy
        }
        func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                     clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
            var report = try base.process(inputs: inputs, stackName: stackName, outputDirectory: outputDirectory, names: names, clock: clock)
            recorder.append(stackName, calibration?.breathing)
            report.breathingCalibration = calibration
            report.fittedBreathing = calibration == nil ? fits[stackName] : nil
            return report
        }
    }

    static let fits = ["a": 0.0140, "b": 0.0081, "c": 0.0098, "d": 0.0123, "e": 0.0150, "f": 0.0060]

    /// Drops `names` one at a time, each waited for, so they are fused in this order.
    func dropInOrder(_ names: [String], _ f: DaemonFixture, settled: Int) async throws {
        for (i, name) in names.enumerated() {
            drop(fakeTIFF(name), at: (f.drop as NSString).appendingPathComponent("\(name).tif"))
            _ = try await f.jobsWhenSettled(count: settled + i + 1)
        }
    }

    @Test func theFirstStacksCalibrateAndLaterOnesUseTheirMedianAcrossARestart() async throws {
        let f = DaemonFixture()
        let recorder = Recorder()
        let processor = CalibratingProcessor(base: TestProcessor(), stacks: 3, fits: Self.fits, recorder: recorder)
        try await f.serving(f.configuration(), processor: processor) {
            try await dropInOrder(["a", "b", "c", "d"], f, settled: 0)
        }
        // Restarted daemon, same journal: the calibration holds.
        try await f.serving(f.configuration(), processor: processor) {
            try await dropInOrder(["e"], f, settled: 4)
        }
        let median = 0.0098  // of a, b, c
        #expect(recorder.runs.map(\.stack) == ["a", "b", "c", "d", "e"])
        #expect(recorder.runs.map(\.calibrated) == [nil, nil, nil, median, median])
        let journal = try f.journal()
        let profile = ProfileFingerprint.compute(identity: try processor.identity())
        #expect(try journal.breathingFits(drop: "scope", profile: profile, limit: 10)
                == [.init(stack: "a", breathing: 0.0140), .init(stack: "b", breathing: 0.0081), .init(stack: "c", breathing: 0.0098)],
                "only the calibrating stacks' fits are kept")
        #expect(f.logs.lines.contains { $0.contains("focus breathing calibrated") && $0.contains("calibrated=0.0098") })

        // The sidecar of a calibrated stack names the calibration and the fits it is the median of.
        let sidecar = try String(contentsOfFile: (f.output as NSString).appendingPathComponent("d-ro-crate-metadata.json"), encoding: .utf8)
        #expect(sidecar.contains("#breathingCalibration/breathing"))
        #expect(sidecar.contains("#breathingCalibration/fits/2/stack"))
        #expect(sidecar.contains("0.0098"))
        let first = try String(contentsOfFile: (f.output as NSString).appendingPathComponent("a-ro-crate-metadata.json"), encoding: .utf8)
        #expect(!first.contains("breathingCalibration"), "a calibrating stack's own fit is in its alignment, not a calibration")
    }

    @Test func aChangedProfileCalibratesAfreshAndResetForgets() async throws {
        let f = DaemonFixture()
        let recorder = Recorder()
        let first = CalibratingProcessor(base: TestProcessor(settingsJSON: #"{"objective":"20x"}"#), stacks: 2, fits: Self.fits, recorder: recorder)
        try await f.serving(f.configuration(), processor: first) {
            try await dropInOrder(["a", "b", "c"], f, settled: 0)
        }
        let other = CalibratingProcessor(base: TestProcessor(settingsJSON: #"{"objective":"60x"}"#), stacks: 2, fits: Self.fits, recorder: recorder)
        try await f.serving(f.configuration(), processor: other) {
            try await dropInOrder(["d", "e", "f"], f, settled: 3)
        }
        #expect(recorder.runs.map(\.calibrated) == [nil, nil, (0.0140 + 0.0081) / 2, nil, nil, (0.0123 + 0.0150) / 2])
        let journal = try f.journal()
        #expect(try journal.resetBreathingCalibration(drop: "scope") == 4)
        #expect(try journal.breathingFits(drop: "scope", profile: ProfileFingerprint.compute(identity: try other.identity()), limit: 10).isEmpty)
    }

    @Test func theJournalKeepsAtMostTheCalibrationsFitsAndEachJobOnce() throws {
        let folder = TemporaryFolder("focusd-breathing-journal")
        let journal = try Journal(path: folder.sub("journal.sqlite"))
        var fits: [BreathingCalibration.Fit] = []
        for (job, value) in [(1, 0.01), (1, 0.02), (2, 0.03), (3, 0.04), (4, 0.05)] {
            fits = try journal.recordBreathingFit(drop: "scope", profile: "p", job: Int64(job), stack: "s\(job)", breathing: value,
                                                  limit: 3, now: 0)
        }
        #expect(fits.map(\.breathing) == [0.01, 0.03, 0.04])
        #expect(try journal.breathingFits(drop: "other", profile: "p", limit: 3).isEmpty)
    }

    @Test func pipelineProcessorRunsWithTheCalibratedSettingsButKeepsTheProfilesIdentity() throws {
        var settings = FusionSettings()
        settings.alignment = AlignmentOptions(model: .translation, renderPasses: 2, fitBreathing: true)
        settings.breathingCalibrationStacks = 3
        let processor = PipelineProcessor(settings: settings, baseDirectory: nil)
        #expect(processor.breathingCalibrationStacks == 3)
        #expect(processor.calibrated(by: BreathingCalibration(stacks: 3, fits: [.init(stack: "a", breathing: 0.01)])) == nil)
        let complete = BreathingCalibration(stacks: 3, fits: [.init(stack: "a", breathing: 0.012), .init(stack: "b", breathing: 0.008),
                                                               .init(stack: "c", breathing: 0.011)])
        let calibrated = try #require(processor.calibrated(by: complete) as? PipelineProcessor)
        #expect(try calibrated.identity() == processor.identity(), "the dedupe fingerprint names the profile")
        #expect(calibrated.breathingCalibration == complete)
        let run = try #require(calibrated.calibratedSettings)
        #expect(run.alignment.breathing == 0.011 && !run.alignment.fitBreathing && run.breathingCalibrationStacks == 0)
        #expect(run.alignment.renderPasses == 2 && run.alignment.model == .translation)
        #expect(processor.calibratedSettings == nil)
        var without = settings
        without.breathingCalibrationStacks = 0
        #expect(PipelineProcessor(settings: without, baseDirectory: nil).breathingCalibrationStacks == 0)
    }

    @Test func statusShowsTheCalibrationAndRecalibrateForgetsIt() throws {
        let f = DaemonFixture()
        let path = f.root.sub("focusd.yaml")
        try """
            state_directory: \(f.state)
            drop_folders:
              - path: \(f.drop)
                name: scope
                output: \(f.output)
                profile: { engine: reference, align: translation, align_render_passes: 2, align_fit_breathing: true, align_calibrate_breathing: 2 }
              - path: \(f.root.sub("other"))
                name: plain
                output: \(f.output)
                profile: { engine: reference }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try DaemonConfiguration.load(path: path)
        let journal = try Journal(path: configuration.journalPath)
        #expect(try DropBreathingCalibration.all(in: configuration, journal: journal).map(\.summary)
                == ["scope: calibrating the focus breathing, 0 of 2 stacks fitted"], "a folder that does not calibrate is not listed")
        let (settings, base) = try ProfileLoader.load(configuration.dropFolders[0].profile, configurationFile: path)
        let profile = ProfileFingerprint.compute(identity: try PipelineProcessor(settings: settings, baseDirectory: base).identity())
        for (job, value) in [(1, 0.0090), (2, 0.0112)] {
            try journal.recordBreathingFit(drop: "scope", profile: profile, job: Int64(job), stack: "s\(job)", breathing: value, limit: 2, now: 0)
        }

        func focusd(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DaemonProcessTests.binary)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let status = try focusd(["status", "--config", path])
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.contains("scope: focus breathing calibrated at 1.010 % (median of s1 0.90 %, s2 1.12 %)"), "\(status.output)")
        let reset = try focusd(["recalibrate", "scope", "--config", path])
        #expect(reset.status == 0 && reset.output.contains("scope: 2 breathing fits forgotten"), "\(reset.output)")
        #expect(try focusd(["status", "--config", path]).output.contains("scope: calibrating the focus breathing, 0 of 2 stacks fitted"))
        let unknown = try focusd(["recalibrate", "scope2", "--config", path])
        #expect(unknown.status != 0 && unknown.output.contains("no drop folder named 'scope2'") && unknown.output.contains("scope, plain"),
                "\(unknown.output)")
    }

    @Test func reprocessCalibratesOnTheArchivesFirstStacksKeepsItAndFusesEveryStackWithIt() throws {
        let dir = TemporaryFolder("reprocess-breathing")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.make(at: archive)
        var settings = FusionSettings()
        settings.engine = .reference
        settings.alignment = AlignmentOptions(model: .translation, renderPasses: 1, fitBreathing: true)
        settings.breathingCalibrationStacks = 2
        let software = SoftwareInfo(version: "test", gitCommit: "unknown")
        let reprocessor = try Reprocessor(settings: settings, baseDirectory: nil, profileName: "calibrating", outputDirectory: out, software: software)
        let stacks = try ArchiveScanner().scan([archive])
        var notes: [String] = []
        let calibration = try #require(try reprocessor.calibrateBreathing(over: stacks) { notes.append($0) })
        let first = stacks.map(\.id).sorted().prefix(2)
        #expect(calibration.fits.map(\.stack) == Array(first), "the archive's first stacks in stack order, whatever the shard")
        #expect(calibration.breathing == (calibration.fits[0].breathing + calibration.fits[1].breathing) / 2)
        #expect(notes.filter { $0.hasPrefix("breathing fitted on") }.count == 2, "\(notes)")

        // Kept for the profile: another run (or shard) reuses it without aligning anything.
        let again = try Reprocessor(settings: settings, baseDirectory: nil, profileName: "calibrating", outputDirectory: out, software: software)
        #expect(try again.calibrateBreathing(over: []) { _ in } == calibration)
        // Another profile does not; with more stacks to calibrate over than the archive has, none.
        var more = settings
        more.breathingCalibrationStacks = 5
        let other = try Reprocessor(settings: more, baseDirectory: nil, profileName: "more", outputDirectory: out, software: software)
        notes = []
        #expect(try other.calibrateBreathing(over: stacks) { notes.append($0) } == nil)
        #expect(notes.last?.contains("fewer than align_calibrate_breathing's 5: each stack fits its own") == true, "\(notes)")

        // Every stack is fused with the calibrated breathing, and its sidecar says so.
        var run = reprocessor
        run.breathingCalibration = calibration
        let journal = try ReprocessJournal(path: run.journalPath())
        let outcomes = run.run(try run.plan(stacks, journal: journal).toRun, jobs: 1, journal: journal, metrics: nil, onFinish: { _ in }, tick: {})
        try journal.close()
        #expect(outcomes.count == 3 && outcomes.allSatisfy { $0.error == nil }, "\(outcomes.compactMap(\.error))")
        let sidecar = try String(contentsOfFile: "\(out)/archive/b/c/run3-ro-crate-metadata.json", encoding: .utf8)
        #expect(sidecar.contains("#breathingCalibration/fits/1/stack"))
        #expect(!sidecar.contains("align_fit_breathing"), "the settings as run: the breathing given, not fitted")
    }
}
