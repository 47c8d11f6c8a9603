import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's notify protocol without libsystemd: datagrams to the socket named by `$NOTIFY_SOCKET`.
///
/// Messages: `READY=1` once serving, `STATUS=<text>` for `systemctl status`, `WATCHDOG=1` at half of
/// `$WATCHDOG_USEC` when the unit sets `WatchdogSec=`, `STOPPING=1` when shutting down. Without
/// `$NOTIFY_SOCKET` (not started by systemd) every call does nothing.
public struct SystemdNotifier: Sendable {
    /// The socket path; a leading `@` names an abstract socket.
    public let socketPath: String?
    /// How often to send `WATCHDOG=1`, or nil when no watchdog is configured for this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: Duration? = nil
        if path != nil, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            let pidMatches = environment["WATCHDOG_PID"].flatMap(Int32.init).map { $0 == getpid() } ?? true
            if pidMatches { interval = .microseconds(Int64(usec / 2)) }
        }
        watchdogInterval = interval
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Sends `message` (e.g. `"READY=1\nSTATUS=idle"`). Returns false when not under systemd or on error.
    @discardableResult
    public func notify(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), sa, length)
            }
        }
        return sent == bytes.count
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { notify("STATUS=\(text)") }
    public func watchdog() { notify("WATCHDOG=1") }
    public func stopping() { notify("STOPPING=1\nSTATUS=stopping") }
}
