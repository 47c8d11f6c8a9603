import Foundation
import Imaging
import Testing

/// Usage errors say what was wrong in the user's terms, list the valid values, and exit 2.
@Suite struct UsageErrorTests {
    @Test func aReferenceSlicePastTheStackIsAUsageError() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stack = dir.appendingPathComponent("s.tif").path
        let page = Image(width: 16, height: 16, channels: 1, pixels: (0..<256).map { Float($0 * 97 % 251) })
        try TIFFWriter.write([page, page, page], format: .uint16, to: stack)
        let result = try CLI.run(["align", stack, "--reference", "7", "--transforms", dir.appendingPathComponent("t.json").path])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("reference slice 7 does not exist: the stack has 3 slices (valid: 0…2)"))
    }

    @Test func aMisspelledProfileValueListsTheValidOnes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let profile = dir.appendingPathComponent("p.yaml").path
        try "engine: fusiondif\n".write(toFile: profile, atomically: true, encoding: .utf8)
        let result = try CLI.run(["profiles", "validate", profile])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'fusiondif' is not a valid value; use one of reference, control, fusiondiff"), "\(result.stderr)")
        #expect(!result.stderr.contains("Cannot initialize"))
    }
}
