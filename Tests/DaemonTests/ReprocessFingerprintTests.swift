import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

/// `ProfileFingerprint`: equal for equal resolved settings and model, different for any change.
@Suite struct ReprocessFingerprintTests {
    /// One change per settings key, each to a value that is still valid.
    static let changes: [(key: String, change: @Sendable (inout FusionSettings) -> Void)] = [
        ("engine", { $0.engine = .control }),
        ("steps", { $0.steps += 1 }),
        ("seed", { $0.seed += 1 }),
        ("views", { $0.views = 2 }),
        ("order", { $0.order = .tree }),
        ("projection", { $0.projection.mode = .soft }),
        ("projection_window", { $0.projection.window += 2 }),
        ("island_fraction", { $0.projection.islandFraction += 0.001 }),
        ("band_radius", { $0.projection.bandRadius += 1 }),
        ("band_epsilon", { $0.projection.bandEpsilon *= 2 }),
        ("align", { $0.alignment.model = .translation }),
        ("align_reference", { $0.alignment.reference = 0 }),
        ("gain_offset", { $0.alignment.estimateGainOffset.toggle() }),
        ("keep_size", { $0.alignment.keepSize.toggle() }),
        ("min_align_score", { $0.alignment.minimumScore += 0.01 }),
        ("align_breathing", { $0.alignment.breathing = 0.01 }),
        ("align_render_passes", { $0.alignment.renderPasses = 3 }),
        ("align_fit_breathing", { $0.alignment.fitBreathing = true }),
        ("align_calibrate_breathing", { $0.breathingCalibrationStacks = 5 }),
        ("tile_size", { $0.tiling.size = 256 }),
        ("tile_overlap", { $0.tiling.overlap += 1 }),
        ("output_format", { $0.outputFormat = .float32 }),
        ("output_window", { $0.outputFormat = .uint8; $0.outputWindow = OutputWindow(low: 0, high: 1000) }),
        ("split_channels", { $0.splitChannels = true }),
        ("composition", { $0.composition = .pairwise }),
        ("decision", { $0.selection.decision = .gated }),
        ("decision_channel", { $0.selection.decisionChannel = .mostSignal }),
        ("evidence_sigma", { $0.selection.evidenceSigma += 0.5 }),
        ("evidence_window", { $0.selection.evidenceWindow += 2 }),
        ("decisive_spread", { $0.selection.decisiveSpread += 1 }),
        ("model_scale", { $0.selection.modelScale = 2 }),
        ("fine_window", { $0.selection.fineWindow = 5 }),
        ("fine_threshold", { $0.selection.fineThreshold += 1 }),
        ("median_radius", { $0.selection.medianRadius += 1 }),
        ("surface_radius", { $0.selection.surfaceRadius += 1 }),
        ("depth_of_field", { $0.selection.depthOfField += 1 }),
        ("noise_tolerance", { $0.selection.noiseTolerance += 0.5 }),
    ]

    @Test func everySettingsKeyIsCovered() {
        #expect(Set(Self.changes.map(\.key)).union(["model", "threads"]) == Set(FusionSettings.keys))
    }

    /// Outputs are bit-identical across thread counts: two profiles that differ only in `threads` have
    /// one fingerprint, by the settings route and by the daemon's (processor identity) route.
    @Test func threadsLeaveTheFingerprintAlone() throws {
        let base = "engine: reference\nsteps: 3\n"
        let one = try ProfileLoader.parse(base + "threads: 1\n", file: "a.yaml")
        let sixteen = try ProfileLoader.parse(base + "threads: 16\n", file: "b.yaml")
        let unset = try ProfileLoader.parse(base, file: "c.yaml")
        #expect(one.threads == 1 && sixteen.threads == 16)
        let fingerprints = [one, sixteen, unset].map { ProfileFingerprint.compute(settings: $0, modelSHA256: nil) }
        #expect(Set(fingerprints).count == 1)
        let identities = try [one, sixteen, unset].map { try PipelineProcessor(settings: $0, baseDirectory: nil).identity() }
        #expect(Set(identities.map(\.settingsJSON)).count == 1, "the dedupe fingerprint's settings must not carry threads")
        #expect(ProfileFingerprint.compute(identity: identities[1]) == fingerprints[0])
    }

    /// An integer output format maps the data's range since output_window exists, so such profiles'
    /// fingerprints moved once; profiles that keep the stack's format did not.
    @Test func onlyIntegerOutputFormatsCarryTheWindowMarker() {
        var s = FusionSettings()
        #expect(!ProfileFingerprint.canonicalSettings(ProfileFingerprint.encode(s)).contains("output_window"))
        s.outputFormat = .uint8
        #expect(ProfileFingerprint.canonicalSettings(ProfileFingerprint.encode(s)).contains(#""output_window":"data range""#))
        s.outputWindow = OutputWindow(low: 73, high: 766)
        #expect(ProfileFingerprint.canonicalSettings(ProfileFingerprint.encode(s)).contains(#""output_window":[73,766]"#))
    }

    @Test func sameSettingsGiveTheSameFingerprint() throws {
        let a = ProfileFingerprint.compute(settings: FusionSettings(), modelSHA256: nil)
        #expect(a == ProfileFingerprint.compute(settings: FusionSettings(), modelSHA256: nil))
        #expect(a.count == 64 && a.allSatisfy(\.isHexDigit))
        // A profile that spells out defaults resolves to the same settings and fingerprint.
        let spelled = try ProfileLoader.parse("engine: reference\nsteps: 2\nprojection: decision\nname: x\n", file: "p.yaml")
        #expect(ProfileFingerprint.compute(settings: spelled, modelSHA256: nil) == a)
        // The daemon's route (processor identity JSON) gives the same value.
        let identity = try PipelineProcessor(settings: FusionSettings(), baseDirectory: nil).identity()
        #expect(ProfileFingerprint.compute(identity: identity) == a)
    }

    @Test func anyResolvedKeyChangeChangesTheFingerprint() {
        let base = ProfileFingerprint.compute(settings: FusionSettings(), modelSHA256: nil)
        var seen: Set<String> = [base]
        for (key, change) in Self.changes {
            var s = FusionSettings()
            change(&s)
            let value = ProfileFingerprint.compute(settings: s, modelSHA256: nil)
            #expect(value != base, "changing \(key) must change the fingerprint")
            seen.insert(value)
        }
        #expect(seen.count == Self.changes.count + 1, "every change gives its own fingerprint")
    }

    @Test func theModelEntersByItsHash() throws {
        var s = FusionSettings()
        s.engine = .fusiondiff
        s.model = "/models/a.safetensors"
        let a = ProfileFingerprint.compute(settings: s, modelSHA256: String(repeating: "a", count: 64))
        #expect(a != ProfileFingerprint.compute(settings: s, modelSHA256: String(repeating: "b", count: 64)))
        var moved = s
        moved.model = "/elsewhere/renamed.safetensors"
        #expect(a == ProfileFingerprint.compute(settings: moved, modelSHA256: String(repeating: "a", count: 64)))

        // From files: a modified copy of a model changes the fingerprint.
        let dir = TemporaryFolder("fingerprint")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir.sub("m.safetensors")))
        try Data([1, 2, 4]).write(to: URL(fileURLWithPath: dir.sub("n.safetensors")))
        s.model = "m.safetensors"
        let fromM = try ProfileFingerprint.compute(settings: s, baseDirectory: dir.path)
        s.model = "n.safetensors"
        let fromN = try ProfileFingerprint.compute(settings: s, baseDirectory: dir.path)
        #expect(fromM.modelSHA256 != nil && fromM.fingerprint != fromN.fingerprint)
        s.model = "missing.safetensors"
        #expect(throws: SettingsError.self) { try ProfileFingerprint.compute(settings: s, baseDirectory: dir.path) }
    }

    @Test func unsetOptionalKeysAreExplicitInTheCanonicalForm() {
        let canonical = ProfileFingerprint.canonicalSettings(ProfileFingerprint.encode(FusionSettings()))
        #expect(canonical.contains("\"align_reference\":null"))
        #expect(!canonical.contains("\"model\":"))
        let object = try? JSONSerialization.jsonObject(with: Data(canonical.utf8)) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == Set(FusionSettings.keys).subtracting(["model", "views", "output_window"]))
        // A key added later is left out at its default, so fingerprints recorded before it stay valid.
        #expect(ProfileFingerprint.canonicalSettings(#"{"engine":"reference","views":1}"#)
                == ProfileFingerprint.canonicalSettings(#"{"engine":"reference"}"#))
    }
}
