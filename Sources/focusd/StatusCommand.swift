import ArgumentParser
import Daemon
import Foundation

/// `focusd status`: the queue and recent results, read from the daemon's journal.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's queue and recent results from its journal.")

    @Option(name: .long, help: "The daemon configuration file (its state_directory holds the journal).")
    var config: String = DaemonConfiguration.defaultPath

    @Option(name: .long, help: "How many recent failures to list.")
    var failures: Int = 10

    func validate() throws {
        guard failures >= 0 else { throw ValidationError("--failures must be 0 or more") }
    }

    func run() async throws {
        let configuration = try DaemonConfiguration.load(path: config)
        let journal = try Journal(path: configuration.journalPath, readOnly: true)
        let counts = try journal.counts()
        let midnight = Calendar.current.startOfDay(for: Date()).timeIntervalSince1970
        let doneToday = try journal.jobs(in: [.done], finishedSince: midnight, limit: 1_000_000).count
        let running = try journal.jobs(in: [.running])
        let queued = try journal.jobs(in: [.queued], limit: 1_000_000)
        let failed = try journal.jobs(in: [.failed, .quarantined], limit: failures)

        var out = "journal: \(configuration.journalPath)\n"
        let now = Date().timeIntervalSince1970
        let waiting = queued.filter { $0.nextAttemptAt > now }.count
        out += "queued: \(counts[.queued] ?? 0)" + (waiting > 0 ? " (\(waiting) waiting to retry)" : "") + "\n"
        out += "running: \(running.count)\n"
        for job in running {
            out += "  \(job.drop)/\(job.stack)  attempt \(job.attempts)  for \(Int(now - (job.startedAt ?? now))) s\n"
        }
        out += "done today: \(doneToday) (all time: \(counts[.done] ?? 0))\n"
        out += "failed: \(counts[.failed] ?? 0), quarantined: \(counts[.quarantined] ?? 0)\n"
        if !failed.isEmpty {
            out += "recent failures:\n"
            let formatter = ISO8601DateFormatter()
            for job in failed {
                let when = job.finishedAt.map { formatter.string(from: Date(timeIntervalSince1970: $0)) } ?? "-"
                let reason = (job.error ?? "").replacingOccurrences(of: "\n", with: " ")
                out += "  \(when)  job \(job.id ?? 0)  \(job.drop)/\(job.stack)  \(job.state.rawValue)  \(reason)\n"
            }
        }
        let calibrations = try DropBreathingCalibration.all(in: configuration, journal: journal)
        if !calibrations.isEmpty {
            out += "breathing calibration (align_calibrate_breathing; `focusd recalibrate DROP` starts one afresh):\n"
            for calibration in calibrations { out += "  \(calibration.summary)\n" }
        }
        print(out, terminator: "")
    }
}
