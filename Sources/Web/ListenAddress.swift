import Foundation

/// Where `focusd web` listens: `HOST:PORT`, `[IPv6]:PORT`; loopback (127.0.0.1:8080) by default.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public static let loopbackDefault = ListenAddress(host: "127.0.0.1", port: 8080)

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:8080`, `localhost:8080`, `[::1]:8080` (port 0: any free port).
    /// - Throws: `WebError(.badListenAddress)` naming the value and the expected form.
    public init(parsing text: String) throws(WebError) {
        let usage = "--listen \(text): expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080"
        var hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw WebError(.badListenAddress, usage)
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw WebError(.badListenAddress, usage) }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { throw WebError(.badListenAddress, usage + " (write IPv6 addresses in brackets)") }
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65535).contains(port) else {
            throw WebError(.badListenAddress, usage + " (the port is 0–65535)")
        }
        self.init(host: String(hostPart), port: port)
    }

    /// Whether only this machine can connect (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Binds a socket to the address once and closes it, so a port in use or an address that is not
    /// this machine's is a clear error before the server starts (the server binds with the same
    /// `SO_REUSEADDR`, so what passes here binds there, barring a race).
    /// - Throws: `WebError(.cannotListen)` naming the address, the system's reason and what to do.
    public func checkAvailable() throws(WebError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw WebError(.cannotListen, "--listen \(self): cannot resolve \(host) (\(String(cString: gai_strerror(status)))); give an IP address such as 127.0.0.1")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else {
            throw WebError(.cannotListen, "--listen \(self): cannot create a socket: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(fd, 1) == 0 else {
            let code = errno
            let advice: String
            switch code {
            case EADDRINUSE: advice = "another process listens there (`ss -ltnp 'sport = :\(port)'` shows which); stop it or give --listen with another port"
            case EACCES: advice = "ports below 1024 need privileges; use a port of 1024 or more"
            case EADDRNOTAVAIL: advice = "that address is not one of this machine's; use 127.0.0.1 or an address of this machine"
            default: advice = "check the address"
            }
            throw WebError(.cannotListen, "cannot listen on \(self): \(String(cString: strerror(code))); \(advice)")
        }
    }
}
