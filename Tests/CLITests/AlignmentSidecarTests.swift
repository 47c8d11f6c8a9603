import Foundation
import Imaging
import Testing

/// Keep-size by default (issue 23): an aligned profile keeps the stack's size, and the sidecar says
/// how much border was padded.
@Suite("aligned outputs keep their size")
struct AlignmentSidecarTests {
    /// A smooth 16-bit texture seen with the frame moved by (dx, dy) pixels.
    static func slice(dx: Double, dy: Double, size: Int = 96) -> Image {
        Image(width: size, height: size, channels: 1, pixels: (0..<(size * size)).map { i in
            let x = Double(i % size) - dx, y = Double(i / size) - dy
            return Float(2000 + 800 * sin(x / 5) * cos(y / 7) + 600 * sin((x + y) / 9) + 300 * cos(x / 3.3 - y / 4.1))
        })
    }

    /// The alignment `PropertyValue`s of a sidecar crate (name → value): `[0].crop`, `[0].padding.border`, …
    static func alignment(in document: Any) -> [String: Any] {
        let graph = (document as? [String: Any])?["@graph"] as? [[String: Any]] ?? []
        var values: [String: Any] = [:]
        for entity in graph where entity["propertyID"] as? String == "focusd:alignment" {
            if let name = entity["name"] as? String { values[name] = entity["value"] }
        }
        return values
    }

    @Test func reprocessWithAlignmentKeepsTheSizeAndRecordsThePaddedBorder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("archive").path, out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
        try TIFFWriter.write([Self.slice(dx: 3, dy: -2), Self.slice(dx: 0, dy: 0), Self.slice(dx: -1, dy: 2)],
                             format: .uint16, to: "\(archive)/drift.tif")
        let profile = dir.appendingPathComponent("aligned.yaml").path
        try "engine: reference\nalign: translation\n".write(toFile: profile, atomically: true, encoding: .utf8)

        let result = try CLI.run(["reprocess", "--profile", profile, "--out", out, archive])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let fused = try ImageFile.read("\(out)/archive/drift_fused.tif").image
        #expect(fused.width == 96 && fused.height == 96, "a drifting stack keeps its size")

        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/archive/drift-ro-crate-metadata.json")))
        let alignment = Self.alignment(in: sidecar)
        #expect(alignment["[0].crop"] as? [Int] == [0, 0, 96, 96], "\(alignment)")
        let border = try #require(alignment["[0].padding.border"] as? [Int])
        // Slices moved by up to 3 px left and right and 2 px up and down: the padded border says so.
        #expect(border.count == 4 && border.allSatisfy { (1...4).contains($0) }, "border \(border)")
        #expect((alignment["[0].padding.covered"] as? [Int])?.count == 4)
    }
}
