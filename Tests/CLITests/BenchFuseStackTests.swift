import Foundation
import Testing

/// `focusd bench fuse --stack WxHxN` end to end on a small simulated stack: one row per profile with
/// seconds, slices per second, peak memory and the time against the reference profile.
@Suite("focusd bench fuse --stack")
struct BenchFuseStackTests {
    @Test func simulatedStackIsFusedByEachProfileWithItsPeak() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let texture = CLI.sharedData.appendingPathComponent("train/microscopy/microtubules_16bit.tif").path
        let result = try CLI.run(["bench", "fuse", "--stack", "64x48x4", "--texture", texture, "--cache", dir.path,
                                  "--profile", "reference", "--profile", "default", "--threads", "1", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["width"] as? Int == 64 && object["height"] as? Int == 48 && object["slices"] as? Int == 4)
        let rows = try #require(object["profiles"] as? [[String: Any]])
        #expect(rows.compactMap { $0["profile"] as? String } == ["reference", "default"])
        for row in rows {
            #expect((row["seconds"] as? Double ?? 0) > 0)
            #expect((row["slices_per_second"] as? Double ?? 0) > 0)
            #expect((row["peak_resident_bytes"] as? Int ?? 0) > 1_000_000)
        }
        #expect(rows.first?["seconds_vs_reference"] as? Double == 1)
        // The stack was simulated once into the cache, as a multi-page TIFF.
        let cached = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tif") }
        #expect(cached.count == 1)
    }

    @Test func aStackGeometryWithOneSliceIsNotAGeometry() throws {
        let result = try CLI.run(["bench", "fuse", "--stack", "64x64x1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("64x64x1"))
    }
}
