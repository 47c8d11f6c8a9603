import Foundation
import Testing

/// `systemd/focusd-web.service`: loopback only, read-only but for the state directory, and the
/// daemon's sandbox otherwise.
@Suite struct WebUnitTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func directives(_ unit: String) throws -> [String] {
        try String(contentsOf: root.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && $0.contains("=") }
    }

    @Test func listensOnLoopbackOnlyAndWritesOnlyTheStateDirectory() throws {
        let web = try Self.directives("focusd-web.service")
        let exec = try #require(web.first { $0.hasPrefix("ExecStart=") })
        #expect(exec.contains(" web ") && exec.contains("--listen 127.0.0.1:"))
        #expect(web.contains("IPAddressDeny=any"))
        #expect(web.contains("IPAddressAllow=localhost"))
        #expect(web.filter { $0.hasPrefix("ReadWritePaths=") } == ["ReadWritePaths=/var/lib/focusd"])
        #expect(web.contains("ProtectSystem=strict"))
    }

    /// Every sandbox directive of the daemon's unit is in the page's, but for those the network needs.
    @Test func keepsTheDaemonsSandbox() throws {
        let web = Set(try Self.directives("focusd-web.service"))
        let networkOrPaths = ["Description=", "After=", "PrivateNetwork=", "RestrictAddressFamilies=", "ReadWritePaths=", "StateDirectory", "Type=", "NotifyAccess=",
                              "ExecStart=", "KillMode=", "TimeoutStopSec=", "WatchdogSec=", "MemoryMax=", "TasksMax=", "LimitNOFILE=", "Nice="]
        for directive in try Self.directives("focusd.service") where !networkOrPaths.contains(where: { directive.hasPrefix($0) }) {
            #expect(web.contains(directive), "focusd-web.service lacks \(directive)")
        }
    }
}
