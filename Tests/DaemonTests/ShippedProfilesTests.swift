import Foundation
import Testing
@testable import Daemon

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

    @Test func theShippedSetIsThere() {
        for name in ["reference.yaml", "fluorescence-16bit.yaml", "brightfield-rgb.yaml"] {
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
}
