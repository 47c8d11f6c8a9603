import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// The built `focusd` binary under real signals, with the real fusion pipeline (reference engine).
@Suite(.serialized) struct DaemonProcessTests {
    static let binary = (packageRoot as NSString).appendingPathComponent(".build/debug/focusd")

    /// A running `focusd serve` with its stderr captured to a file.
    final class Daemon {
        let process = Process()
        let logPath: String
        init(config: String, logPath: String, environment: [String: String] = [:]) throws {
            self.logPath = logPath
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: DaemonProcessTests.binary)
            process.arguments = ["serve", "--config", config]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardError = FileHandle(forWritingAtPath: logPath)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }
        func signal(_ number: Int32) { kill(process.processIdentifier, number) }
        /// Waits for exit; returns the exit status, or nil when it did not exit in time (then kills it).
        func waitForExit(seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                signal(SIGKILL)
                process.waitUntilExit()
                return nil
            }
            return process.terminationStatus
        }
        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    }

    /// Writes a configuration for `f` and returns its path.
    static func writeConfig(_ f: DaemonFixture, shutdownTimeout: Double = 60) throws -> String {
        let path = f.root.sub("focusd.yaml")
        try """
            state_directory: \(f.state)
            log_level: debug
            poll_interval_seconds: 0.05
            shutdown_timeout_seconds: \(shutdownTimeout)
            drop_folders:
              - path: \(f.drop)
                name: scope
                output: \(f.output)
                quarantine: \(f.quarantine)
                profile: { engine: reference }
                detection: { stable_seconds: 0.2 }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A focus stack of `slices` 16-bit pages written elsewhere and moved into the drop folder.
    static func dropStack(_ f: DaemonFixture, name: String, size: Int, slices: Int) throws -> String {
        var pages: [Image] = []
        for z in 0..<slices {
            var image = Image(width: size, height: size, channels: 1)
            for y in 0..<size {
                for x in 0..<size {
                    let stripe = ((x / 8 + y / 8 + z) % 2 == 0) ? 40000 : 9000
                    image[x, y, 0] = Float((stripe + x * 7 + y * 3 + z * 500) % 65536)
                }
            }
            pages.append(image)
        }
        let staging = f.root.sub("staging-\(name).tif")
        try TIFFWriter.write(pages, format: .uint16, to: staging)
        let target = "\(f.drop)/\(name).tif"
        try FileManager.default.createDirectory(atPath: f.drop, withIntermediateDirectories: true)
        #expect(rename(staging, target) == 0)
        return target
    }

    static func jobs(_ f: DaemonFixture) -> [JobRecord] {
        let path = (f.state as NSString).appendingPathComponent("journal.sqlite")
        guard let journal = try? Journal(path: path, readOnly: true) else { return [] }
        return (try? journal.allJobs()) ?? []
    }

    @Test func sigkillDuringAFusionThenRestartProcessesTheStackExactlyOnce() throws {
        let f = DaemonFixture()
        let config = try Self.writeConfig(f)
        try FileManager.default.createDirectory(atPath: f.drop, withIntermediateDirectories: true)
        let first = try Daemon(config: config, logPath: f.root.sub("first.log"))
        let input = try Self.dropStack(f, name: "big", size: 384, slices: 3)
        let inputHash = SHA256Hex.of(try #require(FileManager.default.contents(atPath: input)))
        #expect(waitUntil(seconds: 30) { Self.jobs(f).first?.state == .running }, "\(first.log)")
        Thread.sleep(forTimeInterval: 0.3)
        first.signal(SIGKILL)
        #expect(first.waitForExit(seconds: 10) != nil)
        #expect(Self.jobs(f).first?.state == .running, "killed during the fusion:\n\(first.log)")
        #expect(!FileManager.default.fileExists(atPath: "\(f.output)/big-ro-crate-metadata.json"))

        let second = try Daemon(config: config, logPath: f.root.sub("second.log"))
        #expect(waitUntil(seconds: 60) { Self.jobs(f).first?.state == .done }, "\(second.log)")
        second.signal(SIGTERM)
        #expect(second.waitForExit(seconds: 20) == 0)

        let jobs = Self.jobs(f)
        #expect(jobs.count == 1)
        #expect(jobs.first?.attempts == 2)
        #expect(second.log.contains("interrupted"))
        // No temporary file is left, visible or hidden; outputs hash as the sidecar says; the input is untouched.
        #expect(f.files(in: f.output) == ["big-ro-crate-metadata.json", "big_depth.tif", "big_fused.tif"])
        let sidecar = try SidecarSchemaTests.load("\(f.output)/big-ro-crate-metadata.json")
        #expect(try SidecarSchemaTests.schema().validate(sidecar).isEmpty)
        try SidecarSchemaTests.checkAgainstFiles(sidecar, inputs: [input])
        #expect(SHA256Hex.of(try #require(FileManager.default.contents(atPath: input))) == inputHash)
        #expect(SidecarSchemaTests.entity(sidecar, input)?["sha256"] as? String == inputHash)
        let fused = try #require(try StackLoader().open([f.output + "/big_fused.tif"]).first)
        #expect(fused.geometry.width == 384 && fused.count == 1, "a complete, readable image")
    }

    @Test func sigtermDrainsTheRunningJobAndExitsZeroWithSystemdNotifications() throws {
        let f = DaemonFixture()
        let config = try Self.writeConfig(f)
        try FileManager.default.createDirectory(atPath: f.drop, withIntermediateDirectories: true)
        // A notify socket, as systemd provides.
        let socketPath = f.root.sub("notify")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let daemon = try Daemon(config: config, logPath: f.root.sub("serve.log"), environment: ["NOTIFY_SOCKET": socketPath])
        _ = try Self.dropStack(f, name: "drain", size: 256, slices: 3)
        #expect(waitUntil(seconds: 30) { Self.jobs(f).first?.state == .running }, "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 60) == 0, "\(daemon.log)")
        #expect(Self.jobs(f).map(\.state) == [.done], "the running job finished before exit")
        #expect(f.files(in: f.output) == ["drain-ro-crate-metadata.json", "drain_depth.tif", "drain_fused.tif"])
        #expect(!daemon.log.contains("error"), "a clean stop logs no error (each service ends in its turn): \(daemon.log)")

        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        #expect(messages.first?.hasPrefix("READY=1\nSTATUS=") == true, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("STOPPING=1") }, "\(messages)")
    }

    @Test func aTruncatedTIFFIsQuarantinedAndTheRealPipelineFusesTheNext() async throws {
        let f = DaemonFixture()
        let sample = "\(sharedData)/dev/stacks/edf_skeleton_zeiss/original_stack.tif"
        let bytes = try #require(FileManager.default.contents(atPath: sample), "shared sample \(sample)")
        let processor = PipelineProcessor(settings: FusionSettings(), baseDirectory: nil)
        try await f.serving(f.configuration(), processor: processor) {
            drop(bytes.prefix(bytes.count / 3), at: "\(f.drop)/truncated.tif")
            _ = try await f.jobsWhenSettled(count: 1, seconds: 60)
            drop(bytes, at: "\(f.drop)/skeleton.tif")
            _ = try await f.jobsWhenSettled(count: 2, seconds: 60)
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.state) == [.quarantined, .done])
        let reason = try String(contentsOfFile: "\(f.quarantine)/truncated.error.txt", encoding: .utf8)
        #expect(reason.contains("truncated.tif"), "the reason names the file:\n\(reason)")
        #expect(FileManager.default.contents(atPath: "\(f.quarantine)/truncated.tif") == bytes.prefix(bytes.count / 3))
        let sidecar = try SidecarSchemaTests.load("\(f.output)/skeleton-ro-crate-metadata.json")
        #expect(try SidecarSchemaTests.schema().validate(sidecar).isEmpty)
        try SidecarSchemaTests.checkAgainstFiles(sidecar, inputs: ["\(f.drop)/skeleton.tif"])
        #expect(SidecarSchemaTests.properties(sidecar, "focusd:settings")["engine"] as? String == "reference")
        let action = try #require(SidecarSchemaTests.action(sidecar))
        #expect((action["focusd:sliceCount"] as? NSNumber)?.intValue == 3)
    }
}
