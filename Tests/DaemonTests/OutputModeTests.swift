import Foundation
import SystemCalls
import Testing
@testable import Daemon
@testable import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// `output_mode:`: the permissions of the daemon's outputs, whatever the service's umask.
@Suite struct OutputModeTests {
    static func mode(_ path: String) -> UInt16? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt16(info.st_mode & 0o7777)
    }

    static let minimal = "state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n"

    @Test func outputModeIsAConfigurationKeyDefaulting0644() throws {
        #expect(try DaemonConfiguration.parse(Self.minimal, baseDirectory: "/").outputMode == 0o644)
        for (text, mode) in [("'0640'", 0o640), ("0644", 0o644), ("660", 0o660), ("'0o600'", 0o600)] as [(String, UInt16)] {
            let config = try DaemonConfiguration.parse("output_mode: \(text)\n" + Self.minimal, baseDirectory: "/")
            #expect(config.outputMode == mode, "\(text)")
        }
        for bad in ["0444", "'rw-r--r--'", "01777", "8", "''"] {
            do {
                _ = try DaemonConfiguration.parse("output_mode: \(bad)\n" + Self.minimal, file: "focusd.yaml", baseDirectory: "/")
                Issue.record("output_mode: \(bad) must be refused")
            } catch {
                #expect(error.key == "output_mode" && error.line == 1, "\(bad): \(error)")
                #expect(error.description.contains("0644"), "the message shows a valid mode: \(error)")
            }
        }
    }

    /// A file staged with mode 0600 (as umask 0077 leaves it) is committed with the set's mode.
    @Test func commitSetsTheModeBeforeRenaming() throws {
        let dir = TemporaryFolder("output-mode")
        var set = OutputSet()
        for name in ["a_fused.tif", "a.prov.json"] {
            try set.stage(Data(name.utf8), as: dir.sub(name))
        }
        for file in set.files { chmod(file.temporary, 0o600) }
        set.outputMode = 0o644
        try set.commit()
        #expect(Self.mode(dir.sub("a_fused.tif")) == 0o644)
        #expect(Self.mode(dir.sub("a.prov.json")) == 0o644)

        var unset = OutputSet()
        try unset.stage(Data("b".utf8), as: dir.sub("b_fused.tif"))
        chmod(unset.files[0].temporary, 0o600)
        try unset.commit()
        #expect(Self.mode(dir.sub("b_fused.tif")) == 0o600, "no outputMode: the mode is left as created")
    }

    /// A symbolic link swapped in for a staged file is refused, and its target keeps its mode.
    @Test func aLinkInPlaceOfAStagedFileIsNotFollowed() throws {
        let dir = TemporaryFolder("output-mode-link")
        let secret = dir.sub("secret")
        try Data("s".utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        var set = OutputSet()
        try set.stage(Data("x".utf8), as: dir.sub("x_fused.tif"))
        unlink(set.files[0].temporary)
        symlink(secret, set.files[0].temporary)
        set.outputMode = 0o644
        #expect(throws: SystemCallError.self) { try set.commit() }
        #expect(Self.mode(secret) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: dir.sub("x_fused.tif")))
    }

    /// Through the daemon: the fused image, the depth map and the sidecar all get `output_mode`.
    @Test func theDaemonsOutputsGetTheConfiguredMode() async throws {
        let f = DaemonFixture()
        var config = f.configuration()
        config.outputMode = 0o660
        let settled = config
        try await f.serving(settled, processor: TestProcessor()) {
            drop(fakeTIFF("a"), at: "\(f.drop)/one.tif")
            _ = try await f.jobsWhenSettled(count: 1, seconds: 90)
        }
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.state == .done)
        let files = (job.outputs ?? []).map(\.path) + [try #require(job.sidecar)]
        #expect(files.count >= 2)
        for file in files { #expect(Self.mode(file) == 0o660, "\(file)") }
    }
}
