import Checksum
import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

/// Every profile shipped in `profiles/` parses and validates, so a lab can point a drop folder at it.
@Suite("Shipped profiles")
struct ShippedProfilesTests {
    static let profilesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("profiles")

    static var profileFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: profilesDirectory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// The model card describes the model that is shipped: its sha256 row is the file's hash, and its
    /// step count is the one recorded in the file (so a retrained model cannot ship with an old card).
    @Test func theModelCardMatchesTheShippedModel() throws {
        let models = Self.profilesDirectory.deletingLastPathComponent().appendingPathComponent("models")
        let card = try String(contentsOf: models.appendingPathComponent("README.md"), encoding: .utf8)
        let model = models.appendingPathComponent("default.safetensors").path
        let hash = try SHA256.hex(fileAt: model)
        #expect(card.contains("| sha256 | `\(hash)` |"), "models/README.md must give the sha256 of models/default.safetensors (\(hash))")
        let data = try #require(FileManager.default.contents(atPath: model))
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let steps = try #require((header["__metadata__"] as? [String: String])?["steps"].flatMap(Int.init))
        let formatted = steps.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
        #expect(card.contains("**\(formatted) steps**"), "the card's last phase must state the file's \(steps) steps")
    }

    @Test func theShippedSetIsThere() {
        for name in ["default.yaml", "fast.yaml", "quality.yaml", "reference.yaml", "fluorescence-16bit.yaml", "brightfield-rgb.yaml"] {
            #expect(Self.profileFiles.contains(name), "profiles/\(name) is missing")
        }
    }

    @Test(arguments: profileFiles)
    func parsesAndBuildsItsEngine(file: String) throws {
        let path = Self.profilesDirectory.appendingPathComponent(file).path
        let (settings, base) = try ProfileLoader.load(.file(path), configurationFile: path)
        try settings.validate()
        // The engine (and, for FusionDiff, the shipped model it names) must load.
        _ = try settings.makeEngine(baseDirectory: base)
    }

    @Test func theFusionDiffProfilesSayWhatTheyPromise() throws {
        func load(_ name: String) throws -> FusionSettings {
            let path = Self.profilesDirectory.appendingPathComponent(name).path
            return try ProfileLoader.load(.file(path), configurationFile: path).settings
        }
        let (d, fast, quality) = (try load("default.yaml"), try load("fast.yaml"), try load("quality.yaml"))
        for s in [d, fast, quality] {
            #expect(s.engine == .fusiondiff)
            #expect(s.model == "models/default.safetensors")
            #expect(s.projection.mode == .decision)
        }
        #expect(fast.steps == 1)
        // fast is default with the model deciding at a coarser scale, and nothing else: the time it
        // saves and the quality it costs are measured in profiles/README.md.
        var coarse = d
        coarse.selection.modelScale = fast.selection.modelScale
        #expect(fast == coarse && fast.selection.modelScale > d.selection.modelScale)
        // default: the fastest K within 0.005 Q_AB/F of the best measured (K = 1 for the shipped model,
        // whose curve is flat); quality: more steps and tree order.
        #expect(quality.steps == 4 && quality.order == .tree)
        #expect(fast.steps <= d.steps && d.steps < quality.steps)
        let text = try String(contentsOf: Self.profilesDirectory.appendingPathComponent("default.yaml"), encoding: .utf8)
        #expect(text.contains("# steps chosen by focusd bench quality — see models/README.md"))
    }

    /// `profiles/README.md` documents every key the settings accept.
    @Test func theReadmeDocumentsEveryKey() throws {
        let readme = try String(contentsOf: Self.profilesDirectory.appendingPathComponent("README.md"), encoding: .utf8)
        for key in FusionSettings.keys + ["name", "description"] {
            #expect(readme.contains("| `\(key)` |"), "profiles/README.md has no table row for '\(key)'")
        }
    }

    /// Each kind of profile error names the key and the line it is on.
    @Test(arguments: [
        ("name: x\nengine: reference\nstepz: 4\n", "stepz", 3, "unknown profile key"),
        ("engine: warp\n", "engine", 1, "'warp' is not a valid value; use one of reference, control, fusiondiff"),
        ("engine: reference\nprojection: blurry\n", "projection", 2, "'blurry' is not a valid value; use one of"),
        ("engine: reference\norder: zigzag\n", "order", 2, "'zigzag' is not a valid value; use one of sequential"),
        ("engine: reference\nalign: warp\n", "align", 2, "'warp' is not a valid value; use one of none, translation, similarity, affine"),
        ("engine: reference\noutput_format: int7\n", "output_format", 2, "'int7' is not a valid value; use one of same, uint8, uint16, float32"),
        ("engine: reference\n\nsteps: 0\n", "steps", 3, "out of range"),
        ("engine: reference\nsteps: 2001\n", "steps", 2, "out of range"),
        ("engine: reference\nviews: 9\n", "views", 2, "out of range"),
        ("engine: reference\nprojection_window: 4\n", "projection_window", 2, "out of range"),
        ("engine: reference\nisland_fraction: 0.7\n", "island_fraction", 2, "out of range"),
        ("engine: reference\nband_epsilon: 0\n", "band_epsilon", 2, "out of range"),
        ("engine: reference\ntile_size: 10\n", "tile_size", 2, "out of range"),
        ("engine: reference\nthreads: 999\n", "threads", 2, "out of range"),
        ("engine: reference\nmin_align_score: 3\n", "min_align_score", 2, "out of range"),
        ("engine: reference\nalign: translation\nalign_fit_breathing: true\n", "align_fit_breathing", 3, "align_render_passes > 0"),
        ("engine: reference\nalign_render_passes: 4\nalign_fit_breathing: true\n", "align_fit_breathing", 3, "align: translation"),
        ("engine: reference\nalign: translation\nalign_render_passes: 4\nalign_calibrate_breathing: 5\n", "align_calibrate_breathing", 4,
         "only with align_fit_breathing: true"),
        ("engine: reference\nalign: translation\nalign_render_passes: 4\nalign_fit_breathing: true\nalign_calibrate_breathing: -1\n",
         "align_calibrate_breathing", 5, "out of range"),
        ("engine: reference\noutput_format: uint8\noutput_window: [766, 73]\n", "output_window", 3, "out of range"),
        ("engine: reference\noutput_window: [73, 766]\n", "output_window", 2, "set output_format to uint8 or uint16"),
        ("engine: reference\noutput_format: uint8\noutput_window: [73]\n", "output_window", 3, "invalid value"),
        ("engine: reference\nsteps: many\n", "steps", 2, "expected a value"),
        ("engine: reference\ngain_offset: perhaps\n", "gain_offset", 2, "expected a value"),
        ("engine: reference\nseed: -1\n", "seed", 2, "expected a value"),
        // A missing key has no line of its own: the error points at the start of the profile.
        ("description: x\nengine: fusiondiff\n", "model", 1, "needs a model file"),
    ])
    func eachKindOfProfileErrorNamesKeyAndLine(yaml: String, key: String, line: Int, fragment: String) {
        do {
            _ = try ProfileLoader.parse(yaml, file: "p.yaml")
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
            #expect(error.description.contains("p.yaml"), "\(error)")
        }
    }
}
