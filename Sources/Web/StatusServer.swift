import Daemon
import Foundation
import Hummingbird
import Logging

/// The HTTP side of `focusd web` on Hummingbird: GET routes only, each mapping a job number and a
/// fixed role onto a file the journal records inside a configured folder. No route takes a path.
///
/// | route | what |
/// |---|---|
/// | `/` | the status page |
/// | `/jobs/N/thumbnails/fused.png`, `…/depth.png` | thumbnails (PNG, cached) |
/// | `/jobs/N/files/fused`, `…/depth`, `…/confidence` | the full-size outputs |
/// | `/jobs/N/crate` | the provenance crate (JSON) |
/// | `/jobs/N/reason` | a quarantined stack's `.error.txt` |
/// | `/healthz` | `ok` when the journal can be read |
public enum StatusServer {
    /// The router with every route and the security headers.
    public static func router(_ service: StatusService) -> Router<BasicRequestContext> {
        let router = Router()
        router.addMiddleware { SecurityHeaders() }
        router.get("/") { _, _ -> Response in
            Self.response(.ok, type: "text/html; charset=utf-8", body: Array(service.page().utf8), cache: "no-store")
        }
        router.get("/healthz") { _, _ -> Response in
            let problem = service.journalProblem()
            return Self.response(problem == nil ? .ok : .serviceUnavailable, type: "text/plain; charset=utf-8",
                                 body: Array((problem.map { "\($0)\n" } ?? "ok\n").utf8), cache: "no-store")
        }
        router.get("/jobs/:id/thumbnails/:name") { request, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self),
                  let name = context.parameters.get("name"), ["fused.png", "depth.png"].contains(name),
                  let thumbnail = service.thumbnail(job: id, role: String(name.dropLast(4))) else { return notFound() }
            let etag = "\"\(thumbnail.key.dropLast(4))\""
            if request.headers[.ifNoneMatch] == etag {
                return Response(status: .notModified, headers: [.eTag: etag, .cacheControl: "no-cache"])
            }
            var response = Self.response(.ok, type: "image/png", body: thumbnail.png, cache: "no-cache")
            response.headers[.eTag] = etag
            return response
        }
        router.get("/jobs/:id/files/:role") { _, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), let role = context.parameters.get("role"),
                  ["fused", "depth", "confidence"].contains(role),
                  let job = service.job(id), let file = service.files.output(role, of: job) else { return notFound() }
            return stream(file, type: contentType(of: file.path), download: true)
        }
        router.get("/jobs/:id/crate") { _, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), let job = service.job(id),
                  let file = service.files.crate(of: job) else { return notFound() }
            return stream(file, type: "application/json; charset=utf-8", download: false)
        }
        router.get("/jobs/:id/reason") { _, context -> Response in
            guard let id = context.parameters.get("id", as: Int64.self), let job = service.job(id),
                  let file = service.files.quarantineReason(of: job) else { return notFound() }
            return stream(file, type: "text/plain; charset=utf-8", download: false)
        }
        return router
    }

    /// Builds the application listening on `address`.
    public static func application(_ service: StatusService, address: ListenAddress, logger: Logger,
                                   onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(router: router(service),
                    configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "focusd-web"),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
                    logger: logger)
    }

    // MARK: Responses

    static func response(_ status: HTTPResponse.Status, type: String, body: [UInt8], cache: String) -> Response {
        var buffer = ByteBufferAllocator().buffer(capacity: body.count)
        buffer.writeBytes(body)
        return Response(status: status, headers: [.contentType: type, .contentLength: "\(body.count)", .cacheControl: cache],
                        body: ResponseBody(byteBuffer: buffer))
    }

    static func notFound() -> Response {
        response(.notFound, type: "text/plain; charset=utf-8", body: Array("not found\n".utf8), cache: "no-store")
    }

    /// The file in 1 MiB chunks from the descriptor opened and checked before.
    static func stream(_ file: ServedFile, type: String, download: Bool) -> Response {
        var headers: HTTPFields = [.contentType: type, .contentLength: "\(file.size)", .cacheControl: "no-cache"]
        if download { headers[.contentDisposition] = contentDisposition((file.path as NSString).lastPathComponent) }
        let body = ResponseBody(contentLength: file.size) { writer in
            var offset = 0
            while offset < file.size {
                let chunk = file.read(offset: offset, count: min(1 << 20, file.size - offset))
                if chunk.isEmpty { break }
                var buffer = ByteBufferAllocator().buffer(capacity: chunk.count)
                buffer.writeBytes(chunk)
                try await writer.write(buffer)
                offset += chunk.count
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `attachment; filename="…"` with only safe ASCII in the plain name, the real one percent-encoded (RFC 6266).
    static func contentDisposition(_ name: String) -> String {
        let plain = String(name.unicodeScalars.map { s -> Character in
            s.isASCII && s.value >= 0x20 && s.value != 0x7f && !"\"\\;%".unicodeScalars.contains(s) ? Character(s) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? plain
        return "attachment; filename=\"\(plain)\"; filename*=UTF-8''\(encoded)"
    }

    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "tif", "tiff": return "image/tiff"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        default: return "application/octet-stream"
        }
    }
}

/// Headers on every response: no script, nothing from elsewhere, no framing, no sniffing.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            response = StatusServer.response(error.status, type: "text/plain; charset=utf-8",
                                             body: Array("\(error.status.code) \(error.status.reasonPhrase)\n".utf8), cache: "no-store")
        }
        response.headers[.contentSecurityPolicy] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPFields.Element.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
