import Daemon
import Foundation
import Hummingbird
import HummingbirdTesting
import Imaging
import Logging
@testable import Web

/// A temporary site: a configuration with one drop folder (`scope`), its output and quarantine
/// folders, a state folder with a journal written through the daemon's own `Journal`, and small
/// real outputs (16-bit fused TIFF, float32 depth map, a crate naming the slice count).
final class WebFixture: @unchecked Sendable {
    let root: String
    var drop: String { root + "/drop" }
    var output: String { root + "/fused" }
    var quarantine: String { root + "/quarantine" }
    var state: String { root + "/state" }
    var cache: String { root + "/cache" }
    private(set) lazy var journal: Journal = try! Journal(path: state + "/journal.sqlite")

    init() {
        root = NSTemporaryDirectory() + "focusd-web-\(UUID().uuidString)"
        for folder in [drop, output, quarantine, state] {
            try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
    }

    deinit {
        try? journal.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    var configuration: DaemonConfiguration {
        var rules = DetectionRules()
        rules.stableSeconds = 0.3
        var config = DaemonConfiguration(stateDirectory: state, dropFolders: [
            DropFolderConfiguration(name: "scope", path: drop, profile: .file("/etc/focusd/profiles/fluorescence-16bit.yaml"),
                                    output: output, quarantine: quarantine, detection: rules,
                                    retry: RetryPolicy(maxAttempts: 1, backoffSeconds: 0.1, maxBackoffSeconds: 0.1)),
        ], sourceFile: root + "/focusd.yaml")
        config.logLevel = .warning
        return config
    }

    var site: StatusSite { StatusSite(configuration: configuration, cacheDirectory: cache) }

    func service(refresh: Int = 0) -> StatusService {
        var options = StatusService.Options()
        options.refreshSeconds = refresh
        return StatusService(site: site, options: options, logger: Logger(label: "web-test"))
    }

    func application() -> some ApplicationProtocol {
        Application(router: StatusServer.router(service()))
    }

    // MARK: Jobs

    /// A finished stack with real outputs; returns its job number.
    @discardableResult
    func addDone(_ stack: String, slices: Int = 5, fused: Image? = nil, outputs outputPaths: [String: String]? = nil) throws -> Int64 {
        var job = try require_(try journal.insertDetected(drop: "scope", stack: stack, kind: .file, root: "\(drop)/\(stack).tif",
                                                            inputs: [JobInput(path: "\(drop)/\(stack).tif", size: 1, mtime: Double(stack.hashValue & 0xffff))],
                                                            now: Date().timeIntervalSince1970))
        let safe = JobFiles.safeName(stack)
        let fusedPath = outputPaths?["fused"] ?? "\(output)/\(safe)_fused.tif"
        let depthPath = outputPaths?["depth"] ?? "\(output)/\(safe)_depth.tif"
        let sidecar = outputPaths?["sidecar"] ?? "\(output)/\(safe)-ro-crate-metadata.json"
        if outputPaths == nil {
            try TIFFWriter.write([fused ?? Self.texture(64, 48, seed: 1)], format: .uint16, to: fusedPath)
            try TIFFWriter.write([Self.depthRamp(64, 48, slices: slices)], format: .float32, to: depthPath)
            try Self.crate(slices: slices).write(toFile: sidecar, atomically: true, encoding: .utf8)
        }
        let now = Date().timeIntervalSince1970
        job.state = .done
        job.attempts = 1
        job.startedAt = now - 2
        job.finishedAt = now
        job.outputStack = safe
        job.outputs = [JobOutput(role: "fused", path: fusedPath, size: 1, sha256: ""),
                       JobOutput(role: "depth", path: depthPath, size: 1, sha256: "")]
        job.sidecar = sidecar
        try journal.update(job)
        return job.id!
    }

    /// A quarantined stack with its `.error.txt` as the daemon writes it.
    @discardableResult
    func addQuarantined(_ stack: String, reason: String) throws -> Int64 {
        var job = try require_(try journal.insertDetected(drop: "scope", stack: stack, kind: .folder, root: "\(drop)/\(stack)",
                                                            inputs: [JobInput(path: "\(drop)/\(stack)/1.tif", size: 1, mtime: 1)],
                                                            now: Date().timeIntervalSince1970))
        job.state = .quarantined
        job.attempts = 1
        job.finishedAt = Date().timeIntervalSince1970
        job.error = reason
        try journal.update(job)
        let text = "focusd could not process the stack '\(stack)' from the drop folder \(drop)\n(job \(job.id!), 2026-12-06T18:00:00Z).\n\nWhat was wrong:\n  \(reason)\n"
        try text.write(toFile: "\(quarantine)/\(JobFiles.safeName(stack)).error.txt", atomically: true, encoding: .utf8)
        return job.id!
    }

    /// A job waiting in the queue.
    func addQueued(_ stack: String) throws {
        _ = try journal.insertDetected(drop: "scope", stack: stack, kind: .file, root: nil,
                                       inputs: [JobInput(path: "\(drop)/\(stack).tif", size: 7, mtime: 7)], now: Date().timeIntervalSince1970)
    }

    // MARK: Images

    /// A 16-bit texture: dim background 1000…2000 with bright spots.
    static func texture(_ width: Int, _ height: Int, seed: Int) -> Image {
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let v = 1500 + 500 * sin(Float(x + seed) * 0.3) * cos(Float(y) * 0.2)
                pixels[y * width + x] = ((x * 7 + y * 3 + seed) % 23 == 0) ? 30000 : v
            }
        }
        return Image(width: width, height: height, channels: 1, pixels: pixels)
    }

    /// A depth map rising from slice 0 at the left to slice `slices − 1` at the right.
    static func depthRamp(_ width: Int, _ height: Int, slices: Int) -> Image {
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { pixels[y * width + x] = Float(x) / Float(width - 1) * Float(slices - 1) }
        }
        return Image(width: width, height: height, channels: 1, pixels: pixels)
    }

    static func crate(slices: Int) -> String {
        ##"{"@context":"https://w3id.org/ro/crate/1.1/context","@graph":[{"@id":"#fusion-1-1","@type":"CreateAction","focusd:sliceCount":\##(slices)}]}"##
    }
}

struct FixtureError: Error { let message: String }

/// `#require` for use outside a test body (a throwing unwrap).
func require_<T>(_ value: T?, _ message: String = "unexpected nil") throws -> T {
    guard let value else { throw FixtureError(message: message) }
    return value
}
