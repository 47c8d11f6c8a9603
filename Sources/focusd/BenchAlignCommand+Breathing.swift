import Foundation
import Imaging
import Pipeline
import Registration
import Simulation

/// The breathing set of `focusd bench align`: simulated 16-bit widefield fluorescence stacks (sparse
/// bright structure, photon noise) whose magnification changes with focus and whose stage drifts,
/// aligned with a profile's alignment settings (by default `fluorescence-16bit`'s), scored against
/// the simulator's true transforms.
extension BenchAlignCommand {
    /// The textures tuned against (in `shared/data/train/microscopy`); others are held-out checks.
    static let breathingTextures = ["microtubules_16bit.tif", "bacteria_cords_16bit.tif", "nuclei_golgi_2ch_16bit.tif"]
    /// Slice counts, rotated over the textures.
    static let breathingDepths = [16, 24, 32]

    struct BreathingMeasurement: Codable {
        var name: String
        var texture: String
        var slices: Int
        var width: Int
        var height: Int
        var breathing: Double
        var drift: Double
        var photons: Double
        var model: String
        var alignSeconds: Double
        var cornerErrorMedian: Double
        var cornerErrorMax: Double
        var unaligned: Int
        var reference: Int
        /// Per slice (stack order, the reference slice 0): the largest corner error, pixels.
        var cornerErrors: [Double]
        /// The breathing the alignment fitted (`align_fit_breathing`); nil when it was given.
        var fittedBreathing: Double?
        /// The breathing the alignment was given (a calibration, or the profile's `align_breathing`).
        var givenBreathing: Double?
        /// The specimen model the passes chose (`align_render_passes`): layering and PSF growth
        /// (full-resolution px per slice); nil without passes.
        var modelLayering: String?
        var modelGrowth: Double?
    }

    /// The fusion settings of `profile` (a name or a YAML file); their alignment aligns the set.
    func profileSettings() throws -> FusionSettings {
        let path = try ProfilesCommand.locate(profile, extra: nil)
        return try ProfileLoader.load(.file(path), configurationFile: path).settings
    }

    /// What the breathing set measured: the stacks scored, and the calibration stacks fitted first
    /// when the breathing is calibrated (`--calibrate`, or the profile's `align_calibrate_breathing`).
    struct BreathingRun: Codable {
        var calibrationStacks: [BreathingMeasurement] = []
        var calibratedBreathing: Double?
        var stacks: [BreathingMeasurement] = []
    }

    /// Simulates and aligns one breathing stack per texture. With a calibration (`calibrationStacks`
    /// > 0 and a profile that fits the breathing) first simulates that many other stacks of the same
    /// instrument (other seeds, surfaces and depths, cycling over `calibrationTextures` or the scored
    /// textures), fits the breathing on each as the daemon does on a drop folder's first stacks, and
    /// aligns the scored stacks with the median fixed — what every later stack of the folder gets.
    func measureBreathing(root: String, settings: FusionSettings, calibrationStacks: Int) throws -> BreathingRun {
        let files = textures.isEmpty ? Self.breathingTextures.map { root + "/train/microscopy/" + $0 } : textures
        var run = BreathingRun()
        var options = settings.alignment
        if calibrationStacks > 0 && options.fitBreathing {
            let sources = calibrationTextures.isEmpty ? files : calibrationTextures
            var fits: [BreathingCalibration.Fit] = []
            for i in 0..<calibrationStacks {
                let file = sources[i % sources.count]
                let m = try measureBreathingStack(file: file, slices: Self.breathingDepths[(i + 1) % Self.breathingDepths.count],
                                                  surfaceSteps: 1 + (i + 2) % 3, seed: UInt64(9000 + i), options: options,
                                                  label: "calibration \(i + 1)")
                run.calibrationStacks.append(m)
                if let fitted = m.fittedBreathing { fits.append(.init(stack: m.name, breathing: fitted)) }
            }
            var calibrationSettings = settings
            calibrationSettings.breathingCalibrationStacks = calibrationStacks
            guard let calibrated = calibrationSettings.calibrated(by: BreathingCalibration(stacks: calibrationStacks, fits: fits)) else {
                throw BenchStacksError(path: sources[0], message: "only \(fits.count) of \(calibrationStacks) calibration stacks fitted a breathing")
            }
            options = calibrated.alignment
            run.calibratedBreathing = options.breathing
        }
        for (i, file) in files.enumerated() {
            run.stacks.append(try measureBreathingStack(file: file, slices: Self.breathingDepths[i % Self.breathingDepths.count],
                                                        surfaceSteps: 1 + i % 3, seed: UInt64(7000 + i), options: options))
        }
        return run
    }

    /// Simulates one breathing stack from `file`'s first channel and aligns it with `options`.
    func measureBreathingStack(file: String, slices: Int, surfaceSteps: Int, seed: UInt64,
                               options: Registration.AlignmentOptions, label: String? = nil) throws -> BreathingMeasurement {
        var image = try ImageFile.read(file).image
        if image.channels > 1 { image = image.channel(0) }
        image = BenchmarkStack.centreCrop(image, side: crop)
        var settings = MicroscopeSimulation(modality: .fluorescence, slices: slices, photons: photons, seed: seed)
        settings.breathing = breathing
        settings.drift = drift
        settings.layering = layering
        settings.surfaceSteps = surfaceSteps
        let simulated: SimulatedStack
        do { simulated = try MicroscopeSimulator(settings: settings).simulate(texture: image) } catch {
            throw BenchStacksError(path: file, message: "\(error)")
        }
        let start = Date()
        let alignment = try Aligner(options: options).align(simulated.stack)
        let seconds = Date().timeIntervalSince(start)
        let errors = simulated.transforms.indices.map { k in
            Self.cornerError(truth: Self.sliceToReference(simulated.transforms[k], width: image.width, height: image.height),
                             estimate: alignment.slices[k].matrix, width: image.width, height: image.height)
        }
        let scored = errors.indices.filter { $0 != alignment.reference }.map { errors[$0] }.sorted()
        let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return BreathingMeasurement(
            name: "fl-breathing-\(name)" + (label.map { " (\($0))" } ?? ""), texture: file, slices: settings.slices,
            width: image.width, height: image.height,
            breathing: breathing, drift: drift, photons: photons, model: options.model.rawValue, alignSeconds: seconds,
            cornerErrorMedian: scored[scored.count / 2], cornerErrorMax: scored.last ?? 0,
            unaligned: alignment.slices.filter { !$0.aligned }.count, reference: alignment.reference, cornerErrors: errors,
            fittedBreathing: alignment.rendering?.breathing, givenBreathing: options.fitBreathing ? nil : options.breathing,
            modelLayering: alignment.rendering?.layering, modelGrowth: alignment.rendering?.defocusPerSlice)
    }

    /// The simulator's slice → reference pixel map: slice pixel `x` shows the specimen at
    /// `(x − c)/scale + c − shift` of the reference frame (`MicroscopeSimulator.warped`).
    static func sliceToReference(_ t: SliceMotion, width: Int, height: Int) -> [[Double]] {
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let s = 1 / t.scale
        return [[s, 0, cx - s * cx - t.dx], [0, s, cy - s * cy - t.dy]]
    }

    /// The largest distance, over the four corner pixels, between where two slice → reference maps send them.
    static func cornerError(truth: [[Double]], estimate: [[Double]], width: Int, height: Int) -> Double {
        let w = Double(width - 1), h = Double(height - 1)
        var worst = 0.0
        for (x, y) in [(0.0, 0.0), (w, 0), (0, h), (w, h)] {
            let dx = (truth[0][0] - estimate[0][0]) * x + (truth[0][1] - estimate[0][1]) * y + truth[0][2] - estimate[0][2]
            let dy = (truth[1][0] - estimate[1][0]) * x + (truth[1][1] - estimate[1][1]) * y + truth[1][2] - estimate[1][2]
            worst = max(worst, (dx * dx + dy * dy).squareRoot())
        }
        return worst
    }

    static func printBreathing(_ run: BreathingRun, profile: String) {
        func line(_ m: BreathingMeasurement) {
            print(String(format: "%@: %d slices %d×%d uint16, breathing %.2f %%, drift %.1f px, %.0f photons, %@ (%@): "
                         + "align %.2f s, corner error median %.3f px max %.3f px, unaligned %d",
                         m.name, m.slices, m.width, m.height, 100 * m.breathing, m.drift, m.photons, m.model, profile,
                         m.alignSeconds, m.cornerErrorMedian, m.cornerErrorMax, m.unaligned)
                  + (m.modelGrowth.map { String(format: ", model %@ %.2f px/slice", m.modelLayering ?? "?", $0) } ?? "")
                  + (m.fittedBreathing.map { String(format: ", breathing fitted %.2f %%", 100 * $0) } ?? ""))
        }
        func pooled(_ stacks: [BreathingMeasurement]) -> [Double] {
            stacks.flatMap { m in m.cornerErrors.indices.filter { $0 != m.reference }.map { m.cornerErrors[$0] } }.sorted()
        }
        if !run.calibrationStacks.isEmpty {
            run.calibrationStacks.forEach(line)
            let errors = pooled(run.calibrationStacks)
            print(String(format: "calibration: %d stacks, breathing fitted on each (what a drop folder's first stacks get): "
                         + "corner error median %.3f px, max %.3f px; calibrated breathing (median) %@",
                         run.calibrationStacks.count, errors[errors.count / 2], errors.last ?? 0,
                         run.calibratedBreathing.map { String(format: "%.3f %%", 100 * $0) } ?? "none"))
        }
        run.stacks.forEach(line)
        let errors = pooled(run.stacks)
        if !errors.isEmpty {
            print(String(format: "breathing set: %d stacks, %d slices: corner error median %.3f px, max %.3f px",
                         run.stacks.count, errors.count, errors[errors.count / 2], errors.last ?? 0)
                  + (run.calibratedBreathing.map { String(format: " (breathing calibrated at %.3f %%)", 100 * $0) } ?? ""))
        }
    }
}
