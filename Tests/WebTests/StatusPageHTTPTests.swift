import Daemon
import Foundation
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing
@testable import Web

/// The page and its routes over HTTP (Hummingbird's router test client) on a temporary journal and outputs.
@Suite struct StatusPageHTTPTests {
    static func text(_ response: TestResponse) -> String { String(buffer: response.body) }

    @Test func pageShowsQueueRecentStacksAndFailures() async throws {
        let f = WebFixture()
        let done = try f.addDone("run7", slices: 9)
        let quarantined = try f.addQuarantined("broken", reason: "slice 2 is 64×48, slice 1 is 32×32; re-export the stack")
        try f.addQueued("waiting-stack")
        try await f.application().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                let page = Self.text(response)
                #expect(page.contains("run7"))
                #expect(page.contains("fluorescence-16bit"))
                #expect(page.contains("/jobs/\(done)/thumbnails/fused.png"))
                #expect(page.contains("/jobs/\(done)/thumbnails/depth.png"))
                #expect(page.contains("/jobs/\(done)/crate"))
                #expect(page.contains("<span>8</span>"), "colour bar ends at slice N−1")
                #expect(page.contains("waiting-stack"))
                #expect(page.contains("slice 2 is 64×48"))
                #expect(page.contains("/jobs/\(quarantined)/reason"))
                #expect(page.contains("move them back into"))
                #expect(!page.contains("<script"))
            }
            try await client.execute(uri: "/jobs/\(quarantined)/reason", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                #expect(Self.text(response).contains("(job \(quarantined),"))
            }
            try await client.execute(uri: "/jobs/\(done)/crate", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.text(response).contains("focusd:sliceCount"))
            }
            try await client.execute(uri: "/jobs/\(done)/files/fused", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/tiff")
                let bytes = [UInt8](FileManager.default.contents(atPath: "\(f.output)/run7_fused.tif")!)
                #expect(Array(response.body.readableBytesView) == bytes)
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func hostileNamesAreEscapedEverywhere() async throws {
        let f = WebFixture()
        let hostile = #"<script>alert(1)</script>&"quoted" 'x' <img src=x onerror=alert(2)>"#
        let done = try f.addDone(hostile)
        try f.addQuarantined("<b>bad</b>\u{1b}[31m", reason: "<iframe src=//evil> cannot be read")
        try await f.application().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                let page = Self.text(response)
                #expect(!page.contains("<script>alert"))
                #expect(!page.contains("<img src=x"))
                #expect(!page.contains("<iframe"))
                #expect(!page.contains("<b>bad"))
                #expect(!page.contains("\u{1b}"))
                #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;quoted&quot; &#39;x&#39;"))
                #expect(page.contains("&lt;iframe src=//evil&gt;"))
            }
            try await client.execute(uri: "/jobs/\(done)/files/fused", method: .get) { response in
                #expect(response.status == .ok)
                let disposition = try #require(response.headers[.contentDisposition])
                // One quoted plain name (no quote, backslash or control character inside), then the exact name encoded.
                let parts = disposition.components(separatedBy: "\"")
                #expect(parts.count == 3, "\(disposition)")
                #expect(parts.first == "attachment; filename=")
                #expect(parts.last?.hasPrefix("; filename*=UTF-8''%3Cscript%3Ealert%281%29") == true)
                #expect(!disposition.unicodeScalars.contains { $0.value < 0x20 || $0 == "\\" })
            }
        }
    }

    @Test func thumbnailsAreMadeOncePerVersionOfAnOutput() async throws {
        let f = WebFixture()
        let done = try f.addDone("run8")
        try await f.application().test(.router) { client in
            var etag = ""
            var first: [UInt8] = []
            try await client.execute(uri: "/jobs/\(done)/thumbnails/fused.png", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/png")
                first = Array(response.body.readableBytesView)
                #expect(first.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                etag = response.headers[.eTag] ?? ""
            }
            #expect(try Self.cached(f).count == 1)
            try await client.execute(uri: "/jobs/\(done)/thumbnails/fused.png", method: .get) { response in
                #expect(Array(response.body.readableBytesView) == first)
            }
            try await client.execute(uri: "/jobs/\(done)/thumbnails/fused.png", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
            }
            #expect(try Self.cached(f).count == 1, "the second request came from the cache")
            try await client.execute(uri: "/jobs/\(done)/thumbnails/depth.png", method: .get) { #expect($0.status == .ok) }
            #expect(try Self.cached(f).count == 2)
            // The stack is fused again: a new output under the same name gets a new thumbnail.
            try TIFFWriter.write([WebFixture.texture(64, 48, seed: 9)], format: .uint16, to: "\(f.output)/run8_fused.tif")
            try await client.execute(uri: "/jobs/\(done)/thumbnails/fused.png", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) != first)
                #expect(response.headers[.eTag] != etag)
            }
            #expect(try Self.cached(f).count == 3)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.output).allSatisfy { !$0.hasSuffix(".png") },
                "nothing written into the output folder")
    }

    static func cached(_ f: WebFixture) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: f.cache).filter { $0.hasSuffix(".png") && !$0.hasPrefix(".") }
    }

    @Test func unknownJobsRolesAndMethodsAreRefused() async throws {
        let f = WebFixture()
        let done = try f.addDone("run9")
        try await f.application().test(.router) { client in
            for uri in ["/jobs/999/files/fused", "/jobs/\(done)/files/sidecar", "/jobs/\(done)/thumbnails/confidence.png",
                        "/jobs/abc/crate", "/jobs/\(done)/reason", "/nothing"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                }
            }
            for method in [HTTPRequest.Method.post, .put, .delete] {
                try await client.execute(uri: "/", method: method) { response in
                    #expect(!(200..<300).contains(response.status.code), "\(method) / must not succeed")
                }
            }
        }
    }

    @Test func journalNotYetCreatedIsSaidOnThePage() async throws {
        let f = WebFixture()
        let service = f.service()
        try await Application(router: StatusServer.router(service)).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.text(response).contains("no journal here yet"))
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .serviceUnavailable) }
        }
    }
}
