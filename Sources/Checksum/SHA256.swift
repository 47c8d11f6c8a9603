import Crypto
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 (FIPS 180-4), used for provenance: input, output and model file hashes.
///
/// A thin wrapper over swift-crypto's `Crypto.SHA256` (BoringSSL's assembly on Linux, CryptoKit on
/// macOS), so hashing runs at disk speed rather than at the speed of a hand-written loop.
/// Streaming: `update` any number of times, then `finalize`. `hex(fileAt:)` reads a file in 4 MiB
/// chunks, so hashing a multi-gigabyte stack uses constant memory.
///
/// `@unchecked Sendable`: swift-crypto's `SHA256` is a value type (its BoringSSL context is copied on
/// write) but is not marked `Sendable` on Linux; a copy sent to another thread shares no mutable state.
public struct SHA256: @unchecked Sendable {
    /// Bytes per `read(2)` when hashing a file: large enough that the system call cost vanishes
    /// beside the hashing, small enough to stay in the last-level cache.
    public static let fileChunkBytes = 4 << 20

    private var hasher = Crypto.SHA256()

    public init() {}

    /// Adds bytes to the message.
    public mutating func update(_ bytes: some Collection<UInt8>) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }

    /// Adds the bytes at `pointer`.
    public mutating func update(_ pointer: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: pointer)
    }

    /// The 32-byte digest. The hasher should not be used afterwards.
    public mutating func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }

    /// Lower-case hexadecimal SHA-256 of `bytes`.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hexString(hasher.finalize())
    }

    /// Lower-case hexadecimal SHA-256 of the file at `path`, read in `fileChunkBytes` chunks.
    /// - Throws: `ChecksumError` naming the path, the failing call and the system's reason when the
    ///   file cannot be opened or read.
    public static func hex(fileAt path: String) throws(ChecksumError) -> String {
        var hasher = SHA256()
        try readChunks(ofFileAt: path) { hasher.update($0) }
        return hexString(hasher.finalize())
    }

    /// Reads the file at `path` front to back in `fileChunkBytes` chunks, handing each to `body`
    /// (hashing, or only reading, for the speed benchmark's baseline).
    /// - Throws: `ChecksumError` naming the file and the call that failed.
    public static func readChunks(ofFileAt path: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(ChecksumError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ChecksumError(.last("open", path: path)) }
        defer { close(fd) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: fileChunkBytes, alignment: 4096)
        defer { chunk.deallocate() }
        while true {
            let n = SystemCall.retryingInterrupts { read(fd, chunk.baseAddress, chunk.count) }
            if n < 0 { throw ChecksumError(.last("read", path: path)) }
            if n == 0 { return }
            body(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }


    private static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A file could not be read for hashing: the `open` or `read` that failed.
public struct ChecksumError: Error, CustomStringConvertible, Sendable {
    /// The call, the path and `errno`.
    public let failure: SystemCallError

    public init(_ failure: SystemCallError) {
        self.failure = failure
    }

    public var path: String { failure.path }

    public var description: String {
        "\(failure.path): cannot be read for hashing (\(failure.call): \(failure.reason)); check that it exists and is readable"
    }
}
