import Foundation
import Imaging
import Logging
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Turns what the watcher and scans see into journal rows: one `StackDetector` per drop folder,
/// fed with stats of changed files, and a `tick()` that inserts each stack found complete.
///
/// Used from one thread (the intake thread).
final class Intake {
    struct Drop {
        let configuration: DropFolderConfiguration
        var detector: StackDetector
    }
    private var drops: [Drop]
    private let journal: Journal
    private let logger: Logger
    private let now: () -> Double
    private var refused = Set<String>()
    /// Called every ``heartbeatEvery`` directory entries of a scan: a start-up scan of millions of
    /// files (or a slow network file system) is progress, not a hung intake, so the service keeps
    /// its systemd watchdog pings going.
    var heartbeat: () -> Void = {}
    static let heartbeatEvery = 1000
    private var scannedEntries = 0

    init(configurations: [DropFolderConfiguration], journal: Journal, logger: Logger, now: @escaping () -> Double) {
        drops = configurations.map { Drop(configuration: $0, detector: StackDetector(rules: $0.detection)) }
        self.journal = journal
        self.logger = logger
        self.now = now
    }

    /// The drop folder index and relative path of an absolute path, if inside a drop folder.
    private func locate(_ path: String) -> (Int, String)? {
        for (i, d) in drops.enumerated() {
            let root = d.configuration.path
            if path.hasPrefix(root + "/") { return (i, String(path.dropFirst(root.count + 1))) }
        }
        return nil
    }

    // MARK: Scans

    /// Lists every drop folder (two levels deep: files, and folders of slices) and feeds what it finds.
    /// Files not seen before count as closed when `assumeClosed` (start-up, or after a queue overflow);
    /// tracked files that are gone are removed.
    func scanAll(assumeClosed: Bool) {
        for i in drops.indices { scan(drop: i, relativeFolder: nil, assumeClosed: assumeClosed, forgetMissing: true) }
    }

    /// Scans one folder of a drop folder (nil = the drop folder itself, then its subfolders too).
    func scan(drop i: Int, relativeFolder: String?, assumeClosed: Bool, forgetMissing: Bool) {
        let root = drops[i].configuration.path
        var seen = Set<String>()
        func visit(_ rel: String?, depth: Int) {
            let dir = rel.map { (root as NSString).appendingPathComponent($0) } ?? root
            guard let entries = FileOperations.listDirectory(dir) else { return }
            for entry in entries.sorted(by: { $0.display < $1.display }) {
                scannedEntries += 1
                if scannedEntries % Self.heartbeatEvery == 0 { heartbeat() }
                guard let name = entry.name else {
                    refuse((dir as NSString).appendingPathComponent(entry.display),
                           "the name is not valid UTF-8; rename it (UTF-8 names only)")
                    continue
                }
                let childRel = rel.map { "\($0)/\(name)" } ?? name
                let path = (dir as NSString).appendingPathComponent(name)
                if name.hasPrefix(".") && name != drops[i].configuration.detection.marker { continue }
                switch FileOperations.inspect(path) {
                case .directory:
                    if depth == 0 {
                        visit(childRel, depth: 1)
                    } else {
                        refuse(path, "a folder inside a stack folder; only files directly in the drop folder or in its immediate subfolders are read")
                    }
                case .regular:
                    if assumeClosed && drops[i].detector.files[childRel] == nil {
                        observe(drop: i, rel: childRel, path: path, closed: true, fromScan: true)
                    } else {
                        observe(drop: i, rel: childRel, path: path, closed: nil)
                    }
                    if drops[i].detector.files[childRel] != nil { seen.insert(childRel) }
                case .other:
                    observe(drop: i, rel: childRel, path: path, closed: nil)
                    if drops[i].detector.files[childRel] != nil { seen.insert(childRel) }
                case .missing:
                    break
                }
            }
        }
        visit(relativeFolder, depth: relativeFolder == nil ? 0 : 1)
        guard forgetMissing else { return }
        for tracked in drops[i].detector.trackedPaths where !seen.contains(tracked) {
            if let folder = relativeFolder, !tracked.hasPrefix(folder + "/") { continue }
            drops[i].detector.removed(tracked)
        }
    }

    /// Stats `path` and feeds the detector — or refuses the file with a logged reason: not a regular
    /// file, a hard link (its content may be a file outside the drop folder), a name with control
    /// characters or not valid UTF-8, an empty file found closed. Files that can never belong to a
    /// stack (not an image, not the marker) are not tracked at all, so a folder of a million stray
    /// files costs one listing, not a million stats per tick.
    private func observe(drop i: Int, rel: String, path: String, closed: Bool?, fromScan: Bool = false) {
        let rules = drops[i].configuration.detection
        switch FileOperations.inspect(path) {
        case .missing:
            drops[i].detector.removed(rel)
            if rel.unicodeScalars.contains("\u{FFFD}") { refuse(path, "the name is not valid UTF-8; rename it (UTF-8 names only)") }
        case .directory:
            drops[i].detector.removed(rel)
        case .other(let kind):
            if rel.contains("/"), let sig = FileOperations.linkSignature(path) {
                // Inside a stack folder: the folder is refused as a whole when complete (quarantined
                // with an explanation), never fused from the other slices.
                drops[i].detector.observeForeign(rel, signature: sig, now: now())
                refuse(path, "\(kind), not a regular file; its stack folder will be quarantined when complete (symbolic links are never followed)")
            } else {
                drops[i].detector.removed(rel)
                refuse(path, "\(kind), not a regular file; only regular files are read (symbolic links are never followed)")
            }
        case .regular(let sig, let links):
            guard drops[i].detector.isRelevant(rel) else {
                if closed == true && !rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                    refuse(path, "not an image (\(rules.extensions.sorted().joined(separator: ", "))) nor the marker; ignored")
                }
                return
            }
            let name = (rel as NSString).lastPathComponent
            if rel.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                drops[i].detector.removed(rel)
                refuse(path, "the name contains control characters (newline, tab, …); rename it")
            } else if links > 1 {
                drops[i].detector.removed(rel)
                refuse(path, "a hard link (\(links) names): its content may be a file outside the drop folder; copy the file in instead")
            } else if sig.size == 0 && name != rules.marker {
                // Being created, or empty for good: not tracked until it has content; refused once closed.
                drops[i].detector.removed(rel)
                if closed == true { refuse(path, "an empty file; ignored until it has content") }
            } else {
                drops[i].detector.observe(rel, signature: sig, now: now(), closed: closed, fromScan: fromScan)
            }
        }
    }

    /// Refusals logged one by one before only a count is kept (a million hostile files must not
    /// mean a million log lines or a million remembered paths).
    static let refusalLogLimit = 1000
    private var refusedBeyondLimit = 0

    private func refuse(_ path: String, _ reason: String) {
        if refused.count >= Self.refusalLogLimit {
            guard !refused.contains(path) else { return }
            refusedBeyondLimit += 1
            if refusedBeyondLimit == 1 || refusedBeyondLimit % 100_000 == 0 {
                logger.warning("more files ignored; not logged one by one", metadata: [
                    "count": "\(refusedBeyondLimit)", "last": "\(path)", "reason": "\(reason)",
                ])
            }
            return
        }
        guard refused.insert(path).inserted else { return }
        logger.warning("ignored", metadata: ["path": "\(path)", "reason": "\(reason)"])
    }

    // MARK: Events

    /// Applies watcher events. Returns true when a full rescan was needed (queue overflow).
    @discardableResult
    func handle(_ events: [WatchEvent]) -> Bool {
        var rescan = false
        for event in events {
            switch event {
            case .overflow:
                rescan = true
            case .modified(let path):
                if let (i, rel) = locate(path) { observe(drop: i, rel: rel, path: path, closed: false) }
            case .closed(let path):
                if let (i, rel) = locate(path) { observe(drop: i, rel: rel, path: path, closed: true) }
            case .touched(let path):
                if let (i, rel) = locate(path) { observe(drop: i, rel: rel, path: path, closed: nil) }
            case .folderAppeared(let path):
                if let (i, rel) = locate(path) {
                    if !rel.contains("/") {
                        scan(drop: i, relativeFolder: rel, assumeClosed: false, forgetMissing: false)
                    } else if !rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                        refuse(path, "a folder inside a stack folder; only files directly in the drop folder or in its immediate subfolders are read")
                    }
                }
            case .removed(let path):
                if let (i, rel) = locate(path) { drops[i].detector.removed(rel) }
                // A refused file that is gone no longer counts against the log limit; one put back is refused (and logged) again.
                if !refused.isEmpty {
                    refused.remove(path)
                    let prefix = path + "/"
                    if refused.contains(where: { $0.hasPrefix(prefix) }) { refused = refused.filter { !$0.hasPrefix(prefix) } }
                }
            }
        }
        if rescan {
            logger.warning("inotify queue overflowed; rescanning every drop folder")
            scanAll(assumeClosed: true)
        }
        return rescan
    }

    // MARK: Decisions

    /// Re-stats pending files, then records every stack that is complete now. Returns the jobs inserted.
    @discardableResult
    func tick() -> [JobRecord] {
        var inserted: [JobRecord] = []
        // A cut TIFF that went away while it waited leaves no entry behind.
        if !incompleteSince.isEmpty { incompleteSince = incompleteSince.filter { FileOperations.exists($0.key) } }
        for i in drops.indices {
            let root = drops[i].configuration.path
            for rel in drops[i].detector.pendingPaths {
                observe(drop: i, rel: rel, path: (root as NSString).appendingPathComponent(rel), closed: nil)
            }
            let time = now()
            for stack in drops[i].detector.evaluate(now: time) {
                guard mayBeClosed(drop: i, stack: stack, now: time) else { continue }
                let inputs = zip(stack.inputs, stack.signatures).map { rel, sig in
                    JobInput(path: (root as NSString).appendingPathComponent(rel), size: sig.size, mtime: sig.mtime)
                }
                do {
                    if let job = try journal.insertDetected(drop: drops[i].configuration.name, stack: stack.name, kind: stack.kind,
                                                            root: stack.root.map { (root as NSString).appendingPathComponent($0) },
                                                            inputs: inputs, now: time) {
                        logger.info("stack complete; queued", metadata: [
                            "drop": "\(job.drop)", "stack": "\(job.stack)", "kind": "\(job.kind.rawValue)",
                            "slices": "\(inputs.count)", "job": "\(job.id ?? 0)",
                        ])
                        inserted.append(job)
                    }
                } catch {
                    logger.error("cannot record a complete stack; will retry", metadata: ["stack": "\(stack.name)", "error": "\(error)"])
                    drops[i].detector.forget(kind: stack.kind, name: stack.name)
                }
            }
        }
        return inserted
    }

    /// Files found by a scan whose TIFF structure was incomplete, with when that was first seen.
    private var incompleteSince: [String: Double] = [:]

    /// How long a file found by a scan may stay structurally incomplete, unchanged and with no
    /// visible writer before it is taken as it is (and, if unreadable, quarantined with the reason).
    func incompleteGrace(_ rules: DetectionRules) -> Double { 10 * rules.stableSeconds }

    /// The evidence a live close gives, for a stack the detector found complete: no visible process
    /// has an input open for writing, and a TIFF known only from a scan is structurally complete.
    /// Otherwise the inputs count as being written again and the stack is reported again later.
    private func mayBeClosed(drop i: Int, stack: DetectedStack, now time: Double) -> Bool {
        let root = drops[i].configuration.path
        let absolute = stack.inputs.map { (root as NSString).appendingPathComponent($0) }
        let writing = OpenWriters.openForWriting(absolute)
        if !writing.isEmpty {
            logger.debug("complete by its timing but still open for writing; waiting", metadata: [
                "stack": "\(stack.name)", "files": "\(writing.sorted().joined(separator: ","))",
            ])
            drops[i].detector.reopen(stack.inputs, kind: stack.kind, name: stack.name, now: time)
            return false
        }
        let rules = drops[i].configuration.detection
        var incomplete: [String] = []
        for (rel, path) in zip(stack.inputs, absolute) where drops[i].detector.isFromScan(rel) && !drops[i].detector.isForeign(rel) {
            if let reason = TIFFCompleteness.incompleteReason(path) {
                let first = incompleteSince[path] ?? time
                incompleteSince[path] = first
                if time - first < incompleteGrace(rules) {
                    logger.debug("found by a scan and not yet a complete TIFF; waiting", metadata: ["path": "\(path)", "reason": "\(reason)"])
                    incomplete.append(rel)
                }
            } else {
                incompleteSince[path] = nil
            }
        }
        if !incomplete.isEmpty {
            drops[i].detector.restartStability(incomplete, now: time)
            drops[i].detector.forget(kind: stack.kind, name: stack.name)
            return false
        }
        for path in absolute { incompleteSince[path] = nil }
        return true
    }

    /// Whether any drop folder has files whose stack is not yet complete.
    var hasPending: Bool { drops.contains { !$0.detector.pendingPaths.isEmpty } }
}
