import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

/// The YAML fuzzing corpus (scripts/fuzz.sh, libFuzzer over Yams + YAMLReader) as regression inputs
/// for the real loaders: each file in `Tests/Fixtures/fuzz/yaml` is parsed as a daemon configuration
/// and as a profile; the result is a configuration or a `ConfigurationError` naming the file — never a
/// trap or a hang. Plus the classic hostile YAML documents, built here.
@Suite struct RobustnessConfigTests {
    static let folder: String = {
        let file = URL(fileURLWithPath: #filePath)
        return file.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/yaml").path
    }()

    static let fixtures: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()

    static func parseBoth(_ text: String, name: String) {
        let started = Date()
        do {
            _ = try DaemonConfiguration.parse(text, file: name, baseDirectory: "/tmp")
        } catch {
            #expect(error.file == name && !error.message.isEmpty, "\(error)")
        }
        do {
            _ = try ProfileLoader.parse(text, file: name)
        } catch {
            #expect(error.file == name && !error.message.isEmpty, "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 5, "\(name): no hang")
    }

    @Test func theCorpusIsThere() {
        #expect(Self.fixtures.count >= 10, "fixtures in \(Self.folder)")
    }

    @Test(arguments: fixtures)
    func everyCorpusFileGivesAConfigurationOrATypedError(_ name: String) throws {
        let data = try #require(FileManager.default.contents(atPath: "\(Self.folder)/\(name)"))
        Self.parseBoth(String(decoding: data, as: UTF8.self), name: name)
    }

    @Test func hostileDocumentsAreRefusedQuickly() {
        // "Billion laughs": nine levels of aliases, each doubling ×10 (10⁹ leaves if expanded).
        var laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for (prev, next) in zip("abcdefgh", "bcdefghi") {
            laughs += "\(next): &\(next) [" + Array(repeating: "*\(prev)", count: 10).joined(separator: ", ") + "]\n"
        }
        laughs += "drop_folders: *i\nstate_directory: *i\n"
        let documents: [(String, String)] = [
            ("laughs.yaml", laughs),
            ("deep.yaml", String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)),
            ("deep-map.yaml", (0..<2000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")),
            ("long-key.yaml", String(repeating: "k", count: 1 << 20) + ": 1\n"),
            ("tags.yaml", "state_directory: !!binary aGVsbG8=\nworkers: !!float 1e400\ndrop_folders: !custom {}\n"),
            ("numbers.yaml", "workers: 99999999999999999999999999\nshutdown_timeout_seconds: .nan\npoll_interval_seconds: -.inf\n"),
            ("nul.yaml", "state_directory: \"/a\\0b\"\n"),
        ]
        for (name, text) in documents { Self.parseBoth(text, name: name) }
    }
}
