import Foundation
import Logging
import Testing
@testable import Daemon

final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

@Suite struct ServiceSupportTests {
    @Test func anExclusiveLockIsRefusedWhileHeldAndFreeAfterRelease() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("focusd-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var first: ExclusiveFileLock? = try StateDirectoryLock.acquire(directory: dir.path)
        #expect(first != nil)
        #expect(throws: DaemonError.self) { _ = try StateDirectoryLock.acquire(directory: dir.path) }
        do {
            _ = try StateDirectoryLock.acquire(directory: dir.path)
        } catch {
            #expect("\(error)".contains("another focusd is already using the state directory"))
        }
        first = nil
        _ = try StateDirectoryLock.acquire(directory: dir.path)
        #expect(throws: DaemonError.self) { _ = try StateDirectoryLock.acquire(directory: dir.path + "/missing") }
    }

    @Test func logLinesAreLevelThenKeyValuePairs() {
        let collector = LineCollector()
        var handler = KeyValueLogHandler(label: "t", level: .info, sink: { collector.append($0) })
        handler.metadata["drop"] = "scope 1"
        let logger = Logger(label: "t") { _ in handler }
        logger.info("stack complete", metadata: ["stack": "a=b", "slices": "3", "note": "line\nbreak"])
        logger.debug("hidden")
        #expect(collector.lines == [#"info msg="stack complete" drop="scope 1" note="line\nbreak" slices=3 stack="a=b""#])
    }

    @Test func notifierSendsDatagramsToNotifySocket() throws {
        let dir = TemporaryFolder("n")
        let socketPath = dir.sub("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "4000000",
                                                     "WATCHDOG_PID": "\(getpid())"])
        #expect(notifier.watchdogInterval == .seconds(2))
        notifier.ready(status: "queued 0")
        notifier.watchdog()
        var buffer = [UInt8](repeating: 0, count: 256)
        let n1 = recv(fd, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer[0..<max(n1, 0)], as: UTF8.self) == "READY=1\nSTATUS=queued 0")
        let n2 = recv(fd, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer[0..<max(n2, 0)], as: UTF8.self) == "WATCHDOG=1")

        #expect(SystemdNotifier(environment: [:]).notify("READY=1") == false, "not under systemd: nothing sent")
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"]).watchdogInterval == nil,
                "the watchdog is for another process")
    }
}
