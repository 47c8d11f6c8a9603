import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

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
        ("engine: warp\n", "engine", 1, "'warp' is not a valid value; use one of reference, control, fusiondiff"),
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

    /// `profile: NAME` (no `/`, no `.yaml`) is found through the profile search path, as `--profile NAME`
    /// of the commands; a path stays relative to the configuration file.
    @Test func aProfileNameIsLookedUpInTheSearchFolders() throws {
        let dir = TemporaryFolder("profile-name")
        let folders = [dir.sub("etc"), dir.sub("shipped")]
        for folder in folders { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try "engine: control\n".write(toFile: "\(folders[0])/lab.yaml", atomically: true, encoding: .utf8)
        try "engine: reference\n".write(toFile: "\(folders[1])/lab.yaml", atomically: true, encoding: .utf8)
        try "engine: reference\nsteps: 5\n".write(toFile: "\(folders[1])/other.yaml", atomically: true, encoding: .utf8)
        let search = ProfileSearchPath(folders: folders)
        func config(_ profile: String) throws(ConfigurationError) -> DaemonConfiguration {
            try DaemonConfiguration.parse("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n    profile: \(profile)\n",
                                          file: "/etc/focusd/focusd.yaml", baseDirectory: "/etc/focusd", profiles: search)
        }
        #expect(try config("lab").dropFolders[0].profile == .file("\(folders[0])/lab.yaml"), "the first folder wins")
        #expect(try config("other").dropFolders[0].profile == .file("\(folders[1])/other.yaml"))
        #expect(try config("mine/x.yaml").dropFolders[0].profile == .file("/etc/focusd/mine/x.yaml"), "a path, relative to the configuration")
        let loaded = try ProfileLoader.load(try config("other").dropFolders[0].profile, configurationFile: "/etc/focusd/focusd.yaml")
        #expect(loaded.settings.steps == 5)
        do {
            _ = try config("nope")
            Issue.record("expected an error for an unknown profile name")
        } catch {
            #expect(error.key.hasSuffix("profile") && error.line == 5, "\(error)")
            #expect(error.message.contains("\(folders[1])/nope.yaml"), "names where it looked: \(error)")
        }
        #expect(search.all().map(\.name) == ["lab", "other"])
        #expect(ProfileSearchPath.isName("default") && !ProfileSearchPath.isName("default.yaml") && !ProfileSearchPath.isName("a/b"))
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
