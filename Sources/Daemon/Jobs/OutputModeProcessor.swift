import Registration

/// A processor whose staged outputs get the daemon's `output_mode:` when they are committed: the
/// daemon wraps each drop folder's processor in one, so the mode applies whatever the processor
/// (and the sidecar the job runner stages beside its outputs, which joins the same set).
struct OutputModeProcessor: StackProcessor {
    let inner: any StackProcessor
    let mode: UInt16

    func identity() throws(ProcessFailure) -> ProcessorIdentity {
        try inner.identity()
    }

    func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                 clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
        var report = try inner.process(inputs: inputs, stackName: stackName, outputDirectory: outputDirectory, names: names, clock: clock)
        report.staged.outputMode = mode
        return report
    }

    var breathingCalibrationStacks: Int { inner.breathingCalibrationStacks }

    func calibrated(by calibration: BreathingCalibration) -> (any StackProcessor)? {
        inner.calibrated(by: calibration).map { OutputModeProcessor(inner: $0, mode: mode) }
    }
}
