import Foundation
import GRDB
import Pipeline

/// The journal of `focusd reprocess`: an SQLite database in the output folder with one row per stack
/// id — `DIR/.focusd-reprocess.sqlite`, or `DIR/.focusd-reprocess-<i>-of-<n>.sqlite` for shard `i/n`, so
/// array tasks on different nodes never share a database file over a network file system. It uses
/// SQLite's rollback journal rather than WAL, which needs shared memory that NFS cannot provide.
///
/// A row is `running` while a worker fuses the stack, then `done` or `failed` (with the error).
/// A row found `running` at start belongs to a run that was killed: it is fused again. The sidecars
/// decide what is up to date; the journal adds what they cannot say — which stacks failed before
/// (and why), attempts, and the row number recorded as the sidecar's job number.
public final class ReprocessJournal: Sendable {
    /// The journal's file name for a shard (`ShardSpec.all`: the whole archive).
    public static func fileName(for shard: ShardSpec) -> String {
        shard.count == 1 ? ".focusd-reprocess.sqlite" : ".focusd-reprocess-\(shard.index)-of-\(shard.count).sqlite"
    }

    public enum State: String, Codable, Sendable, DatabaseValueConvertible {
        case running, done, failed
    }

    /// One stack's row.
    public struct Entry: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
        public static let databaseTableName = "stack"
        public var id: Int64
        public var stackID: String
        public var state: State
        public var attempts: Int
        public var profileFingerprint: String?
        public var startedAt: Double?
        public var finishedAt: Double?
        public var seconds: Double?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case id, state, attempts, error, seconds
            case stackID = "stack_id", profileFingerprint = "profile_fingerprint"
            case startedAt = "started_at", finishedAt = "finished_at"
        }
    }

    public let path: String
    let pool: DatabaseQueue

    /// Opens or creates the journal.
    /// - Throws: `ReprocessError` naming the file and SQLite's message.
    public init(path: String) throws(ReprocessError) {
        self.path = path
        do {
            try FileOperations.createDirectory((path as NSString).deletingLastPathComponent)
            var config = Configuration()
            config.busyMode = .timeout(30)
            pool = try DatabaseQueue(path: path, configuration: config)
            var attempt = 0
            while true {
                do {
                    try Self.migrator.migrate(pool)
                    break
                } catch where attempt < 5 {
                    // Two runs starting together race to create the table.
                    attempt += 1
                    Thread.sleep(forTimeInterval: 0.1 * Double(attempt))
                }
            }
        } catch {
            throw ReprocessError("reprocess journal \(path): \(error); check that the output folder is writable and on a local or lock-capable file system")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "stack") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("stack_id", .text).notNull().unique()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("profile_fingerprint", .text)
                t.column("started_at", .double)
                t.column("finished_at", .double)
                t.column("seconds", .double)
                t.column("error", .text)
            }
        }
        return m
    }

    private func write<T>(_ body: (Database) throws -> T) throws(ReprocessError) -> T {
        do { return try pool.write(body) } catch { throw ReprocessError("reprocess journal \(path): \(error)") }
    }

    /// The rows of these stack ids, by stack id.
    public func entries(for stackIDs: [String]) throws(ReprocessError) -> [String: Entry] {
        do {
            return try pool.read { db in
                var result: [String: Entry] = [:]
                for chunk in stride(from: 0, to: stackIDs.count, by: 500).map({ Array(stackIDs[$0..<min($0 + 500, stackIDs.count)]) }) {
                    for entry in try Entry.filter(chunk.contains(Column("stack_id"))).fetchAll(db) { result[entry.stackID] = entry }
                }
                return result
            }
        } catch {
            throw ReprocessError("reprocess journal \(path): \(error)")
        }
    }

    /// Marks a stack running (creating its row), counts the attempt, and returns the row number and attempt.
    public func start(_ stackID: String, profileFingerprint: String, now: Double) throws(ReprocessError) -> (row: Int64, attempt: Int) {
        try write { db -> (row: Int64, attempt: Int) in
            try db.execute(sql: """
                INSERT INTO stack (stack_id, state, attempts, profile_fingerprint, started_at) VALUES (?, 'running', 1, ?, ?)
                ON CONFLICT(stack_id) DO UPDATE SET state = 'running', attempts = attempts + 1,
                  profile_fingerprint = excluded.profile_fingerprint, started_at = excluded.started_at,
                  finished_at = NULL, error = NULL
                """, arguments: [stackID, profileFingerprint, now])
            let row = try Row.fetchOne(db, sql: "SELECT id, attempts FROM stack WHERE stack_id = ?", arguments: [stackID])
            return (row?["id"] ?? 0, row?["attempts"] ?? 1)
        }
    }

    /// Records the end of a stack's attempt: `done` (with its seconds) or `failed` (with the error).
    public func finish(_ stackID: String, succeeded: Bool, seconds: Double?, error: String?, now: Double) throws(ReprocessError) {
        try write { db in
            try db.execute(sql: "UPDATE stack SET state = ?, finished_at = ?, seconds = ?, error = ? WHERE stack_id = ?",
                           arguments: [succeeded ? State.done.rawValue : State.failed.rawValue, now, seconds, error, stackID])
        }
    }

    /// The attempt count of a stack (0 when it has no row).
    public func attempts(of stackID: String) throws(ReprocessError) -> Int {
        try entries(for: [stackID])[stackID]?.attempts ?? 0
    }

    /// Closes the database; every later call throws. The owner calls it once no worker uses the
    /// journal any more and before the process exits, so the SQLite connection ends at a known point
    /// on the owner's thread — never in whichever thread happens to drop the last reference while
    /// the process is already in `exit()`.
    /// - Throws: `ReprocessError` with SQLite's message (the file stays consistent: SQLite's journal
    ///   covers an unclean close).
    public func close() throws(ReprocessError) {
        do { try pool.close() } catch { throw ReprocessError("reprocess journal \(path): cannot close: \(error)") }
    }
}
