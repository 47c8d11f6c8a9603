import Foundation
import Testing

/// The shipped systemd units against the install steps beside them.
@Suite struct SystemdUnitTests {
    static let units = ["focusd.service", "focusd@.service"]
    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: (packageRoot as NSString).appendingPathComponent(relative), encoding: .utf8)
    }

    /// `PrivateNetwork=yes` and a wait for the network contradict each other: no network target.
    @Test(arguments: units) func noNetworkTargetBesidePrivateNetwork(unit: String) throws {
        let text = try Self.read("systemd/\(unit)")
        let directives = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(directives.contains("PrivateNetwork=yes"))
        #expect(!directives.contains { $0.contains("network-online.target") || $0.contains("network.target") })
    }

    /// Every `Documentation=file://…` the unit names is installed there by systemd/README.md's steps.
    @Test(arguments: units) func documentationNamedIsInstalled(unit: String) throws {
        let text = try Self.read("systemd/\(unit)")
        let install = try Self.read("systemd/README.md")
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("Documentation=") })
        let files = line.dropFirst("Documentation=".count).split(separator: " ").filter { $0.hasPrefix("file://") }
        #expect(!files.isEmpty)
        for file in files {
            let path = String(file.dropFirst("file://".count))
            let installed = install.split(separator: "\n").contains { line in
                line.hasPrefix("sudo install") && line.split(separator: " ").contains { $0 == path }
            }
            #expect(installed, "\(unit) names \(path), which the install steps in systemd/README.md never install")
        }
    }
}
