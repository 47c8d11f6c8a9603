import ArgumentParser
import Daemon
import Logging
import Pipeline
import ServiceLifecycle

/// `focusd serve`: watch the configured drop folders and fuse every complete stack once.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the drop-folder daemon.",
        discussion: """
            Watches the drop folders in the configuration file, fuses each complete stack once with its \
            profile, writes outputs and a provenance sidecar atomically, and records every job in a SQLite \
            journal in the state directory. SIGTERM or SIGINT stops intake, lets running jobs finish (up to \
            shutdown_timeout_seconds) and exits 0. Under systemd (Type=notify) it reports READY, STATUS, \
            WATCHDOG and STOPPING.
            """)

    @Option(name: .long, help: "The daemon configuration file.")
    var config: String = DaemonConfiguration.defaultPath

    @Flag(name: .long, help: "Process every stack that is complete now, then exit (no watching).")
    var once = false

    func run() async throws {
        let configuration = try DaemonConfiguration.load(path: config)
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in KeyValueLogHandler(label: label, level: level) }
        let logger = Logger(label: "focusd")
        let service = DaemonService(
            configuration: configuration,
            software: SoftwareInfo(name: FocusdBuild.name, version: FocusdBuild.version, gitCommit: FocusdBuild.gitCommit),
            logger: logger, once: once,
            processorFactory: PipelineProcessor.factory(configurationFile: configuration.sourceFile,
                                                        memoryLimitBytes: configuration.memoryLimitMiB.map { $0 << 20 }))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            // The service returns after a graceful shutdown, or by itself with --once: both are success.
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
