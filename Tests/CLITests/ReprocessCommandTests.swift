import Foundation
import Imaging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `focusd reprocess` end to end: sharding over a real archive, usage errors, and a SIGKILL in the middle.
@Suite("focusd reprocess", .serialized)
struct ReprocessCommandTests {
    static let devStacks = CLI.sharedData.appendingPathComponent("dev/stacks").path

    /// `would fuse<TAB>id<TAB>reason` lines of a dry run.
    static func wouldFuse(_ stdout: String) -> [(id: String, reason: String)] {
        stdout.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return fields.count == 3 && fields[0] == "would fuse" ? (fields[1], fields[2]) : nil
        }
    }

    @Test func shardsOfARealArchiveAreDisjointAndCoverIt() throws {
        let out = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let all = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path, "--dry-run", Self.devStacks])
        #expect(all.status == 0, "stderr: \(all.stderr)")
        let ids = Self.wouldFuse(all.stdout).map(\.id)
        #expect(Set(ids) == ["stacks/dfnn_lightsheet_mitochondria", "stacks/edf_skeleton_zeiss", "stacks/edf_skeleton_zeiss/original_stack.tif",
                             "stacks/eevalaiho_bark", "stacks/focusstack_pcb"], "\(all.stdout)")
        #expect(Self.wouldFuse(all.stdout).allSatisfy { $0.reason == "missing" })
        for n in [2, 3, 4] {
            var union: [String] = []
            for i in 0..<n {
                let shard = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path, "--dry-run",
                                         "--shard", "\(i)/\(n)", Self.devStacks])
                #expect(shard.status == 0, "stderr: \(shard.stderr)")
                #expect(shard.stdout.contains("in shard \(i)/\(n)"))
                union += Self.wouldFuse(shard.stdout).map(\.id)
            }
            #expect(union.sorted() == ids.sorted(), "the \(n) shards together list every stack exactly once")
        }
        // A dry run writes nothing.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    @Test(arguments: [
        ["--shard", "4/4"], ["--shard", "1/0"], ["--shard", "x"], ["--jobs", "0"], ["--metrics-file", "/tmp/m.txt"],
        ["--pattern", "(?<stack>.+).tif"],
    ])
    func badOptionsAreUsageErrors(extra: [String]) throws {
        let out = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try CLI.run(["reprocess", "--profile", "reference", "--out", out.path] + extra + [Self.devStacks])
        #expect(result.status == 2, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.stderr.contains(extra[0]) || result.stderr.contains(extra[1]), "stderr: \(result.stderr)")
    }

    @Test func anOutputFolderInsideTheArchiveIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["reprocess", "--profile", "reference", "--out", dir.appendingPathComponent("fused").path, dir.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("inside the archive"), "stderr: \(result.stderr)")
    }

    /// Sidecars under `folder` (relative path → modification time).
    static func sidecars(_ folder: String) -> [String: Date] {
        var result: [String: Date] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let rel = enumerator?.nextObject() as? String {
            guard rel.hasSuffix("-ro-crate-metadata.json") else { continue }
            let attributes = try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(rel)")
            result[rel] = attributes?[.modificationDate] as? Date
        }
        return result
    }

    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    @Test func aKilledRunResumesWithoutRedoingFinishedStacks() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("archive").path, out = dir.appendingPathComponent("out").path
        // Ten stacks of five 192×192 16-bit slices, in nested folders, half as multi-page TIFFs, half as slice folders.
        let stackCount = 10
        for s in 0..<stackCount {
            let slices = (0..<5).map { z in
                Image(width: 192, height: 192, channels: 1,
                      pixels: (0..<(192 * 192)).map { i in Float((i * (z + 3) + s * 977) % 4099 * 15) })
            }
            let folder = "\(archive)/day\(s % 3)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            if s % 2 == 0 {
                try TIFFWriter.write(slices, format: .uint16, to: "\(folder)/stack\(s).tif")
            } else {
                try FileManager.default.createDirectory(atPath: "\(folder)/stack\(s)", withIntermediateDirectories: true)
                for (z, slice) in slices.enumerated() {
                    try TIFFWriter.write([slice], format: .uint16, to: "\(folder)/stack\(s)/z\(z).tif")
                }
            }
        }

        // Start, and SIGKILL once two stacks are finished.
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["reprocess", "--profile", "reference", "--out", out, "--jobs", "1", archive]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Self.sidecars(out).count < 2 && Date() < deadline && process.isRunning { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed; make the stacks bigger")
        let finished = Self.sidecars(out)
        try #require(finished.count >= 2 && finished.count < stackCount, "finished at kill: \(finished.count) of \(stackCount)")

        // A dry run now lists exactly the unfinished stacks (missing, or the one that was running).
        let dry = try CLI.run(["reprocess", "--profile", "reference", "--out", out, "--dry-run", archive])
        #expect(dry.status == 0, "stderr: \(dry.stderr)")
        let pending = Self.wouldFuse(dry.stdout)
        #expect(pending.count == stackCount - finished.count, "\(dry.stdout)")
        #expect(pending.allSatisfy { $0.reason == "missing" || $0.reason == "interrupted" }, "\(dry.stdout)")
        #expect(pending.filter { $0.reason == "interrupted" }.count <= 1, "one worker: at most one stack was running")

        // The restart finishes the rest and leaves finished stacks alone.
        let rerun = try CLI.run(["reprocess", "--profile", "reference", "--out", out, archive])
        #expect(rerun.status == 0, "stderr: \(rerun.stderr)")
        #expect(rerun.stdout.contains("\(finished.count) up to date, \(stackCount - finished.count) to fuse"), "\(rerun.stdout)")
        let after = Self.sidecars(out)
        #expect(after.count == stackCount)
        for (path, mtime) in finished {
            #expect(after[path] == mtime, "\(path) was fused again")
        }
        // Every output matches the sha256 its sidecar records.
        for rel in after.keys {
            let data = try #require(FileManager.default.contents(atPath: "\(out)/\(rel)"))
            let graph = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["@graph"] as? [[String: Any]])
            let outputs = graph.filter { $0["focusd:role"] != nil && $0["@type"] as? String == "File" }
            #expect(outputs.count == 2, "fused and depth for \(rel)")
            for output in outputs {
                let id = try #require(output["@id"] as? String)
                let path = try #require(URL(string: id)?.path, "\(id) is a file URI")
                #expect(id.hasPrefix("file:///"))
                #expect(try Self.sha256(path) == output["sha256"] as? String, "\(path)")
            }
        }
        // No temporary file is left behind.
        let leftovers = FileManager.default.enumerator(atPath: out)?.compactMap { $0 as? String }
            .filter { ($0 as NSString).lastPathComponent.contains("tmp-") } ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
        // Third run: nothing to do.
        let third = try CLI.run(["reprocess", "--profile", "reference", "--out", out, archive])
        #expect(third.status == 0)
        #expect(third.stdout.contains("\(stackCount) up to date, 0 to fuse"), "\(third.stdout)")
    }

    @Test func aFailedStackGivesExitOneWithFileAndReason() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("archive").path, out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: "\(archive)/broken", withIntermediateDirectories: true)
        let image = Image(width: 32, height: 32, channels: 1, pixels: (0..<1024).map { Float($0 % 200) })
        try TIFFWriter.write([image, image], format: .uint8, to: "\(archive)/good.tif")
        try Data("II*\0 this is not really a TIFF".utf8).write(to: URL(fileURLWithPath: "\(archive)/broken/cut.tif"))
        let result = try CLI.run(["reprocess", "--profile", "reference", "--out", out, "--metrics-file", "\(out)/m.prom", archive])
        #expect(result.status == 1, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.stderr.contains("broken/cut.tif"), "stderr: \(result.stderr)")
        #expect(result.stdout.contains("1 fused, 1 failed"), "\(result.stdout)")
        let metrics = try String(contentsOfFile: "\(out)/m.prom", encoding: .utf8)
        #expect(metrics.contains("focusd_stacks_total{instance=\"reprocess\",result=\"failed\"} 1"))
        #expect(metrics.contains("focusd_stacks_total{instance=\"reprocess\",result=\"done\"} 1"))
        let dry = try CLI.run(["reprocess", "--profile", "reference", "--out", out, "--dry-run", archive])
        #expect(Self.wouldFuse(dry.stdout).map(\.id) == ["archive/broken/cut.tif"])
        #expect(Self.wouldFuse(dry.stdout).first?.reason.hasPrefix("failed before:") == true, "\(dry.stdout)")
    }

    /// A sharded run labels its series with the shard and writes a file of its own, so two tasks of
    /// one array on a node do not overwrite each other's metrics.
    @Test func aShardWritesItsOwnLabelledMetricsFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = dir.appendingPathComponent("archive").path, out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
        let image = Image(width: 32, height: 32, channels: 1, pixels: (0..<1024).map { Float($0 % 200) })
        try TIFFWriter.write([image, image], format: .uint8, to: "\(archive)/good.tif")
        for shard in ["0/2", "1/2"] {
            let result = try CLI.run(["reprocess", "--profile", "reference", "--out", out, "--shard", shard,
                                      "--instance", "batch", "--metrics-file", "\(out)/m.prom", archive])
            #expect(result.status == 0, "stdout: \(result.stdout) stderr: \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(out)/m.prom"))
        for (index, file) in ["m-batch-shard0-of-2.prom", "m-batch-shard1-of-2.prom"].enumerated() {
            let text = try String(contentsOfFile: "\(out)/\(file)", encoding: .utf8)
            #expect(text.contains("focusd_up{instance=\"batch\",shard=\"\(index)/2\",mode=\"reprocess\"} 0"), "\(file): \(text)")
        }
    }
}
