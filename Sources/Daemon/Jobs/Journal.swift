import Checksum
import Foundation
import GRDB
import Pipeline

/// An error from the job journal: the database file and SQLite's own message.
public struct JournalError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String {
        "job journal \(path): \(message); check that the state directory exists, is writable and has free space"
    }
}

/// The job journal: an SQLite database (WAL) in the state directory with one row per stack.
///
/// The journal is the queue: workers claim the oldest eligible `queued` row in a transaction, so a
/// job survives crashes and restarts and is never run twice at once.
public final class Journal: Sendable {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the journal at `path`; `readOnly` opens an existing journal for reading only.
    /// - Throws: `JournalError` when the file cannot be opened or migrated.
    public init(path: String, readOnly: Bool = false) throws(JournalError) {
        self.path = path
        if readOnly {
            guard FileManager.default.fileExists(atPath: path) else {
                throw JournalError(path: path, message: "no journal here yet (the daemon creates it on its first start)")
            }
            do {
                var config = Configuration()
                config.readonly = true
                config.busyMode = .timeout(10)
                pool = try DatabasePool(path: path, configuration: config)
            } catch {
                throw JournalError(path: path, message: "\(error)")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            var config = Configuration()
            config.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: config)
            // Two processes opening a new journal at once (the daemon and `focusd status`) may race to
            // create the tables; the loser sees them on its next try.
            var attempt = 0
            while true {
                do {
                    try Self.migrator.migrate(pool)
                    break
                } catch where attempt < 3 {
                    attempt += 1
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
        } catch {
            throw JournalError(path: path, message: "\(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "job") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("drop", .text).notNull()
                t.column("stack", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("root", .text)
                t.column("inputs", .jsonText).notNull()
                t.column("input_signature", .text).notNull()
                t.column("input_sha256", .jsonText)
                t.column("fingerprint", .text)
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("detected_at", .double).notNull()
                t.column("updated_at", .double).notNull()
                t.column("started_at", .double)
                t.column("finished_at", .double)
                t.column("next_attempt_at", .double).notNull()
                t.column("error", .text)
                t.column("output_stack", .text)
                t.column("outputs", .jsonText)
                t.column("sidecar", .text)
            }
            try db.create(index: "job_state", on: "job", columns: ["state", "next_attempt_at"])
            try db.create(index: "job_signature", on: "job", columns: ["drop", "input_signature"])
            try db.create(index: "job_fingerprint", on: "job", columns: ["fingerprint", "state"])
        }
        m.registerMigration("v2") { db in
            try db.alter(table: "job") { t in
                // Output set written under temporary names, recorded before it is renamed into place.
                t.add(column: "staged", .jsonText)
                // Where archive moved the inputs.
                t.add(column: "archived_to", .jsonText)
                // The earlier job of the same stack whose outputs this one replaced.
                t.add(column: "supersedes", .integer)
                // A later job of the same stack replaced this one's outputs.
                t.add(column: "superseded_by", .integer)
                // The finished job with identical inputs, profile and model whose outputs this one links.
                t.add(column: "duplicate_of", .integer)
            }
            try db.create(index: "job_stack", on: "job", columns: ["drop", "kind", "stack", "state"])
        }
        m.registerMigration("v3") { db in
            // A finished job whose inputs could not be archived yet (a writer still had one open).
            try db.alter(table: "job") { t in t.add(column: "archive_pending", .boolean) }
        }
        m.registerMigration("v4") { db in
            // The focus breathing fitted on a drop folder's stacks, for its calibration (`align_calibrate_breathing`).
            try db.create(table: "breathing_fit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("drop", .text).notNull()
                t.column("profile", .text).notNull()
                t.column("job", .integer).notNull()
                t.column("stack", .text).notNull()
                t.column("breathing", .double).notNull()
                t.column("recorded_at", .double).notNull()
            }
            try db.create(index: "breathing_fit_drop", on: "breathing_fit", columns: ["drop", "profile", "id"])
        }
        return m
    }

    func write<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do { return try pool.write(body) } catch { throw JournalError(path: path, message: "\(error)") }
    }

    func read<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do { return try pool.read(body) } catch { throw JournalError(path: path, message: "\(error)") }
    }

    /// Closes the database; every later call throws. The daemon calls it after joining its threads,
    /// so SQLite's connections end at a known point and never in a thread-exit destructor.
    /// - Throws: `JournalError` with SQLite's message.
    public func close() throws(JournalError) {
        do { try pool.close() } catch { throw JournalError(path: path, message: "cannot close: \(error)") }
    }

    /// A canonical hash of inputs' paths, sizes and mtimes.
    public static func signature(of inputs: [JobInput]) -> String {
        let text = inputs.map { "\($0.path)\t\($0.size)\t\(String(format: "%.9f", $0.mtime))" }.joined(separator: "\n")
        return SHA256.hex(Array(text.utf8))
    }

    /// Records a stack found complete, unless the same drop already has a job for exactly these
    /// inputs (same paths, sizes and mtimes) that is waiting, running or done. A stack whose job
    /// failed or was quarantined is a new arrival when it is seen again (moved back into the drop
    /// folder, or found by the scan of a restart). Returns the new job, or nil.
    public func insertDetected(drop: String, stack: String, kind: StackKind, root: String?,
                               inputs: [JobInput], now: Double) throws(JournalError) -> JobRecord? {
        let signature = Self.signature(of: inputs)
        return try write { db -> JobRecord? in
            let existing = try JobRecord
                .filter(Column("drop") == drop && Column("input_signature") == signature
                        && Column("state") != JobState.quarantined.rawValue && Column("state") != JobState.failed.rawValue)
                .fetchCount(db)
            guard existing == 0 else { return nil }
            // A newer version of a stack that is still waiting replaces the waiting one.
            try db.execute(sql: """
                UPDATE job SET state = 'failed', error = 'superseded by a newer version of the stack', updated_at = ?,
                  finished_at = ?
                WHERE "drop" = ? AND stack = ? AND kind = ? AND state IN ('detected', 'queued')
                """, arguments: [now, now, drop, stack, kind.rawValue])
            var record = JobRecord(id: nil, drop: drop, stack: stack, kind: kind, root: root, inputs: inputs,
                                   inputSignature: signature, inputSHA256: nil, fingerprint: nil, state: .queued,
                                   attempts: 0, detectedAt: now, updatedAt: now, startedAt: nil, finishedAt: nil,
                                   nextAttemptAt: now, error: nil, outputStack: nil, outputs: nil, sidecar: nil)
            try record.insert(db)
            return record
        }
    }

    /// Jobs left `running` by a crash or kill go back to `queued` (or `failed` once their attempts are used up).
    /// A job stopped while committing its output set (its staged files recorded) has the commit
    /// finished instead and is done, so no set is left half renamed; its files get `outputMode` (the
    /// daemon's `output_mode:`) like those of an uninterrupted commit. Returns the jobs changed.
    public func recoverInterrupted(now: Double, outputMode: UInt16? = nil,
                                   policy: (String) -> RetryPolicy) throws(JournalError) -> [JobRecord] {
        try write { db -> [JobRecord] in
            var changed: [JobRecord] = []
            for var job in try JobRecord.filter(Column("state") == JobState.running.rawValue).fetchAll(db) {
                if let staged = job.staged {
                    var set = OutputSet(files: staged)
                    set.outputMode = outputMode
                    job.staged = nil
                    if set.isRecoverable, (try? set.commit()) != nil {
                        let t = try JobStateMachine.transition(from: job.state, attempts: job.attempts, event: .succeed,
                                                               policy: policy(job.drop), now: now)
                        job.apply(t, now: now)
                        job.error = nil
                        try job.update(db)
                        if let previous = job.supersedes {
                            try db.execute(sql: "UPDATE job SET superseded_by = ? WHERE id = ?", arguments: [job.id, previous])
                        }
                        changed.append(job)
                        continue
                    }
                    set.discard()
                }
                let t = try JobStateMachine.transition(from: job.state, attempts: job.attempts, event: .interrupt,
                                                       policy: policy(job.drop), now: now)
                job.apply(t, now: now)
                try job.update(db)
                changed.append(job)
            }
            return changed
        }
    }

    /// Atomically takes the oldest queued job that is due, marks it running and counts the attempt.
    public func claimNext(now: Double, policy: (String) -> RetryPolicy) throws(JournalError) -> JobRecord? {
        try write { db -> JobRecord? in
            guard var job = try JobRecord
                .filter(Column("state") == JobState.queued.rawValue && Column("next_attempt_at") <= now)
                .order(Column("next_attempt_at"), Column("id"))
                .fetchOne(db) else { return nil }
            let t = try JobStateMachine.transition(from: job.state, attempts: job.attempts, event: .start,
                                                   policy: policy(job.drop), now: now)
            job.apply(t, now: now)
            job.startedAt = now
            try job.update(db)
            return job
        }
    }

    /// Writes a job back (after its state and fields were changed by the caller).
    public func update(_ job: JobRecord) throws(JournalError) {
        try write { db in try job.update(db) }
    }

    /// Changes a running job in one transaction only if it is still running (a shutdown may have re-queued it).
    /// Returns false when the job was no longer running.
    public func updateIfRunning(_ job: JobRecord) throws(JournalError) -> Bool {
        try write { db -> Bool in
            guard let id = job.id, let current = try JobRecord.fetchOne(db, key: id), current.state == .running else { return false }
            try job.update(db)
            return true
        }
    }

    /// The finished job whose fingerprint equals `fingerprint` and whose outputs were not replaced
    /// by a newer version of its stack, if any.
    public func doneJob(fingerprint: String, excluding id: Int64?) throws(JournalError) -> JobRecord? {
        try read { db in
            try JobRecord.filter(Column("fingerprint") == fingerprint && Column("state") == JobState.done.rawValue
                                 && Column("id") != (id ?? -1) && Column("superseded_by") == nil).order(Column("id")).fetchOne(db)
        }
    }

    /// The `{stack}` output names in use in a folder by other jobs, to avoid overwriting their outputs.
    public func outputStacksInUse(drop: String, excluding id: Int64?) throws(JournalError) -> Set<String> {
        try read { db in
            let rows = try String.fetchAll(db, sql: """
                SELECT output_stack FROM job WHERE "drop" = ? AND output_stack IS NOT NULL AND id != ? AND state != 'failed'
                  AND superseded_by IS NULL
                """, arguments: [drop, id ?? -1])
            return Set(rows)
        }
    }

    /// The finished job of an earlier version of `job`'s stack — same drop folder, kind, name and
    /// file or folder, its inputs not archived (so the file now there replaced them in place), its
    /// outputs not yet replaced — whose output set `job` replaces under the same names.
    public func previousVersion(of job: JobRecord) throws(JournalError) -> JobRecord? {
        try read { db in
            var request = JobRecord.filter(Column("drop") == job.drop && Column("kind") == job.kind.rawValue
                                           && Column("stack") == job.stack && Column("state") == JobState.done.rawValue
                                           && Column("id") != (job.id ?? -1) && Column("output_stack") != nil
                                           && Column("superseded_by") == nil && Column("archived_to") == nil)
            request = job.root.map { request.filter(Column("root") == $0) } ?? request.filter(Column("root") == nil)
            return try request.order(Column("id").desc).fetchOne(db)
        }
    }

    /// Records that `newer` replaced `older`'s outputs.
    public func markSuperseded(_ older: Int64, by newer: Int64) throws(JournalError) {
        try write { db in try db.execute(sql: "UPDATE job SET superseded_by = ? WHERE id = ?", arguments: [newer, older]) }
    }

    /// What `retry` did.
    public enum RetryOutcome: Sendable, Equatable {
        /// The job is queued again (its attempts reset).
        case requeued(JobRecord)
        /// The job is not failed: nothing to retry.
        case notFailed(JobRecord)
        /// The job was quarantined: its inputs are in the quarantine folder, not where the job reads them.
        case quarantined(JobRecord)
        case notFound
    }

    /// Queues a failed job again with its attempts reset: by id (`"17"`) or by stack name (the newest
    /// job of that name). A quarantined job cannot be re-queued (its inputs were moved): moving them
    /// back into the drop folder makes them a new arrival.
    public func retry(_ reference: String, now: Double) throws(JournalError) -> RetryOutcome {
        try write { db -> RetryOutcome in
            var job: JobRecord?
            if let id = Int64(reference) { job = try JobRecord.fetchOne(db, key: id) }
            if job == nil {
                job = try JobRecord.filter(Column("stack") == reference).order(Column("id").desc).fetchOne(db)
            }
            guard var found = job else { return .notFound }
            switch found.state {
            case .quarantined: return .quarantined(found)
            case .failed: break
            default: return .notFailed(found)
            }
            found.state = .queued
            found.attempts = 0
            found.nextAttemptAt = now
            found.updatedAt = now
            found.finishedAt = nil
            found.error = nil
            try found.update(db)
            return .requeued(found)
        }
    }

    /// Finished jobs whose archiving waits for a writer to let go of an input.
    public func pendingArchives(limit: Int = 100) throws(JournalError) -> [JobRecord] {
        try read { db in
            try JobRecord.filter(Column("archive_pending") == true && Column("state") == JobState.done.rawValue)
                .order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    public func job(id: Int64) throws(JournalError) -> JobRecord? {
        try read { db in try JobRecord.fetchOne(db, key: id) }
    }

    public func allJobs() throws(JournalError) -> [JobRecord] {
        try read { db in try JobRecord.order(Column("id")).fetchAll(db) }
    }

    /// Number of jobs per state.
    public func counts() throws(JournalError) -> [JobState: Int] {
        try read { db in
            var result: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                if let s = JobState(rawValue: row["state"]) { result[s] = row["n"] }
            }
            return result
        }
    }

    /// Jobs in `state` finished at or after `since`, newest first.
    public func jobs(in states: [JobState], finishedSince since: Double? = nil, limit: Int = 1000) throws(JournalError) -> [JobRecord] {
        try read { db in
            var request = JobRecord.filter(states.map(\.rawValue).contains(Column("state")))
            if let since { request = request.filter(Column("finished_at") >= since) }
            return try request.order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    /// The earliest time a queued job becomes due, if any.
    public func nextDueTime() throws(JournalError) -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM job WHERE state = 'queued'") }
    }
}

extension JobRecord {
    /// Applies a state-machine transition's state, attempts and bookkeeping actions.
    mutating func apply(_ t: JobTransition, now: Double) {
        state = t.state
        attempts = t.attempts
        updatedAt = now
        for action in t.actions {
            switch action {
            case .retry(let at): nextAttemptAt = at
            case .recordError(let text): error = text
            case .runPipeline, .quarantine, .archive: break
            }
        }
        if state.isFinal { finishedAt = now }
    }
}
