import Daemon
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Web

/// Nothing outside the configured output and quarantine folders is ever sent: not through `..`,
/// encoded slashes, symbolic links, or a journal row naming a file elsewhere.
@Suite struct PathSafetyTests {
    static let secret = "TOP-SECRET-CONTENT"

    /// A file beside (not inside) the configured folders.
    static func secretFile(_ f: WebFixture) throws -> String {
        let path = f.root + "/secret.txt"
        try secret.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func traversalInTheURLFindsNothing() async throws {
        let f = WebFixture()
        _ = try Self.secretFile(f)
        let done = try f.addDone("run1")
        let uris = [
            "/jobs/\(done)/files/..%2F..%2Fsecret.txt", "/jobs/\(done)/files/../../secret.txt", "/../secret.txt",
            "/..%2f..%2fetc%2fpasswd", "/jobs/\(done)/files/%2e%2e%2f%2e%2e%2fsecret.txt", "/jobs/%2e%2e/files/fused",
            "/jobs/\(done)/thumbnails/..%2Ffused.png", "/jobs/\(done)%2F..%2F..%2Fsecret.txt/crate", "/jobs/\(done)/files/fused%00",
            "/%2Fetc%2Fpasswd", "//etc/passwd", "/jobs/\(done)/files/fused/..%5C..%5Csecret.txt",
        ]
        try await f.application().test(.router) { client in
            for uri in uris {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound || response.status == .badRequest, "\(uri): \(response.status)")
                    let body = String(buffer: response.body)
                    #expect(!body.contains(Self.secret) && !body.contains("root:"), "\(uri) leaked a file")
                }
            }
        }
    }

    @Test func journalRowsNamingFilesOutsideTheFoldersAreNotServed() async throws {
        let f = WebFixture()
        let secret = try Self.secretFile(f)
        let outside = try f.addDone("outside", outputs: ["fused": secret, "depth": "/etc/passwd", "sidecar": secret])
        let dotdot = try f.addDone("dotdot", outputs: ["fused": "\(f.output)/../secret.txt", "depth": "\(f.output)/./../../etc/passwd",
                                                      "sidecar": "\(f.output)/../secret.txt"])
        try await f.application().test(.router) { client in
            for id in [outside, dotdot] {
                for route in ["files/fused", "files/depth", "crate", "thumbnails/fused.png", "thumbnails/depth.png"] {
                    try await client.execute(uri: "/jobs/\(id)/\(route)", method: .get) { response in
                        #expect(response.status == .notFound, "job \(id) \(route)")
                        #expect(!String(buffer: response.body).contains(Self.secret))
                    }
                }
            }
        }
    }

    @Test func symbolicLinksOutOfTheFoldersAreNotFollowed() async throws {
        let f = WebFixture()
        let secret = try Self.secretFile(f)
        // An output replaced by a link to a file elsewhere.
        let linked = try f.addDone("linked")
        try FileManager.default.removeItem(atPath: "\(f.output)/linked_fused.tif")
        try FileManager.default.createSymbolicLink(atPath: "\(f.output)/linked_fused.tif", withDestinationPath: secret)
        // A folder inside the output folder that is a link to a folder elsewhere.
        let elsewhere = f.root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try Self.secret.write(toFile: elsewhere + "/x_fused.tif", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(f.output)/sub", withDestinationPath: elsewhere)
        let viaFolder = try f.addDone("via-folder", outputs: ["fused": "\(f.output)/sub/x_fused.tif", "depth": "\(f.output)/sub/x_fused.tif",
                                                            "sidecar": "\(f.output)/sub/x_fused.tif"])
        // A quarantine reason file that is a link.
        let reasonJob = try f.addQuarantined("linked-reason", reason: "bad")
        try FileManager.default.removeItem(atPath: "\(f.quarantine)/linked-reason.error.txt")
        try FileManager.default.createSymbolicLink(atPath: "\(f.quarantine)/linked-reason.error.txt", withDestinationPath: secret)
        try await f.application().test(.router) { client in
            for uri in ["/jobs/\(linked)/files/fused", "/jobs/\(linked)/thumbnails/fused.png", "/jobs/\(viaFolder)/files/fused",
                        "/jobs/\(viaFolder)/crate", "/jobs/\(viaFolder)/thumbnails/fused.png", "/jobs/\(reasonJob)/reason"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(!String(buffer: response.body).contains(Self.secret), "\(uri) leaked")
                }
            }
            // The depth map of the first job is still a regular file in the folder: served.
            try await client.execute(uri: "/jobs/\(linked)/files/depth", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func servedFileChecksTheFolderLexicallyAndByRealPath() throws {
        let f = WebFixture()
        try "x".write(toFile: f.output + "/a.txt", atomically: true, encoding: .utf8)
        #expect(ServedFile(path: f.output + "/a.txt", inside: f.output) != nil)
        #expect(ServedFile(path: f.output + "/../fused/a.txt", inside: f.output) != nil, "normalised back inside")
        #expect(ServedFile(path: f.output, inside: f.output) == nil, "the folder itself is not a file to send")
        #expect(ServedFile(path: f.output + "x/a.txt", inside: f.output) == nil, "a sibling with the folder's name as prefix")
        #expect(ServedFile(path: "fused/a.txt", inside: f.output) == nil, "relative paths")
    }
}
