import Checksum
import Foundation
import FusionDiff
import SystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Model files read, parsed and hashed once per process: the daemon fuses many stacks with one
/// profile, and re-reading a model and hashing it for every stack (its identity, then its engine)
/// cost more than hashing the stack itself.
///
/// Entries are keyed by the file's identity as `stat(2)` sees it — device, inode, size, and the
/// modification and status-change times to the nanosecond — so a model replaced or rewritten in
/// place (a retrained model) is read afresh, and one left alone is never read twice. Only the
/// latest version of each path is kept. The lock is held while a file is read, so two jobs wanting
/// the same model wait for one read rather than both reading it.
public final class ModelStore: @unchecked Sendable {
    /// The store the daemon, `focusd fuse` and `focusd reprocess` share.
    public static let shared = ModelStore()

    /// A parsed model and the SHA-256 of its bytes.
    public struct Loaded: Sendable {
        public var file: ModelFile
        public var sha256: String
    }

    /// How often the store went to the file: hashes computed, parses, and answers from memory.
    public struct Counts: Sendable, Equatable {
        public var hashes = 0
        public var loads = 0
        public var hits = 0
    }

    private struct FileKey: Hashable {
        var device: UInt64, inode: UInt64, size: Int64
        var modifiedSeconds: Int, modifiedNanoseconds: Int
        var changedSeconds: Int, changedNanoseconds: Int
    }

    private struct Entry {
        var key: FileKey
        var sha256: String
        var loaded: ModelFile?
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var counts = Counts()

    public init() {}

    /// Reads of the file so far (for tests and diagnostics).
    public var statistics: Counts { lock.withLock { counts } }

    /// The SHA-256 of the model at `path`, hashed only if the file changed since it was last seen.
    /// - Throws: `SettingsError` (key `model`) naming the path when it cannot be read.
    public func sha256(ofModelAt path: String) throws(SettingsError) -> String {
        let key = try Self.key(path)
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[path], entry.key == key {
            counts.hits += 1
            return entry.sha256
        }
        let sha: String
        do { sha = try SHA256.hex(fileAt: path) } catch {
            throw SettingsError(key: "model", message: "\(error.description); fix 'model' in the profile")
        }
        counts.hashes += 1
        entries[path] = Entry(key: key, sha256: sha, loaded: nil)
        return sha
    }

    /// The parsed model at `path` and its hash, read only if the file changed since it was last loaded.
    /// - Throws: `SettingsError` (key `model`) naming the path when it cannot be read or parsed.
    public func model(at path: String) throws(SettingsError) -> Loaded {
        let key = try Self.key(path)
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[path], entry.key == key, let file = entry.loaded {
            counts.hits += 1
            return Loaded(file: file, sha256: entry.sha256)
        }
        // Read, not mapped: the parsed model is kept, and a mapping would change under it (or fault)
        // when the file is rewritten in place.
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SettingsError(key: "model", message: "\(path): cannot be read (\(error.localizedDescription)); check the path and permissions")
        }
        let file: ModelFile
        do { file = try ModelFile.parse(data, path: path) } catch {
            throw SettingsError(key: "model", message: "\(error)")
        }
        // Hashed already at this version (the job's identity asked first): not hashed again.
        let known = entries[path].flatMap { $0.key == key ? $0.sha256 : nil }
        let sha = known ?? SHA256.hex(data)
        if known == nil { counts.hashes += 1 }
        counts.loads += 1
        entries[path] = Entry(key: key, sha256: sha, loaded: file)
        return Loaded(file: file, sha256: sha)
    }

    private static func key(_ path: String) throws(SettingsError) -> FileKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = SystemCallError.reason(errno)
            throw SettingsError(key: "model", message: "\(path): cannot be read (stat: \(reason)); check the path and permissions")
        }
        #if canImport(Darwin)
        let (modified, changed) = (info.st_mtimespec, info.st_ctimespec)
        #else
        let (modified, changed) = (info.st_mtim, info.st_ctim)
        #endif
        return FileKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                       modifiedSeconds: Int(modified.tv_sec), modifiedNanoseconds: Int(modified.tv_nsec),
                       changedSeconds: Int(changed.tv_sec), changedNanoseconds: Int(changed.tv_nsec))
    }
}
