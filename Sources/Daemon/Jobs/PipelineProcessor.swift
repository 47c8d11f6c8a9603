import Checksum
import Foundation
import Pipeline
import Registration

/// The production `StackProcessor`: `FusionPipeline` (the same pipeline as `focusd fuse`) with a
/// drop folder's profile.
public struct PipelineProcessor: StackProcessor {
    public let settings: FusionSettings
    public let baseDirectory: String?
    /// The daemon's `memory_limit_mib` in bytes (below the cgroup's and the machine's), or nil.
    public var memoryLimitBytes: Int?
    /// Where the model is read and hashed: once per process and version of the file, not per stack.
    public var modelStore: ModelStore
    /// The drop folder's breathing calibration (`calibrated(by:)`) and the settings it fixed, which
    /// stacks run with instead of `settings`; nil before the calibration is complete.
    public private(set) var breathingCalibration: BreathingCalibration?
    public private(set) var calibratedSettings: FusionSettings?

    public init(settings: FusionSettings, baseDirectory: String?, memoryLimitBytes: Int? = nil, modelStore: ModelStore = .shared) {
        self.settings = settings
        self.baseDirectory = baseDirectory
        self.memoryLimitBytes = memoryLimitBytes
        self.modelStore = modelStore
    }

    /// Builds the processor for a drop folder from its profile; the factory `DaemonService` takes.
    public static func factory(configurationFile: String, memoryLimitBytes: Int? = nil) -> ProcessorFactory {
        { drop throws(ProcessFailure) -> any StackProcessor in
            do {
                let (settings, base) = try ProfileLoader.load(drop.profile, configurationFile: configurationFile)
                let processor = PipelineProcessor(settings: settings, baseDirectory: base, memoryLimitBytes: memoryLimitBytes)
                _ = try processor.identity()
                return processor
            } catch let error as ConfigurationError {
                throw ProcessFailure(.configuration, error.description)
            } catch let error as ProcessFailure {
                throw error
            } catch {
                throw ProcessFailure(.configuration, "\(error)")
            }
        }
    }

    /// What decides this processor's outputs: the settings as JSON and the model's hash. `threads`
    /// is recorded as 0 (outputs are bit-identical across thread counts), so the dedupe and profile
    /// fingerprints built from it do not change with the machine's or batch task's thread count.
    public func identity() throws(ProcessFailure) -> ProcessorIdentity {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var decisive = settings
        decisive.threads = 0
        let json = (try? encoder.encode(decisive)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        var modelHash: String?
        if settings.engine == .fusiondiff {
            let path: String
            do {
                path = try settings.resolvedModelPath(baseDirectory: baseDirectory)
            } catch {
                throw ProcessFailure(.configuration, error.description)
            }
            do {
                modelHash = try modelStore.sha256(ofModelAt: path)
            } catch {
                throw ProcessFailure(.configuration, error.description)
            }
        }
        return ProcessorIdentity(settingsJSON: json, modelSHA256: modelHash)
    }

    public var breathingCalibrationStacks: Int { settings.calibratingStacks }

    /// This processor with the breathing fixed at `calibration`'s median. Its `identity()` is the
    /// profile's, not the calibrated settings': the dedupe fingerprint names the profile (a stack
    /// fused before and after the calibration is the same stack under the same profile), while the
    /// sidecar records the settings as run and the calibration.
    public func calibrated(by calibration: BreathingCalibration) -> (any StackProcessor)? {
        guard let calibrated = settings.calibrated(by: calibration) else { return nil }
        var processor = self
        processor.breathingCalibration = calibration
        processor.calibratedSettings = calibrated
        return processor
    }

    public func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                        clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
        let report: PipelineReport
        let staged: OutputSet
        do {
            var pipeline = FusionPipeline(settings: calibratedSettings ?? settings, baseDirectory: baseDirectory)
            pipeline.memoryLimitBytes = memoryLimitBytes
            pipeline.modelStore = modelStore
            (report, staged) = try pipeline.runStaged(inputs: inputs, stackName: stackName, outputDirectory: outputDirectory, names: names, clock: clock)
        } catch {
            let kind: FailureKind = switch error.errorClass {
            case .badInput: .badInput
            case .transient: .transient
            case .configuration: .configuration
            }
            throw ProcessFailure(kind, error.message)
        }
        var converted = Self.convert(report, names: names, stackName: stackName)
        converted.staged = staged
        converted.warnings = report.warnings
        converted.breathingCalibration = breathingCalibration
        if (calibratedSettings ?? settings).alignment.fitBreathing {
            converted.fittedBreathing = report.alignment.lazy.compactMap { $0.rendering?.breathing }.first
        }
        if !report.outputConversions.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            converted.outputConversionsJSON = (try? encoder.encode(report.outputConversions)).map { String(decoding: $0, as: UTF8.self) }
        }
        return converted
    }

    static func convert(_ report: PipelineReport, names: OutputPatterns, stackName: String) -> ProcessReport {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json(_ value: some Encodable) -> String? {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
        }
        // Multi-channel stacks add `_c<channel>` before the extension.
        func matches(_ path: String, _ pattern: String?) -> Bool {
            guard let pattern else { return false }
            let target = (OutputPatterns.resolve(pattern, stack: stackName) as NSString).deletingPathExtension
            let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return base == target || (base.hasPrefix(target + "_c") && Int(base.dropFirst(target.count + 2)) != nil)
        }
        let outputs = report.outputs.map { record -> JobOutput in
            let role = matches(record.path, names.fused) ? "fused" : matches(record.path, names.depth) ? "depth"
                : matches(record.path, names.confidence) ? "confidence" : "output"
            return JobOutput(role: role, path: record.path, size: record.size, sha256: record.sha256)
        }
        return ProcessReport(
            inputs: report.inputs.map { ProcessedInput(path: $0.path, size: $0.size, sha256: $0.sha256) },
            sliceNames: report.sliceNames, outputs: outputs, stageSeconds: report.stageSeconds,
            settingsJSON: json(report.settings) ?? "{}",
            model: report.model.map { ProcessedModel(path: $0.path, sha256: $0.sha256, configurationJSON: $0.configuration) },
            alignmentJSON: report.alignment.isEmpty ? nil : json(report.alignment),
            width: report.width, height: report.height, channels: report.channels, sliceCount: report.sliceCount,
            format: report.format)
    }
}

extension FusionPipeline {
    /// Runs the pipeline with output names from a profile, leaving the images staged (written and
    /// fsynced under temporary names) for the caller to commit with more files (the sidecar) or discard.
    public func runStaged(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                          clock: () -> Double) throws(PipelineError) -> (PipelineReport, OutputSet) {
        func inDirectory(_ pattern: String) -> String {
            (outputDirectory as NSString).appendingPathComponent(OutputPatterns.resolve(pattern, stack: stackName))
        }
        let paths = OutputPaths(fused: inDirectory(names.fused), depth: names.depth.map(inDirectory),
                                confidence: names.confidence.map(inDirectory))
        return try runStaged(inputs: inputs, outputs: paths, clock: clock)
    }
}
