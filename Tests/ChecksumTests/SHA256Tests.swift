import Foundation
import Testing
@testable import Checksum

@Suite("SHA-256 against FIPS 180-4 vectors")
struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func knownVectors(message: String, expected: String) {
        #expect(SHA256.hex(Array(message.utf8)) == expected)
    }

    @Test func millionAs() {
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The million-'a' vector read from a file, so the file path is checked against NIST, not only
    /// against the in-memory path.
    @Test func millionAsFromAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(repeating: 0x61, count: 1_000_000).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try SHA256.hex(fileAt: url.path) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func fileMatchesInMemoryAcrossChunkBoundaries() throws {
        // 2 chunks + 13 bytes crosses the 4 MiB read chunks and ends in a partial 64-byte block.
        var bytes = [UInt8](repeating: 0, count: 2 * SHA256.fileChunkBytes + 13)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try SHA256.hex(fileAt: url.path) == SHA256.hex(bytes))
    }

    @Test func streamingEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<3])) }
        hasher.update(bytes[3..<130])
        bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[130...])) }
        let digest = hasher.finalize()
        #expect(digest.count == 32)
        #expect(digest.map { String(format: "%02x", $0) }.joined() == SHA256.hex(bytes))
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: ChecksumError.self) { try SHA256.hex(fileAt: "/nonexistent/stack.tif") }
        do { _ = try SHA256.hex(fileAt: "/nonexistent/stack.tif") } catch {
            #expect(error.description.contains("/nonexistent/stack.tif"))
            #expect(error.failure.call == "open" && error.failure.code == ENOENT)
        }
    }
}
