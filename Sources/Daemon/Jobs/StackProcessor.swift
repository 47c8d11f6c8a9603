import Foundation
import Pipeline
import Registration

/// One input file as the processor read it (path, size, sha256) — the pipeline's `FileRecord`.
public typealias ProcessedInput = FileRecord

/// The model a fusion used: file, hash and configuration (JSON text).
public struct ProcessedModel: Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var configurationJSON: String?
    public init(path: String, sha256: String, configurationJSON: String?) {
        self.path = path
        self.sha256 = sha256
        self.configurationJSON = configurationJSON
    }
}

/// What a successful fusion wrote and measured, for the journal and the sidecar.
public struct ProcessReport: Sendable {
    /// Inputs in slice order.
    public var inputs: [ProcessedInput]
    public var sliceNames: [String]
    /// Outputs as written (final paths), with their role: `fused`, `depth`, `confidence`.
    public var outputs: [JobOutput]
    /// Seconds per stage: `load`, `align`, `fuse`, `write`.
    public var stageSeconds: [String: Double]
    /// The fully resolved settings as a JSON object (text).
    public var settingsJSON: String
    public var model: ProcessedModel?
    /// The alignment result as a JSON value (text), when the stack was aligned.
    public var alignmentJSON: String?
    public var width: Int, height: Int, channels: Int, sliceCount: Int
    public var format: String
    /// The outputs, written under temporary names, for the caller to commit together with the
    /// sidecar (or to discard); nothing is under the final names until then.
    public var staged: OutputSet = OutputSet()
    /// Warnings a user should see (they go into the sidecar and the log).
    public var warnings: [String] = []
    /// Conversions to a narrower sample format (the window mapped onto the format's range), as a JSON array.
    public var outputConversionsJSON: String? = nil
    /// The focus breathing this stack's alignment fitted (`align_fit_breathing`), for its drop
    /// folder's calibration; nil when it was given or not fitted.
    public var fittedBreathing: Double? = nil
    /// The drop folder's calibration the breathing was fixed by (`align_calibrate_breathing`), for the sidecar.
    public var breathingCalibration: BreathingCalibration? = nil

    public init(inputs: [ProcessedInput], sliceNames: [String], outputs: [JobOutput], stageSeconds: [String: Double],
                settingsJSON: String, model: ProcessedModel?, alignmentJSON: String?, width: Int, height: Int,
                channels: Int, sliceCount: Int, format: String) {
        self.inputs = inputs
        self.sliceNames = sliceNames
        self.outputs = outputs
        self.stageSeconds = stageSeconds
        self.settingsJSON = settingsJSON
        self.model = model
        self.alignmentJSON = alignmentJSON
        self.width = width
        self.height = height
        self.channels = channels
        self.sliceCount = sliceCount
        self.format = format
    }
}

/// A failed fusion: how the daemon should treat it, and a message naming the file, the problem and the remedy.
public struct ProcessFailure: Error, Sendable, CustomStringConvertible {
    public var kind: FailureKind
    public var message: String
    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// What identifies a processor's results besides the inputs: the resolved settings and the model.
public struct ProcessorIdentity: Sendable, Equatable {
    /// The fully resolved settings as canonical JSON (sorted keys).
    public var settingsJSON: String
    /// The model file's SHA-256, or nil when the engine uses no model.
    public var modelSHA256: String?
    public init(settingsJSON: String, modelSHA256: String?) {
        self.settingsJSON = settingsJSON
        self.modelSHA256 = modelSHA256
    }
}

/// The fusion step the daemon's workers call: the same pipeline as `focusd fuse` in production
/// (`PipelineProcessor`), a stand-in in tests that inject failures.
public protocol StackProcessor: Sendable {
    /// The resolved settings and model hash, for the dedupe fingerprint.
    /// - Throws: `ProcessFailure` (`.configuration`) when the profile or model is unusable.
    func identity() throws(ProcessFailure) -> ProcessorIdentity

    /// Reads the stack from `inputs` (slice order), fuses it and writes the outputs into
    /// `outputDirectory` under `names` with `{stack}` = `stackName` — staged under temporary names
    /// (`ProcessReport.staged`) for the caller to commit with the sidecar or discard; never under the
    /// final names. Does not write the sidecar.
    func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                 clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport

    /// How many of a drop folder's stacks the breathing is fitted on before it is fixed at their
    /// median (the profile's `align_calibrate_breathing`); 0 when the processor does not calibrate.
    var breathingCalibrationStacks: Int { get }

    /// This processor with the breathing fixed by a complete `calibration`; nil when it does not
    /// calibrate or the calibration is not complete.
    func calibrated(by calibration: BreathingCalibration) -> (any StackProcessor)?
}

extension StackProcessor {
    public var breathingCalibrationStacks: Int { 0 }
    public func calibrated(by calibration: BreathingCalibration) -> (any StackProcessor)? { nil }
}
