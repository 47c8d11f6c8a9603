import Daemon
import Foundation

/// The files of a job the page may send, each found through the journal and opened only inside
/// the folder the configuration names for it: outputs and the provenance crate in the drop folder's
/// output folder, the quarantine reason in its quarantine folder.
struct JobFiles: Sendable {
    let site: StatusSite

    /// An output of `job` by role (`fused`, `depth`, `confidence`), opened safely; nil when the job
    /// has none, it is outside the output folder, or it is gone.
    func output(_ role: String, of job: JobRecord) -> ServedFile? {
        guard let drop = site.drops[job.drop], let recorded = job.outputs?.first(where: { $0.role == role }) else { return nil }
        return ServedFile(path: recorded.path, inside: drop.output)
    }

    /// The provenance crate (`<stack>-ro-crate-metadata.json`) of `job`, opened safely.
    func crate(of job: JobRecord) -> ServedFile? {
        guard let drop = site.drops[job.drop], let sidecar = job.sidecar else { return nil }
        return ServedFile(path: sidecar, inside: drop.output)
    }

    /// The `<stack>.error.txt` the daemon wrote when it quarantined `job`: the daemon names it
    /// `<stack>.error.txt`, or `<stack>.error-2.txt`, `-3`, … when taken, and writes the job number
    /// into it, so the one saying `(job N,` is this job's.
    func quarantineReason(of job: JobRecord) -> ServedFile? {
        guard job.state == .quarantined, let id = job.id, let drop = site.drops[job.drop] else { return nil }
        let base = Self.safeName(job.stack)
        let marker = Array("(job \(id),".utf8)
        for n in 1...200 {
            let name = n == 1 ? "\(base).error.txt" : "\(base).error-\(n).txt"
            let path = (drop.quarantine as NSString).appendingPathComponent(name)
            guard let file = ServedFile(path: path, inside: drop.quarantine) else {
                if n == 1 { continue }
                return nil
            }
            let head = file.read(offset: 0, count: 4096)
            if head.firstRange(of: marker) != nil { return file }
        }
        return nil
    }

    /// The daemon's file-name form of a stack name (control characters, DEL and `/` become `_`).
    static func safeName(_ name: String) -> String {
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { $0.value < 0x20 || $0 == "/" || $0.value == 0x7f ? "_" : $0 }))
        return cleaned.isEmpty ? "stack" : cleaned
    }
}

/// What the page shows of a provenance crate: the slice count (a multi-page TIFF is one input file
/// in the journal). Read once per version of the crate file and kept in memory; a version is the
/// file's `lstat` (device, inode, size, mtime), so a crate replaced — or swapped for a link — is
/// read again, through `ServedFile`'s checks.
final class CrateFacts: @unchecked Sendable {
    struct Facts: Equatable {
        var slices: Int?
    }

    private let lock = NSLock()
    private var cache: [String: (version: [Int64], facts: Facts)] = [:]

    /// The facts of `job`'s crate, or nil when it has none that may be served.
    func facts(of job: JobRecord, files: JobFiles) -> Facts? {
        guard let path = job.sidecar, let drop = files.site.drops[job.drop] else { return nil }
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        let version = [Int64(st.st_dev), Int64(st.st_ino), Int64(st.st_size), Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec)]
        if let hit = lock.withLock({ cache[path] }), hit.version == version { return hit.facts }
        guard let file = ServedFile(path: path, inside: drop.output) else { return nil }
        let facts = Facts(slices: Self.readSliceCount(Data(file.readAll())))
        lock.withLock {
            if cache.count > 10_000 { cache.removeAll() }
            cache[path] = (version, facts)
        }
        return facts
    }

    static func readSliceCount(_ data: Data) -> Int? {
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let graph = document["@graph"] as? [[String: Any]] else { return nil }
        for entity in graph {
            let types = (entity["@type"] as? [String]) ?? [(entity["@type"] as? String) ?? ""]
            if types.contains("CreateAction"), let n = entity["focusd:sliceCount"] as? Int { return n }
        }
        return nil
    }
}
