import Foundation
import Testing

/// `focusd web`: errors a user can cause name what and what to do, and exit non-zero.
@Suite struct WebCommandTests {
    @Test func aMissingConfigurationExitsOneNamingIt() throws {
        let result = try CLI.run(["web", "--config", "/nonexistent/focusd.yaml"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("/nonexistent/focusd.yaml"))
    }

    @Test func aBadListenAddressIsAUsageError() throws {
        let result = try CLI.run(["web", "--listen", "8080"])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("expected HOST:PORT"))
    }

    @Test func aPortInUseExitsOneSayingWhatToDo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("focusd.yaml").path
        try """
        state_directory: \(dir.path)/state
        drop_folders:
          - path: \(dir.path)/drop
            output: \(dir.path)/fused
        """.write(toFile: config, atomically: true, encoding: .utf8)
        // Hold a port: listen on 127.0.0.1 at a free port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        let result = try CLI.run(["web", "--config", config, "--listen", "127.0.0.1:\(port)"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "\(result.stderr)")
        #expect(result.stderr.contains("another port"))
    }
}
