/// An objective's focus breathing fitted once from several stacks of one instrument, then fixed.
///
/// The breathing fitted in one stack's specimen-model passes (``AlignmentOptions/fitBreathing``)
/// carries an error that depends on the specimen (about ±0.5 % for 1 % on simulated fluorescence),
/// while breathing is a property of the objective: the median over several stacks is close to it,
/// and a breathing that is given is fitted around, not refitted. The daemon collects the fits of a
/// drop folder's first `stacks` stacks and aligns every later stack with their median
/// (`align_calibrate_breathing`); `focusd bench align --calibrate` measures the same route.
public struct BreathingCalibration: Sendable, Codable, Equatable {
    /// One stack's fitted breathing.
    public struct Fit: Sendable, Codable, Equatable {
        /// The stack the breathing was fitted on (a name for the sidecar and the log).
        public var stack: String
        /// The breathing fitted in that stack's passes (0.01 = 1 %).
        public var breathing: Double
        public init(stack: String, breathing: Double) {
            self.stack = stack
            self.breathing = breathing
        }
    }

    /// How many fits the calibration takes.
    public var stacks: Int
    /// The fits in the order they were made; only the first `stacks` count.
    public var fits: [Fit]

    public init(stacks: Int, fits: [Fit]) {
        self.stacks = stacks
        self.fits = fits
    }

    /// The calibrated breathing — the median of the first `stacks` fits — once there are that many;
    /// nil before.
    public var breathing: Double? {
        guard stacks > 0, fits.count >= stacks else { return nil }
        return Self.median(fits.prefix(stacks).map(\.breathing))
    }

    /// The median (the mean of the middle two for an even count); nil for no values.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

extension AlignmentOptions {
    /// These options with the breathing fixed at a calibrated value: no longer fitted per stack, the
    /// passes fit only the shifts around it.
    public func calibrated(breathing: Double) -> AlignmentOptions {
        var options = self
        options.breathing = breathing
        options.fitBreathing = false
        return options
    }
}
