import ArgumentParser
import Daemon
import Foundation

/// `focusd retry JOB|STACK`: queues a failed job again, for the running daemon to pick up.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue a failed job again (by job number or stack name); the running daemon picks it up.",
        discussion: """
            A job that gave up (retries used, a configuration error since fixed) is queued again with its \
            attempts reset; `focusd status` lists failed jobs with their numbers. A quarantined stack's \
            files were moved to the quarantine folder: move them back into the drop folder instead — a \
            stack moved back is a new arrival.
            """)

    @Argument(help: "A job number (see `focusd status`) or a stack name (its newest job).")
    var job: String

    @Option(name: .long, help: "The daemon configuration file (its state_directory holds the journal).")
    var config: String = DaemonConfiguration.defaultPath

    func run() async throws {
        let configuration = try DaemonConfiguration.load(path: config)
        guard FileManager.default.fileExists(atPath: configuration.journalPath) else {
            throw ValidationError("no journal at \(configuration.journalPath) yet (the daemon creates it on its first start); nothing to retry")
        }
        let journal = try Journal(path: configuration.journalPath)
        switch try journal.retry(job, now: Date().timeIntervalSince1970) {
        case .requeued(let record):
            print("job \(record.id ?? 0) (\(record.drop)/\(record.stack)) queued again; the daemon fuses it when a worker is free")
        case .notFailed(let record):
            throw RetryRefused(message: "job \(record.id ?? 0) (\(record.drop)/\(record.stack)) is \(record.state.rawValue), not failed; nothing to retry")
        case .quarantined(let record):
            let folder = configuration.dropFolders.first { $0.name == record.drop }
            throw RetryRefused(message: "job \(record.id ?? 0) (\(record.drop)/\(record.stack)) was quarantined: its files are in \(folder?.quarantine ?? "the quarantine folder"); fix them and move them back into \(folder?.path ?? "the drop folder") — a stack moved back is processed as a new arrival")
        case .notFound:
            throw RetryRefused(message: "no job numbered or named '\(job)' in \(configuration.journalPath); `focusd status` lists failed jobs")
        }
    }
}

/// Why `retry` did nothing (exit 1).
struct RetryRefused: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
