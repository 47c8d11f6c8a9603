import Foundation
import Imaging
import Testing

/// Issue 18, "safe at the data boundary", from the command line: outputs never land among the
/// inputs, focusd's own outputs are never read as slices, narrowing conversions keep the data's
/// grey levels, profiles are found by name everywhere, and reprocess outputs do not depend on
/// which archives a run names.
@Suite("Data boundary", .serialized)
struct DataBoundaryTests {
    /// A 16-bit stack of `count` 64×64 slices whose values lie in 73…766, as in a dim microscope image.
    static func dimStack(_ folder: URL, count: Int = 3) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try (0..<count).map { z in
            let pixels = (0..<(64 * 64)).map { i -> Float in
                let (x, y) = (i % 64, i / 64)
                let sharp = x * count / 64 == z
                return sharp ? Float(73 + (x * 37 + y * 91) % 694) : Float(400 + (x + y) % 7)
            }
            let path = folder.appendingPathComponent("z\(z).tif").path
            try TIFFWriter.write([Image(width: 64, height: 64, channels: 1, pixels: pixels)], format: .uint16, to: path)
            return path
        }
    }

    @Test(arguments: [["--out", "f.png"], ["--out", "f"], ["--out", "f.tif", "--depth-map", "d.jpg"],
                      ["--out", "f.tif", "--confidence-map", "c.tiff.bak"]])
    func fuseRefusesNonTIFFOutputNames(outputs: [String]) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let slices = try Self.dimStack(dir.appendingPathComponent("stack"))
        let arguments = outputs.enumerated().map { $0.offset % 2 == 1 ? dir.appendingPathComponent($0.element).path : $0.element }
        let result = try CLI.run(["fuse"] + slices + arguments)
        #expect(result.status == 2, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.stderr.contains("TIFF only") && result.stderr.contains(outputs[outputs.count - 2]), "stderr: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["stack"], "nothing written")
    }

    @Test func alignRefusesANonTIFFStackName() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let slices = try Self.dimStack(dir.appendingPathComponent("stack"))
        let result = try CLI.run(["align"] + slices + ["--transforms", dir.appendingPathComponent("t.json").path,
                                                       "--out", dir.appendingPathComponent("aligned.png").path])
        #expect(result.status == 2 && result.stderr.contains("--out"), "stderr: \(result.stderr)")
    }

    /// A fused image written into the stack's folder (by an earlier run, copied there by hand) is
    /// skipped with a warning, not fused as a fourth slice.
    @Test func aFolderStackSkipsTheFusedImageLeftInIt() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("stack")
        _ = try Self.dimStack(folder)
        let first = dir.appendingPathComponent("fused.tif").path
        let run1 = try CLI.run(["fuse", folder.path, "--out", first])
        #expect(run1.status == 0, "stderr: \(run1.stderr)")
        try FileManager.default.copyItem(atPath: first, toPath: folder.appendingPathComponent("z9_fused.tif").path)
        let second = dir.appendingPathComponent("again.tif").path
        let run2 = try CLI.run(["fuse", folder.path, "--out", second])
        #expect(run2.status == 0, "stderr: \(run2.stderr)")
        #expect(run2.stdout.contains("fused 3 slices"), "\(run2.stdout)")
        #expect(run2.stderr.contains("warning: \(folder.path)/z9_fused.tif: skipped, focusd wrote it"), "stderr: \(run2.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)),
                "the same three slices give the same image")
    }

    /// uint16 → uint8 maps the fused image's own range (73…766 here) onto 0…255 and says so; the
    /// old full-range mapping left such an image 3 grey levels. `--window` maps an explicit range.
    @Test func narrowingKeepsTheDataRangeAndSaysSo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let slices = try Self.dimStack(dir.appendingPathComponent("stack"))
        let out = dir.appendingPathComponent("f8.tif").path
        let result = try CLI.run(["fuse"] + slices + ["--out", out, "--output-format", "uint8"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let fused = try ImageFile.read(out)
        #expect(fused.format == .uint8)
        let levels = Set(fused.image.pixels)
        #expect(levels.count > 100, "\(levels.count) grey levels")
        #expect(fused.image.pixels.min() == 0 && fused.image.pixels.max() == 255)
        let line = try #require(result.stderr.split(separator: "\n").first { $0.contains("converted") }, "stderr: \(result.stderr)")
        #expect(line.contains("converted uint16 → uint8: window ") && line.contains(" → 0…255"), "\(line)")
        // The window is the fused image's range: within the slices' values.
        let window = line.components(separatedBy: "window ")[1].components(separatedBy: " →")[0].components(separatedBy: "…")
        let (low, high) = (try #require(Double(window[0])), try #require(Double(window[1])))
        #expect(low >= 0 && low <= 120 && high >= 700 && high <= 800, "\(line)")

        // An explicit window: values above HI saturate, and the line says it was asked for.
        let windowed = dir.appendingPathComponent("w8.tif").path
        let explicit = try CLI.run(["fuse"] + slices + ["--out", windowed, "--output-format", "uint8", "--window", "0:400"])
        #expect(explicit.status == 0, "stderr: \(explicit.stderr)")
        #expect(explicit.stderr.contains("window 0…400 → 0…255 (as asked)"), "stderr: \(explicit.stderr)")
        #expect(try ImageFile.read(windowed).image.pixels.filter { $0 == 255 }.count > 64 * 64 / 4)
        // A window without an integer output format would do nothing: refused.
        let useless = try CLI.run(["fuse"] + slices + ["--out", windowed, "--window", "0:400"])
        #expect(useless.status == 2 && useless.stderr.contains("--output-format"), "stderr: \(useless.stderr)")
        let malformed = try CLI.run(["fuse"] + slices + ["--out", windowed, "--output-format", "uint8", "--window", "400"])
        #expect(malformed.status == 2 && malformed.stderr.contains("LO:HI"), "stderr: \(malformed.stderr)")
        // The same format: values unchanged, nothing said.
        let same = try CLI.run(["fuse"] + slices + ["--out", dir.appendingPathComponent("s.tif").path, "--output-format", "uint16"])
        #expect(same.status == 0 && !same.stderr.contains("converted"), "stderr: \(same.stderr)")
    }

    @Test func validateWithoutArgumentsChecksEveryProfileOnTheSearchPath() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shipped = try FileManager.default.contentsOfDirectory(atPath: CLI.packageRoot.appendingPathComponent("profiles").path)
            .filter { $0.hasSuffix(".yaml") }
        let good = try CLI.run(["profiles", "validate", "--dir", dir.path])
        #expect(good.status == 0, "stderr: \(good.stderr)")
        #expect(good.stdout.split(separator: "\n").count == shipped.count, "\(good.stdout)")
        try "engine: reference\nsteps: 0\n".write(to: dir.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let bad = try CLI.run(["profiles", "validate", "--dir", dir.path])
        #expect(bad.status == 1)
        #expect(bad.stdout.split(separator: "\n").count == shipped.count)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("broken.yaml"), "stderr: \(bad.stderr)")
    }

    @Test func showPrintsOnlyJSONWithTheModelsAbsolutePath() throws {
        let result = try CLI.run(["profiles", "show", "default"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "stdout is one JSON object: \(result.stdout)")
        let model = try #require(object["model"] as? String)
        #expect(model.hasPrefix("/") && FileManager.default.fileExists(atPath: model), "\(model)")
        #expect(object["engine"] as? String == "fusiondiff")
    }

    /// The daemon takes `profile: NAME` as the commands take `--profile NAME`.
    @Test func theDaemonFindsAProfileByName() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let drop = dir.appendingPathComponent("drop"), config = dir.appendingPathComponent("focusd.yaml")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        func serve(_ profile: String) throws -> CLI.Result {
            try """
                state_directory: \(dir.appendingPathComponent("state").path)
                drop_folders:
                  - path: \(drop.path)
                    output: \(dir.appendingPathComponent("out").path)
                    profile: \(profile)
                """.write(to: config, atomically: true, encoding: .utf8)
            return try CLI.run(["serve", "--once", "--config", config.path])
        }
        let named = try serve("reference")
        #expect(named.status == 0, "stdout: \(named.stdout) stderr: \(named.stderr)")
        let unknown = try serve("no-such-profile")
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no profile 'no-such-profile'") && unknown.stderr.contains("no-such-profile.yaml"), "stderr: \(unknown.stderr)")
    }

    /// Outputs mirror each stack's path under its archive's name: a run over A and B, then over A
    /// alone, finds A's stacks up to date; an archive inside --out, where outputs would land in it, is refused.
    @Test func reprocessingASubsetFusesNothingAgain() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("archA"), b = dir.appendingPathComponent("archB"), out = dir.appendingPathComponent("out")
        _ = try Self.dimStack(a.appendingPathComponent("run7"))
        _ = try Self.dimStack(b.appendingPathComponent("run7"))
        let both = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path, a.path, b.path])
        #expect(both.status == 0, "stderr: \(both.stderr)")
        #expect(both.stdout.contains("0 up to date, 2 to fuse"), "\(both.stdout)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("archA/run7_fused.tif").path))
        let alone = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path, a.path])
        #expect(alone.status == 0, "stderr: \(alone.stderr)")
        #expect(alone.stdout.contains("1 up to date, 0 to fuse"), "\(alone.stdout)")

        // A fused image copied into the archive is skipped with a warning, not taken for a stack.
        try FileManager.default.copyItem(atPath: out.appendingPathComponent("archA/run7_fused.tif").path,
                                         toPath: a.appendingPathComponent("run7_fused.tif").path)
        let skipped = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path, "--dry-run", a.path])
        #expect(skipped.status == 0 && skipped.stdout.contains("1 up to date, 0 would be fused"), "\(skipped.stdout)")
        #expect(skipped.stderr.contains("\(a.path)/run7_fused.tif: skipped, focusd wrote it"), "stderr: \(skipped.stderr)")

        // --out above an archive of the same name: the mirror would write into the archive.
        let inner = dir.appendingPathComponent("archA")
        let into = try CLI.run(["reprocess", "--profile", "reference", "--out", dir.path, "--dry-run", inner.path])
        #expect(into.status == 2, "stdout: \(into.stdout) stderr: \(into.stderr)")
        #expect(into.stderr.contains("inside the archive"), "stderr: \(into.stderr)")
        // --relative-to: the archive's own layout, refused when an archive lies outside it.
        let relative = try CLI.run(["reprocess", "--profile", "reference", "--out", out.appendingPathComponent("r").path,
                                    "--relative-to", a.path, "--dry-run", a.path])
        #expect(relative.stdout.contains("would fuse\trun7\t"), "\(relative.stdout)")
        let outside = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path, "--relative-to", a.path, b.path])
        #expect(outside.status == 2 && outside.stderr.contains("--relative-to"), "stderr: \(outside.stderr)")
    }
}
