import Foundation
import Testing
@testable import Daemon

@Suite struct ProfileLoaderTests {
    @Test func inlineAndFileProfilesResolveToSettings() throws {
        let dir = TemporaryFolder("profile")
        let profilePath = dir.sub("fast.yaml")
        try "name: fast\nengine: control\nsteps: 3\nseed: 7\n".write(toFile: profilePath, atomically: true, encoding: .utf8)
        let (fromFile, base) = try ProfileLoader.load(.file(profilePath), configurationFile: dir.sub("focusd.yaml"))
        #expect(fromFile.engine == .control)
        #expect(fromFile.steps == 3)
        #expect(fromFile.seed == 7)
        #expect(base == dir.path)

        let config = try DaemonConfiguration.parse("""
            state_directory: /s
            drop_folders:
              - path: /d
                output: /o
                profile:
                  engine: reference
                  steps: 4
            """, file: "focusd.yaml", baseDirectory: "/etc/focusd")
        let (inline, _) = try ProfileLoader.load(config.dropFolders[0].profile, configurationFile: "/etc/focusd/focusd.yaml")
        #expect(inline.engine == .reference)
        #expect(inline.steps == 4)
        #expect(try ProfileLoader.load(.defaults, configurationFile: "x").settings == FusionSettings())
    }

    @Test(arguments: [
        ("engine: reference\nstepz: 4\n", "stepz", 2, "unknown profile key"),
        ("engine: warp\n", "engine", 1, "invalid value"),
        ("engine: reference\nsteps: 0\n", "steps", 2, "out of range"),
        ("engine: reference\nsteps: many\n", "steps", 2, "expected a value"),
    ])
    func profileErrorsNameKeyAndLine(yaml: String, key: String, line: Int, fragment: String) {
        do {
            _ = try ProfileLoader.parse(yaml, file: "p.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func inlineProfileErrorsPointIntoTheConfigurationFile() throws {
        let yaml = "state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n    profile:\n      engine: reference\n      seeed: 3\n"
        let config = try DaemonConfiguration.parse(yaml, file: "focusd.yaml", baseDirectory: "/etc")
        do {
            _ = try ProfileLoader.load(config.dropFolders[0].profile, configurationFile: "focusd.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "profile.seeed")
            #expect(error.line == 7, "\(error)")
        }
    }
}
