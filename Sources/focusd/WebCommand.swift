import ArgumentParser
import Daemon
import Foundation
import Hummingbird
import Logging
import Web

/// `focusd web`: the read-only status page, a process of its own beside the daemon.
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Serve a read-only status page: queue, recent stacks with thumbnails, failures with reasons.",
        discussion: """
            Reads the daemon's journal (read-only) and the output and quarantine folders its configuration \
            names, and serves one page over HTTP: queued and running jobs (the page reloads itself every \
            --refresh seconds), recent stacks with thumbnails of the fused image and depth map and links to \
            the full-size outputs and provenance crate, failed and quarantined stacks with their reasons and \
            what to do, and per-profile throughput today. Listens on loopback unless --listen says \
            otherwise; writes nothing but thumbnails into --cache-directory. SIGTERM or SIGINT stops it.
            """)

    @Option(name: .long, help: "The daemon configuration file (journal, output and quarantine folders).")
    var config: String = DaemonConfiguration.defaultPath

    @Option(name: .long, help: "HOST:PORT to listen on; loopback unless you name another address.")
    var listen: String = ListenAddress.loopbackDefault.description

    @Option(name: .long, help: "Thumbnail cache folder (default: web-thumbnails in the state directory).")
    var cacheDirectory: String?

    @Option(name: .long, help: "Finished stacks listed, newest first.")
    var recent: Int = 50

    @Option(name: .long, help: "Failed and quarantined jobs listed, newest first.")
    var failures: Int = 20

    @Option(name: .long, help: "Seconds between automatic reloads of the page (0: none).")
    var refresh: Int = 5

    func validate() throws {
        guard recent >= 0, failures >= 0 else { throw ValidationError("--recent and --failures must be 0 or more") }
        guard refresh >= 0 else { throw ValidationError("--refresh must be 0 or more seconds") }
        do { _ = try ListenAddress(parsing: listen) } catch { throw ValidationError(error.message) }
    }

    func run() async throws {
        let configuration = try DaemonConfiguration.load(path: config)
        let address = try ListenAddress(parsing: listen)
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in KeyValueLogHandler(label: label, level: level) }
        let logger = Logger(label: "focusd-web")
        let site = StatusSite(configuration: configuration, cacheDirectory: cacheDirectory)
        try site.prepareCache()
        try address.checkAvailable()
        if !address.isLoopback {
            logger.warning("listening beyond this machine: anyone who can reach the address sees stack names and outputs",
                           metadata: ["address": "\(address)"])
        }
        var options = StatusService.Options()
        options.recent = recent
        options.failures = failures
        options.refreshSeconds = refresh
        let service = StatusService(site: site, options: options, logger: logger)
        defer { service.close() }
        let app = StatusServer.application(service, address: address, logger: logger) { port in
            logger.notice("status page ready", metadata: ["url": "http://\(address.host.contains(":") ? "[\(address.host)]" : address.host):\(port ?? address.port)/",
                                                          "journal": "\(site.journalPath)", "thumbnails": "\(site.cacheDirectory)"])
        }
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            throw WebError(.cannotListen, "focusd web on \(address) stopped: \(error)")
        }
    }
}
