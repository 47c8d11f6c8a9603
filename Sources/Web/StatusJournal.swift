import Daemon
import Foundation
import GRDB

/// The few read-only queries the status page makes of the daemon's job journal (`journal.sqlite`).
///
/// Opened with `Configuration.readonly`: the page never writes, and reads beside a daemon that is
/// writing (WAL: a reader sees the last committed transaction and never blocks the writer).
/// Rows decode as the daemon's own `JobRecord`.
final class StatusJournal: Sendable {
    let path: String
    private let pool: DatabasePool

    /// Opens the journal at `path` for reading.
    /// - Throws: `JournalReadError` when there is no journal yet or SQLite cannot open it.
    init(path: String) throws(JournalReadError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalReadError(path: path, message: "no journal here yet (the daemon creates it on its first start)")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(2)
            configuration.label = "focusd-web"
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw JournalReadError(path: path, message: "\(error)")
        }
    }

    /// Closes SQLite's connections (before the process exits, not in a thread-exit destructor).
    func close() { try? pool.close() }

    /// Everything the page shows, read in one transaction so the sections agree with each other.
    /// - Parameters:
    ///   - recent: how many finished stacks to list (newest first).
    ///   - failures: how many failed and quarantined jobs to list (newest first).
    ///   - since: the start of "today" (seconds since 1970), for the per-drop-folder counts.
    /// - Throws: `JournalReadError` with SQLite's message.
    func snapshot(recent: Int, failures: Int, queued: Int = 50, since: Double) throws(JournalReadError) -> JournalSnapshot {
        do {
            return try pool.read { db in
                var counts: [JobState: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                    if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
                }
                let running = try JobRecord.filter(Column("state") == JobState.running.rawValue)
                    .order(Column("started_at")).fetchAll(db)
                let waiting = try JobRecord.filter(Column("state") == JobState.queued.rawValue)
                    .order(Column("next_attempt_at"), Column("id")).limit(queued).fetchAll(db)
                let done = try JobRecord.filter(Column("state") == JobState.done.rawValue)
                    .order(Column("finished_at").desc, Column("id").desc).limit(recent).fetchAll(db)
                let failed = try JobRecord
                    .filter([JobState.failed.rawValue, JobState.quarantined.rawValue].contains(Column("state")))
                    .order(Column("finished_at").desc, Column("id").desc).limit(failures).fetchAll(db)
                var today: [String: DropDay] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT "drop", state, COUNT(*) AS n, SUM(finished_at - started_at) AS busy,
                           MIN(started_at) AS first, MAX(finished_at) AS last
                    FROM job WHERE finished_at >= ? AND state IN ('done', 'failed', 'quarantined')
                    GROUP BY "drop", state
                    """, arguments: [since]) {
                    let drop: String = row["drop"]
                    var day = today[drop] ?? DropDay(drop: drop)
                    let n: Int = row["n"]
                    if row["state"] == JobState.done.rawValue {
                        day.done = n
                        day.busySeconds = row["busy"] ?? 0
                        day.first = row["first"]
                        day.last = row["last"]
                    } else {
                        day.failed += n
                    }
                    today[drop] = day
                }
                return JournalSnapshot(counts: counts, running: running, queued: waiting, recent: done, failures: failed,
                                       today: today.values.sorted { $0.drop < $1.drop })
            }
        } catch {
            throw JournalReadError(path: path, message: "\(error)")
        }
    }

    /// One job by its number, or nil.
    /// - Throws: `JournalReadError` with SQLite's message.
    func job(id: Int64) throws(JournalReadError) -> JobRecord? {
        do { return try pool.read { db in try JobRecord.fetchOne(db, key: id) } } catch {
            throw JournalReadError(path: path, message: "\(error)")
        }
    }
}

/// What the journal holds for the page at one moment.
struct JournalSnapshot: Sendable {
    var counts: [JobState: Int]
    /// Jobs being fused now, longest running first.
    var running: [JobRecord]
    /// Jobs waiting, in the order they will run (the first ones only).
    var queued: [JobRecord]
    /// Finished stacks, newest first.
    var recent: [JobRecord]
    /// Failed and quarantined jobs, newest first.
    var failures: [JobRecord]
    /// Per drop folder, jobs finished since the start of today.
    var today: [DropDay]
}

/// One drop folder's day: stacks done and failed, and the time spent fusing the done ones.
struct DropDay: Sendable, Equatable {
    var drop: String
    var done = 0
    var failed = 0
    /// Sum over done jobs of finish − start, in seconds.
    var busySeconds: Double = 0
    /// When the first done job of the day started and the last finished (seconds since 1970).
    var first: Double?
    var last: Double?
}

/// The journal cannot be read: its path and SQLite's message (or that it does not exist yet).
struct JournalReadError: Error, CustomStringConvertible, Sendable {
    let path: String
    let message: String
    var description: String { "job journal \(path): \(message)" }
}
