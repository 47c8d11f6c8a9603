import Foundation
import Testing

/// `focusd profiles`: the shipped set validates; errors name the file, key and line.
@Suite("focusd profiles")
struct ProfilesCommandTests {
    let shipped = CLI.packageRoot.appendingPathComponent("profiles")

    @Test func everyShippedProfileValidates() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: shipped.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        let result = try CLI.run(["profiles", "validate"] + files.map { shipped.appendingPathComponent($0).path })
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == files.count)
    }

    @Test(arguments: [
        ("engine: reference\nsteps: 3\nfoo: 1\n", "key 'foo'", ":3:"),
        ("engine: reference\nsteps: 0\n", "steps", ":2:"),
        ("engine: magic\n", "engine", ":1:"),
        ("engine: fusiondiff\nmodel: no-such-model.safetensors\n", "no-such-model.safetensors", ""),
    ])
    func invalidProfilesNameKeyAndLine(text: String, mentions: String, line: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try CLI.run(["profiles", "validate", file.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(file.path))
        #expect(result.stderr.contains(mentions), "stderr: \(result.stderr)")
        if !line.isEmpty { #expect(result.stderr.contains(file.path + line), "stderr: \(result.stderr)") }
    }

    @Test func showFillsInDefaults() throws {
        let result = try CLI.run(["profiles", "show", shipped.appendingPathComponent("brightfield-rgb.yaml").path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["align"] as? String == "similarity")
        #expect(object["gain_offset"] as? Bool == true)
        #expect(object["projection"] as? String == "decision")   // a default the file does not set
    }
}
