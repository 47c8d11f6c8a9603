import Foundation
import FusionDiff
import Imaging
import SeededRandom
import Testing
@testable import Daemon

/// The crash loop in small (scripts/crash-loop.sh runs 200 stacks and 50 kills): the built `focusd`
/// serving real stacks with the reference engine is SIGKILLed at random moments while stacks arrive,
/// restarted each time, and afterwards every stack has exactly one complete output set whose hashes
/// match its sidecar, no temporary file is visible, and no input changed.
@Suite(.serialized) struct RobustnessCrashLoopTests {
    @Test func twentyStacksAndFiveSIGKILLsLoseNothingAndDuplicateNothing() throws {
        let f = DaemonFixture()
        let config = try DaemonProcessTests.writeConfig(f)
        try FileManager.default.createDirectory(atPath: f.drop, withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        var random = SplitMix64(seed: seed)  // FusionDiff's, for a reproducible kill schedule from a logged seed
        var inputs: [String: [String: String]] = [:]     // stack → input path → sha256
        let count = 20
        var daemon = try DaemonProcessTests.Daemon(config: config, logPath: f.root.sub("serve-0.log"))
        var kills = 0
        for i in 0..<count {
            let name = String(format: "s%02d", i)
            var pages: [Image] = []
            for z in 0..<3 {
                var image = Image(width: 64, height: 64, channels: 1)
                for y in 0..<64 { for x in 0..<64 { image[x, y, 0] = Float(((x / 4 + y / 4 + z) % 2 == 0 ? 40000 : 9000) + i * 100 + x * 3) } }
                pages.append(image)
            }
            if i % 4 == 3 {
                // A folder of slices, moved in whole, with its marker.
                let staging = f.root.sub("staging-\(name)")
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
                var files: [String: String] = [:]
                for (z, page) in pages.enumerated() {
                    try TIFFWriter.write([page], format: .uint16, to: "\(staging)/slice_\(z + 1).tif")
                    files["\(f.drop)/\(name)/slice_\(z + 1).tif"] = SHA256Hex.of(try #require(FileManager.default.contents(atPath: "\(staging)/slice_\(z + 1).tif")))
                }
                _ = FileManager.default.createFile(atPath: "\(staging)/COMPLETE", contents: nil)
                #expect(rename(staging, "\(f.drop)/\(name)") == 0)
                inputs[name] = files
            } else {
                let staging = f.root.sub("staging-\(name).tif")
                try TIFFWriter.write(pages, format: .uint16, to: staging)
                let bytes = try #require(FileManager.default.contents(atPath: staging))
                inputs[name] = ["\(f.drop)/\(name).tif": SHA256Hex.of(bytes)]
                #expect(rename(staging, "\(f.drop)/\(name).tif") == 0)
            }
            if i % 4 == 1 && kills < 5 || i == count - 1 && kills < 5 {
                Thread.sleep(forTimeInterval: Double(random.next() % 1000) / 1000 * 0.8)
                daemon.signal(SIGKILL)
                #expect(daemon.waitForExit(seconds: 10) != nil)
                kills += 1
                daemon = try DaemonProcessTests.Daemon(config: config, logPath: f.root.sub("serve-\(kills).log"))
            }
        }
        #expect(kills == 5)
        let settled = waitUntil(seconds: 90) {
            let jobs = DaemonProcessTests.jobs(f)
            return jobs.count == count && jobs.allSatisfy { $0.state.isFinal }
        }
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 30) == 0)
        #expect(settled, "seed \(seed): \(DaemonProcessTests.jobs(f).map { "\($0.stack):\($0.state.rawValue)" })\n\(daemon.log.suffix(3000))")

        let jobs = DaemonProcessTests.jobs(f)
        #expect(jobs.count == count && jobs.allSatisfy { $0.state == .done }, "seed \(seed)")
        #expect(Set(jobs.map(\.stack)).count == count, "one job per stack")
        var expectedOutputs: [String] = []
        for (name, files) in inputs.sorted(by: { $0.key < $1.key }) {
            expectedOutputs += ["\(name)-ro-crate-metadata.json", "\(name)_depth.tif", "\(name)_fused.tif"]
            let sidecar = try SidecarSchemaTests.load("\(f.output)/\(name)-ro-crate-metadata.json")
            try SidecarSchemaTests.checkAgainstFiles(sidecar, inputs: files.keys.sorted())
            for (path, hash) in files {
                #expect(SHA256Hex.of(try #require(FileManager.default.contents(atPath: path))) == hash, "\(path) changed")
                #expect(SidecarSchemaTests.entity(sidecar, path)?["sha256"] as? String == hash)
            }
        }
        #expect(f.files(in: f.output) == expectedOutputs.sorted(), "exactly one output set per stack, no temporaries (seed \(seed))")
        #expect(f.files(in: f.quarantine).isEmpty)
    }
}

