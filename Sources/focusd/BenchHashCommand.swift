import ArgumentParser
import Checksum
import Foundation
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `focusd bench hash`: SHA-256 throughput on a file against plainly reading it, and in memory.
///
/// Provenance hashes every input and output, so hashing should run at the speed the file can be
/// read: `hash_vs_read` near 1 means hashing costs no more than the read it needs anyway.
struct BenchHashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Benchmark SHA-256 on a file against reading it.",
        discussion: """
            Writes a file of --size-mb megabytes of pseudo-random bytes in --directory (or uses --file), then \
            times, --runs times each: reading it in 4 MiB chunks, hashing it with `SHA256.hex(fileAt:)` (the \
            daemon's path), and hashing the same bytes already in memory. Prints MB/s (10^6 bytes per \
            second), the median of the runs. The file is read through the page cache: a file just written \
            is usually cached, so the read figure is the memory-copy ceiling, not the disk's.
            """)

    @Option(help: "Size of the generated file in MB (10^6 bytes).")
    var sizeMb = 200

    @Option(help: "Timed runs per measurement (the median is reported).")
    var runs = 5

    @Option(help: "Folder for the generated file (removed afterwards).")
    var directory: String = FileManager.default.temporaryDirectory.path

    @Option(help: "Hash this existing file instead of generating one.")
    var file: String?

    @Flag(help: "Print one JSON object instead of lines.")
    var json = false

    func validate() throws {
        guard sizeMb >= 1 else { throw ValidationError("--size-mb must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() async throws {
        let path: String
        var generated: String?
        if let file {
            path = file
        } else {
            path = (directory as NSString).appendingPathComponent("focusd-bench-hash-\(getpid()).bin")
            try writeFile(path, bytes: sizeMb * 1_000_000)
            generated = path
        }
        defer { if let generated { unlink(generated) } }
        let size = try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0 else { throw ValidationError("\(path): empty; give a file with content") }

        let readSeconds = try median { try readAll(path) }
        let fileSeconds = try median { _ = try SHA256.hex(fileAt: path) }
        let memoryBytes = min(size, 256 << 20)
        let buffer = try readPrefix(path, bytes: memoryBytes)
        let memorySeconds = try median { _ = SHA256.hex(buffer) }

        func rate(_ bytes: Int, _ seconds: Double) -> Double { Double(bytes) / seconds / 1e6 }
        let read = rate(size, readSeconds), hashFile = rate(size, fileSeconds), hashMemory = rate(memoryBytes, memorySeconds)
        if json {
            let object: [String: Any] = ["file": path, "bytes": size, "runs": runs, "read_mb_s": read,
                                         "hash_file_mb_s": hashFile, "hash_memory_mb_s": hashMemory,
                                         "memory_bytes": memoryBytes, "hash_vs_read": hashFile / read]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("file \(path): \(size) bytes, median of \(runs) runs")
            print(String(format: "read (4 MiB chunks)       %8.0f MB/s", read))
            print(String(format: "SHA-256 of the file       %8.0f MB/s  (%.2f of read)", hashFile, hashFile / read))
            print(String(format: "SHA-256 in memory (%d MB) %8.0f MB/s", memoryBytes / 1_000_000, hashMemory))
        }
    }

    /// The median wall time of `runs` calls of `body`, in seconds.
    private func median(_ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        times.sort()
        return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    }

    private func readAll(_ path: String) throws {
        try SHA256.readChunks(ofFileAt: path) { _ in }
    }


    private func readPrefix(_ path: String, bytes: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path), let data = try handle.read(upToCount: bytes) else {
            throw ValidationError("\(path): cannot be read; check that it exists and is readable")
        }
        return [UInt8](data)
    }

    private func writeFile(_ path: String, bytes: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ValidationError("\(path): cannot be created (\(SystemCallError.reason(errno))); give a writable --directory") }
        defer { close(fd) }
        // One pseudo-random 4 MiB block, its first 8 bytes the block's index, so no two blocks are equal.
        var chunk = [UInt8](repeating: 0, count: 4 << 20)
        var state: UInt64 = 0x2545f4914f6cdd1d
        for i in chunk.indices { state = state &* 6364136223846793005 &+ 1442695040888963407; chunk[i] = UInt8(truncatingIfNeeded: state >> 56) }
        var left = bytes
        var index: UInt64 = 0
        while left > 0 {
            withUnsafeBytes(of: index) { for (i, byte) in $0.enumerated() { chunk[i] = byte } }
            index += 1
            let n = min(left, chunk.count)
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, n) }
            guard written == n else {
                throw ValidationError("\(path): cannot be written (\(SystemCallError.reason(errno))); free space or give another --directory")
            }
            left -= n
        }
    }
}
