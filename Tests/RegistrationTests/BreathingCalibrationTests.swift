import Testing
@testable import Registration

@Suite struct BreathingCalibrationTests {
    @Test func theCalibrationIsTheMedianOfItsFirstFitsOnceComplete() {
        let fits = [0.014, 0.0081, 0.0098, 0.02, -0.5].enumerated().map { BreathingCalibration.Fit(stack: "s\($0.offset)", breathing: $0.element) }
        #expect(BreathingCalibration(stacks: 3, fits: Array(fits.prefix(2))).breathing == nil, "not before it has its fits")
        #expect(BreathingCalibration(stacks: 3, fits: fits).breathing == 0.0098, "only the first three count")
        #expect(BreathingCalibration(stacks: 4, fits: fits).breathing == (0.0098 + 0.014) / 2, "even count: the middle two's mean")
        #expect(BreathingCalibration(stacks: 5, fits: fits).breathing == 0.0098, "an outlier does not move a median")
        #expect(BreathingCalibration(stacks: 0, fits: fits).breathing == nil)
        #expect(BreathingCalibration.median([]) == nil)
    }

    @Test func calibratedOptionsFixTheBreathingAndStopFittingIt() {
        let options = AlignmentOptions(model: .translation, breathing: 0, renderPasses: 6, fitBreathing: true)
        let calibrated = options.calibrated(breathing: 0.0098)
        #expect(calibrated.breathing == 0.0098 && !calibrated.fitBreathing)
        #expect(calibrated.renderPasses == 6 && calibrated.model == .translation, "the passes still refit the shifts")
    }
}
