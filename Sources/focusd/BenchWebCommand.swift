import ArgumentParser
import Daemon
import Foundation
import Imaging
import Logging
import ServiceLifecycle
import Web

/// `focusd bench web`: how long the status page takes with a full journal, over real HTTP.
struct BenchWebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Time the status page (focusd web) over HTTP with N finished stacks in a journal.",
        discussion: """
            Writes a temporary journal (through the daemon's Journal) with --stacks finished stacks, each \
            with a 16-bit fused image, a float32 depth map and a provenance crate, plus 5 quarantined and \
            3 queued; serves the page on a free loopback port and times --runs GET / requests (each a new \
            connection, the whole response read). Prints the first (cold: crates parsed) and the median, \
            90th percentile and maximum of the rest.
            """)

    @Option(help: "Finished stacks in the journal.")
    var stacks: Int = 200

    @Option(help: "Finished stacks listed on the page (--recent of focusd web).")
    var recent: Int = 200

    @Option(help: "Requests timed.")
    var runs: Int = 50

    func validate() throws {
        guard stacks >= 0, recent >= 0, runs >= 2 else { throw ValidationError("--stacks, --recent ≥ 0, --runs ≥ 2") }
    }

    func run() async throws {
        let root = NSTemporaryDirectory() + "focusd-bench-web-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configuration = try BenchJournal.make(in: root, stacks: stacks)
        var options = StatusService.Options()
        options.recent = recent
        options.refreshSeconds = 0
        var logger = Logger(label: "bench-web")
        logger.logLevel = .warning
        let service = StatusService(site: StatusSite(configuration: configuration), options: options, logger: logger)
        defer { service.close() }
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = StatusServer.application(service, address: ListenAddress(host: "127.0.0.1", port: 0), logger: logger) { sink.yield($0 ?? 0) }
        let server = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            var seconds: [Double] = []
            var bytes = 0
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                bytes = try await BenchHTTP.get(port: port, path: "/")
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            await server.triggerGracefulShutdown()
            try await group.waitForAll()
            let warm = seconds.dropFirst().sorted()
            func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }
            print("focusd bench web: \(stacks) stacks in the journal, \(min(recent, stacks)) listed, page \(bytes / 1024) KiB")
            print("  first request (cold): \(ms(seconds[0]))")
            print("  next \(warm.count): median \(ms(warm[warm.count / 2])), p90 \(ms(warm[Int(Double(warm.count - 1) * 0.9)])), max \(ms(warm.last!))")
        }
    }
}

/// A journal full of finished stacks for `bench web`.
enum BenchJournal {
    static func make(in root: String, stacks: Int) throws -> DaemonConfiguration {
        let drop = root + "/drop", output = root + "/fused", quarantine = root + "/quarantine", state = root + "/state"
        for folder in [drop, output, quarantine, state] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let configuration = DaemonConfiguration(stateDirectory: state, dropFolders: [
            DropFolderConfiguration(name: "scope1", path: drop, profile: .file("/etc/focusd/profiles/default.yaml"),
                                    output: output, quarantine: quarantine),
        ], sourceFile: root + "/focusd.yaml")
        let journal = try Journal(path: configuration.journalPath)
        defer { try? journal.close() }
        let fused = Image(width: 64, height: 64, channels: 1, pixels: (0..<4096).map { Float($0 * 13 % 4000) })
        let depth = Image(width: 64, height: 64, channels: 1, pixels: (0..<4096).map { Float($0 % 64) / 8 })
        let now = Date().timeIntervalSince1970
        for i in 0..<(stacks + 8) {
            let name = String(format: "stack-%04d", i)
            let input = JobInput(path: "\(drop)/\(name).tif", size: 1000 + i, mtime: Double(i))
            guard var job = try journal.insertDetected(drop: "scope1", stack: name, kind: .file, root: input.path,
                                                       inputs: [input], now: now - Double(stacks - i) * 30) else { continue }
            if i >= stacks + 5 { continue }   // 3 queued
            job.attempts = 1
            job.startedAt = now - Double(stacks - i) * 30
            job.finishedAt = job.startedAt! + 12
            if i >= stacks {
                job.state = .quarantined
                job.error = "\(input.path): not a TIFF, PNG or JPEG image (unrecognised first bytes); give a TIFF, PNG or JPEG file"
            } else {
                let paths = (fused: "\(output)/\(name)_fused.tif", depth: "\(output)/\(name)_depth.tif", crate: "\(output)/\(name)-ro-crate-metadata.json")
                try TIFFWriter.write([fused], format: .uint16, to: paths.fused)
                try TIFFWriter.write([depth], format: .float32, to: paths.depth)
                let crate = ##"{"@context":"https://w3id.org/ro/crate/1.1/context","@graph":[{"@id":"#fusion-\##(i)-1","@type":"CreateAction","focusd:sliceCount":9}]}"##
                try crate.write(toFile: paths.crate, atomically: true, encoding: .utf8)
                job.state = .done
                job.outputStack = name
                job.outputs = [JobOutput(role: "fused", path: paths.fused, size: 0, sha256: ""),
                               JobOutput(role: "depth", path: paths.depth, size: 0, sha256: "")]
                job.sidecar = paths.crate
            }
            try journal.update(job)
        }
        return configuration
    }
}

/// A minimal HTTP/1.1 GET over a new loopback connection; returns the bytes read.
enum BenchHTTP {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Runs the blocking client on a thread of its own, so the server's tasks keep the whole pool.
    static func get(port: Int, path: String) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try blockingGet(port: port, path: path) }) }.start()
        }
    }

    private static func blockingGet(port: Int, path: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(String(cString: strerror(errno)))") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            total += n
        }
        return total
    }
}
