import Foundation
import Imaging
import Testing

/// `focusd bench ceiling` end to end on a small made-up pair: the JSON names every row, and bad
/// inputs exit with a message.
@Suite("focusd bench ceiling")
struct BenchCeilingCommandTests {
    /// One 40×40 pair: A sharp left of x = 20, B right of it (a 5-tap blur elsewhere).
    static func writePair(in folder: String) throws {
        let n = 40
        var sharp = [Float](repeating: 0, count: n * n)
        for i in 0..<sharp.count { sharp[i] = Float((i &* 2_654_435_761) % 251) }
        var blur = sharp
        for y in 0..<n {
            for x in 0..<n {
                var s: Float = 0, c: Float = 0
                for dy in -2...2 { for dx in -2...2 {
                    let xx = x + dx, yy = y + dy
                    if xx >= 0, yy >= 0, xx < n, yy < n { s += sharp[yy * n + xx]; c += 1 }
                } }
                blur[y * n + x] = s / c
            }
        }
        let a = (0..<sharp.count).map { $0 % n < 20 ? sharp[$0] : blur[$0] }
        let b = (0..<sharp.count).map { $0 % n < 20 ? blur[$0] : sharp[$0] }
        try TIFFWriter.write([Image(width: n, height: n, channels: 1, pixels: a)], format: .uint8, to: "\(folder)/01_A.tif")
        try TIFFWriter.write([Image(width: n, height: n, channels: 1, pixels: b)], format: .uint8, to: "\(folder)/01_B.tif")
    }

    @Test func jsonHasEveryRowForTheControl() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writePair(in: dir.path)
        let result = try CLI.run(["bench", "ceiling", "--dataset", dir.path, "--profile", "none", "--passes", "1", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let subjects = object?["subjects"] as? [[String: Any]] ?? []
        #expect(subjects.count == 1)
        #expect(subjects.first?["name"] as? String == "control")
        for key in ["given", "best_shift", "seam_free", "band_flips", "band_blends", "anywhere_flips"] {
            let row = subjects.first?[key] as? [String: Any]
            let q = row?["qabf"] as? Double ?? -1
            #expect(q > 0.3 && q <= 1, "\(key): \(String(describing: row))")
            #expect((row?["qcb"] == nil) == (key == "seam_free"), "\(key)")
        }
        #expect((object?["pairs"] as? Int) == 1)
    }

    @Test func aFolderWithoutPairsExitsOneNamingIt() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["bench", "ceiling", "--dataset", dir.path, "--profile", "none"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(dir.path))
    }

    @Test func profilesWithoutADecisionMapAreRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writePair(in: dir.path)
        let profile = dir.appendingPathComponent("soft.yaml").path
        try "name: soft\nengine: control\nprojection: soft\n".write(toFile: profile, atomically: true, encoding: .utf8)
        let result = try CLI.run(["bench", "ceiling", "--dataset", dir.path, "--profile", profile, "--passes", "1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("soft.yaml") && result.stderr.contains("decision"), "stderr: \(result.stderr)")

        let reference = try CLI.run(["bench", "ceiling", "--dataset", dir.path, "--profile", "reference", "--passes", "1"])
        #expect(reference.status == 1)
        #expect(reference.stderr.contains("reference.yaml") && reference.stderr.contains("no decision map"), "stderr: \(reference.stderr)")
    }
}
