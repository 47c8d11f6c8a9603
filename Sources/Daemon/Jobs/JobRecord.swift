import Foundation
import GRDB
import Pipeline

/// One input file of a job: absolute path and the signature it had when the stack was found complete.
public struct JobInput: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int
    public var mtime: Double

    public init(path: String, size: Int, mtime: Double) {
        self.path = path
        self.size = size
        self.mtime = mtime
    }
}

/// An output file as recorded in the journal and the sidecar.
public struct JobOutput: Codable, Sendable, Equatable {
    public var role: String
    public var path: String
    public var size: Int
    public var sha256: String

    public init(role: String, path: String, size: Int, sha256: String) {
        self.role = role
        self.path = path
        self.size = size
        self.sha256 = sha256
    }
}

/// A row of the `job` table: one stack and everything the daemon did with it.
public struct JobRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "job"

    public var id: Int64?
    /// The drop folder's configured name.
    public var drop: String
    public var stack: String
    public var kind: StackKind
    /// The file or folder (absolute) moved as a whole to archive/quarantine; nil for loose files.
    public var root: String?
    /// Inputs in slice order.
    public var inputs: [JobInput]
    /// A hash of the inputs' paths, sizes and mtimes: the same drop seen twice is one job.
    public var inputSignature: String
    /// Hex SHA-256 of each input, in slice order, once hashed.
    public var inputSHA256: [String]?
    /// Hash of the input hashes, the resolved profile and the model's hash: equal fingerprints are not fused twice.
    public var fingerprint: String?
    public var state: JobState
    public var attempts: Int
    public var detectedAt: Double
    public var updatedAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    /// A queued job runs no earlier than this.
    public var nextAttemptAt: Double
    public var error: String?
    /// The `{stack}` value used for output names (the stack name, or a suffixed one if it was taken).
    public var outputStack: String?
    public var outputs: [JobOutput]?
    public var sidecar: String?
    /// The output set staged for commit (temporary → final names), recorded just before the renames
    /// so start-up recovery can finish an interrupted commit; nil otherwise.
    public var staged: [StagedFile]?
    /// Where archive moved the inputs (absolute paths), once moved.
    public var archivedTo: [String]?
    /// The earlier job of the same stack whose outputs this job's replaced (a changed input fused again).
    public var supersedes: Int64?
    /// The later job of the same stack that replaced this job's outputs.
    public var supersededBy: Int64?
    /// The finished job with identical inputs, profile and model whose outputs this job links to.
    public var duplicateOf: Int64?
    /// Archiving waits: a writer had an input open when the job finished; retried until it lets go.
    public var archivePending: Bool?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    enum CodingKeys: String, CodingKey {
        case id, drop, stack, kind, root, inputs, state, attempts, error, outputs, sidecar, fingerprint
        case inputSignature = "input_signature", inputSHA256 = "input_sha256"
        case detectedAt = "detected_at", updatedAt = "updated_at", startedAt = "started_at"
        case finishedAt = "finished_at", nextAttemptAt = "next_attempt_at", outputStack = "output_stack"
        case staged, archivedTo = "archived_to", supersedes, supersededBy = "superseded_by", duplicateOf = "duplicate_of"
        case archivePending = "archive_pending"
    }
}

extension StackKind: DatabaseValueConvertible {}
extension JobState: DatabaseValueConvertible {}
