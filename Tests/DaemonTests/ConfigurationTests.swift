import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

@Suite struct ConfigurationTests {
    let base = "/srv/focusd"

    @Test func parsesAFullConfigurationWithDefaultsAndRelativePaths() throws {
        let yaml = """
            state_directory: state
            workers: 2
            log_level: debug
            shutdown_timeout_seconds: 5
            drop_folders:
              - path: /data/drop/scope1
                output: /data/fused/scope1
                archive: ../archive
                profile: profiles/fast.yaml
                detection:
                  stable_seconds: 0.5
                  marker: DONE
                  slice_count: 12
                  quiet_seconds: null
                  pattern: '(?<stack>.+)_z(?<z>\\d+)\\.tif'
                  extensions: [TIF, .png]
                outputs:
                  fused: '{stack}-aif.tif'
                  depth: null
                retry: { max_attempts: 2, backoff_seconds: 1 }
              - path: /data/drop/scope2
                output: /data/fused/scope2
                profile: { engine: reference, steps: 4 }
            """
        let config = try DaemonConfiguration.parse(yaml, baseDirectory: base)
        #expect(config.stateDirectory == "/srv/focusd/state")
        #expect(config.workers == 2)
        #expect(config.logLevel == .debug)
        #expect(config.shutdownTimeoutSeconds == 5)
        #expect(config.dropFolders.count == 2)
        let a = config.dropFolders[0]
        #expect(a.name == "scope1")
        #expect(a.archive == "/srv/archive")
        #expect(a.quarantine == "/srv/focusd/state/quarantine/scope1")
        #expect(a.profile == .file("/srv/focusd/profiles/fast.yaml"))
        #expect(a.detection.stableSeconds == 0.5)
        #expect(a.detection.marker == "DONE")
        #expect(a.detection.sliceCount == 12)
        #expect(a.detection.quietSeconds == nil)
        #expect(a.detection.extensions == ["tif", "png"])
        #expect(a.outputs.fused == "{stack}-aif.tif")
        #expect(a.outputs.depth == nil)
        #expect(a.outputs.sidecar == "{stack}-ro-crate-metadata.json")
        #expect(a.retry == RetryPolicy(maxAttempts: 2, backoffSeconds: 1, maxBackoffSeconds: 600))
        let b = config.dropFolders[1]
        guard case .inline(let text, let line) = b.profile else { Issue.record("inline profile expected"); return }
        #expect(text.contains("steps: 4"))
        #expect(line == 23)
        #expect(b.detection == DetectionRules())
    }

    /// Each kind of mistake names the key and the line it is on.
    @Test(arguments: [
        ("state_directory: /s\nworkerz: 2\ndrop_folders: [{path: /d, output: /o}]\n", "workerz", 2, "unknown key"),
        ("state_directory: /s\nworkers: many\ndrop_folders: [{path: /d, output: /o}]\n", "workers", 2, "whole number"),
        ("state_directory: /s\nworkers: 0\ndrop_folders: [{path: /d, output: /o}]\n", "workers", 2, "out of range"),
        ("state_directory: /s\nlog_level: loud\ndrop_folders: [{path: /d, output: /o}]\n", "log_level", 2, "not a log level"),
        ("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n    detection:\n      quiet_seconds: soon\n",
         "drop_folders[0].detection.quiet_seconds", 6, "expected a number"),
        ("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n    detection:\n      pattern: 'slice(\\d+)'\n",
         "drop_folders[0].detection.pattern", 6, "named captures"),
        ("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /d/out\n", "drop_folders[0].output", 4, "inside the drop folder"),
        ("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n    outputs: {fused: fused.tif}\n",
         "drop_folders[0].outputs.fused", 5, "{stack}"),
        ("state_directory: /s\ndrop_folders:\n  - path: /d\n    outptu: /o\n", "drop_folders[0].output", 3, "required"),
        ("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n    retry: {max_attempts: 2, backof: 3}\n",
         "drop_folders[0].retry.backof", 5, "unknown key"),
        ("state_directory: /s\ndrop_folders: []\n", "drop_folders", 1, "at least one"),
    ])
    func errorsNameKeyAndLine(yaml: String, key: String, line: Int, fragment: String) {
        do {
            _ = try DaemonConfiguration.parse(yaml, file: "focusd.yaml", baseDirectory: base)
            Issue.record("expected an error for \(key)")
        } catch {
            #expect(error.key == key)
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
            #expect(error.description.hasPrefix("focusd.yaml:"))
        }
    }

    @Test func yamlSyntaxErrorsCarryALine() {
        do {
            _ = try DaemonConfiguration.parse("state_directory: /s\ndrop_folders:\n  - path: [\n", baseDirectory: base)
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.line != nil)
            #expect(error.message.contains("not valid YAML"))
        }
    }

    @Test func loadReportsAMissingFile() {
        #expect(throws: ConfigurationError.self) { try DaemonConfiguration.load(path: "/nonexistent/focusd.yaml") }
    }
}
