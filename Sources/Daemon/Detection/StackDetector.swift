import Foundation
import Pipeline

/// How a stack arrived in a drop folder.
public enum StackKind: String, Codable, Sendable, Equatable {
    /// One (multi-page) image file directly in the drop folder.
    case file
    /// A folder of slice files directly in the drop folder.
    case folder
    /// Loose slice files directly in the drop folder, grouped by the profile's filename pattern.
    case loose
}

/// A stack found complete: its inputs in slice order (paths relative to the drop folder).
public struct DetectedStack: Sendable, Equatable {
    public var kind: StackKind
    public var name: String
    /// Relative paths, in slice order.
    public var inputs: [String]
    /// Each input's signature when it was found complete (same order as `inputs`).
    public var signatures: [FileSignature]
    /// The relative path that is moved as a whole to archive or quarantine: the file, the folder, or
    /// (for loose files) nil — the inputs are moved one by one.
    public var root: String?
}

/// Decides, without touching files or clocks, which stacks in one drop folder are complete.
///
/// The I/O layer reports what it sees — `observe` for a stat of a file, `closed` for
/// close-after-write or moved-in, `modified` when a writer is active, `removed` — and calls
/// `evaluate(now:)`, which returns each stack that became complete (once per distinct content).
/// `pendingPaths` lists the files to stat again on the next tick. All paths are relative to the drop folder.
public struct StackDetector: Sendable {
    public let rules: DetectionRules
    private let pattern: NSRegularExpression?

    struct Tracked: Sendable {
        var signature: FileSignature
        /// When the content last changed (the mtime for a file first seen unchanged).
        var changedAt: Double
        /// How many consecutive observations saw `signature`.
        var observations: Int
        /// Not being written: closed after writing, moved in, or found by a scan.
        var closed: Bool
        /// Known only from a scan (start-up, queue overflow): no close event was seen, so the
        /// caller looks for other evidence that no writer still has it open.
        var fromScan: Bool = false
        /// A symbolic link, FIFO, socket or device inside a stack folder: the stack is reported
        /// with it, so the job can quarantine the folder with an explanation.
        var foreign: Bool = false
    }
    private(set) var files: [String: Tracked] = [:]
    /// Stacks already reported, by key, with the signatures they were reported with.
    private var emitted: [String: [FileSignature]] = [:]

    public init(rules: DetectionRules) {
        self.rules = rules
        self.pattern = rules.pattern.flatMap { try? NSRegularExpression(pattern: $0) }
    }

    // MARK: Observations

    /// A stat of `path`. `closed` marks files reported closed by the watcher (or moved in);
    /// `fromScan` files found by a scan, which count as closed but are stable only after
    /// `stableSeconds` of watching — not by their mtime, since a writer may be pausing across a
    /// restart of the daemon.
    public mutating func observe(_ path: String, signature: FileSignature, now: Double, closed: Bool? = nil,
                                 fromScan: Bool = false) {
        if var t = files[path] {
            if t.signature == signature {
                t.observations += 1
            } else {
                t.signature = signature
                t.changedAt = now
                t.observations = 1
            }
            if let closed {
                t.closed = closed
                if closed && !fromScan { t.fromScan = false }
            }
            t.foreign = false
            files[path] = t
        } else {
            files[path] = Tracked(signature: signature, changedAt: fromScan ? now : min(signature.mtime, now), observations: 1,
                                  closed: fromScan || (closed ?? false), fromScan: fromScan)
        }
    }

    /// A symbolic link, FIFO, socket or device at `path`: tracked (inside a stack folder) so that its
    /// stack is reported with it and refused as a whole, rather than fused from the other slices.
    public mutating func observeForeign(_ path: String, signature: FileSignature, now: Double) {
        guard path.contains("/") else { return }
        if files[path]?.foreign == true && files[path]?.signature == signature {
            files[path]!.observations += 1
            return
        }
        files[path] = Tracked(signature: signature, changedAt: now, observations: 1, closed: true, foreign: true)
    }

    /// Whether `path` is known only from a scan (no close event seen since the daemon started watching it).
    public func isFromScan(_ path: String) -> Bool { files[path]?.fromScan ?? false }

    /// Whether `path` is a symbolic link, FIFO, socket or device in a stack folder.
    public func isForeign(_ path: String) -> Bool { files[path]?.foreign ?? false }

    /// Evidence that `paths` may still be written (a writer has one open, or a TIFF is not yet
    /// structurally complete): they count as being written again — not closed, changed now — and
    /// their stack is reported again once complete.
    public mutating func reopen(_ paths: [String], kind: StackKind, name: String, now: Double) {
        for path in paths {
            guard var t = files[path] else { continue }
            t.closed = false
            t.changedAt = now
            t.observations = 0
            files[path] = t
        }
        forget(kind: kind, name: name)
    }

    /// Files found by a scan that stay structurally incomplete: stable for `now` counts from here.
    public mutating func restartStability(_ paths: [String], now: Double) {
        for path in paths {
            files[path]?.changedAt = now
            files[path]?.observations = 1
        }
    }

    /// The file was closed after writing or moved in.
    public mutating func closed(_ path: String) {
        files[path]?.closed = true
    }

    /// A writer modified the file (it is open for writing).
    public mutating func modified(_ path: String, now: Double) {
        guard var t = files[path] else { return }
        t.closed = false
        t.changedAt = now
        t.observations = 0
        files[path] = t
    }

    /// The file (or every file under the folder `path`) disappeared.
    public mutating func removed(_ path: String) {
        files[path] = nil
        let prefix = path + "/"
        for key in files.keys where key.hasPrefix(prefix) { files[key] = nil }
        let live = Set(groups().keys)
        for key in emitted.keys where !live.contains(key) { emitted[key] = nil }
    }

    /// Files whose stack has not been reported with their current content: stat these each tick.
    public var pendingPaths: [String] {
        var result: [String] = []
        for (key, group) in groups() where emitted[key] != group.files.map({ files[$0]!.signature }) {
            result.append(contentsOf: group.files)
            if let marker = group.marker { result.append(marker) }
        }
        return result.sorted()
    }

    /// Whether a file at `path` could ever be part of a stack (an image or the marker, at most one
    /// folder deep, not hidden): the intake tracks only these.
    public func isRelevant(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let last = parts.last else { return false }
        if parts.contains(where: { $0.hasPrefix(".") && $0 != rules.marker ?? "" }) { return false }
        let name = String(last)
        if parts.count == 2 && name == rules.marker { return true }
        if parts.count == 1 && looseMatch(name) != nil { return true }
        return isImage(name)
    }

    /// Every tracked path (for a rescan to find files that vanished).
    public var trackedPaths: [String] { files.keys.sorted() }

    // MARK: Decisions

    /// Stacks that are complete now and have not been reported with this content before.
    public mutating func evaluate(now: Double) -> [DetectedStack] {
        var result: [DetectedStack] = []
        for (key, group) in groups().sorted(by: { $0.key < $1.key }) {
            let signatures = group.files.map { files[$0]!.signature }
            guard emitted[key] != signatures, isComplete(group, now: now) else { continue }
            emitted[key] = signatures
            result.append(DetectedStack(kind: group.kind, name: group.name, inputs: group.files,
                                        signatures: signatures, root: group.root))
        }
        return result
    }

    /// Forgets that `stack` was reported, so it is reported again when complete (after a failed read).
    public mutating func forget(kind: StackKind, name: String) {
        emitted[Self.key(kind, name)] = nil
    }

    func isStable(_ path: String, now: Double) -> Bool {
        guard let t = files[path] else { return false }
        return t.observations >= 2 && now - t.changedAt >= rules.stableSeconds
    }

    private func isComplete(_ group: Group, now: Double) -> Bool {
        guard !group.files.isEmpty, group.files.allSatisfy({ isStable($0, now: now) }) else { return false }
        switch group.kind {
        case .file:
            return files[group.files[0]]!.closed
        case .folder, .loose:
            if group.marker != nil { return true }
            if let n = rules.sliceCount, group.files.count >= n { return true }
            if let quiet = rules.quietSeconds {
                let last = (group.files + (group.marker.map { [$0] } ?? [])).compactMap { files[$0]?.changedAt }.max() ?? now
                return now - last >= quiet
            }
            return false
        }
    }

    // MARK: Grouping

    struct Group {
        var kind: StackKind
        var name: String
        var files: [String]
        var marker: String?
        var root: String?
    }

    static func key(_ kind: StackKind, _ name: String) -> String { "\(kind.rawValue):\(name)" }

    /// Tracked files grouped into candidate stacks (slice order within each).
    func groups() -> [String: Group] {
        var result: [String: Group] = [:]
        var looseZ: [String: [(z: String, path: String)]] = [:]
        for path in files.keys {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: { $0.hasPrefix(".") && $0 != rules.marker }) { continue }
            if parts.count == 1 {
                let name = parts[0]
                if let (stack, z) = looseMatch(name) {
                    looseZ[stack, default: []].append((z, path))
                } else if isImage(name) {
                    let stack = (name as NSString).deletingPathExtension
                    result[Self.key(.file, stack)] = Group(kind: .file, name: stack, files: [path], marker: nil, root: path)
                }
            } else if parts.count == 2 {
                let folder = parts[0], name = parts[1]
                let key = Self.key(.folder, folder)
                var group = result[key] ?? Group(kind: .folder, name: folder, files: [], marker: nil, root: folder)
                if name == rules.marker {
                    group.marker = path
                } else if isImage(name) || files[path]!.foreign {
                    group.files.append(path)
                } else {
                    continue
                }
                result[key] = group
            }
        }
        for key in result.keys where result[key]!.kind == .folder {
            result[key]!.files.sort { naturalLess(($0 as NSString).lastPathComponent, ($1 as NSString).lastPathComponent) }
        }
        for (stack, members) in looseZ {
            let numeric = members.allSatisfy { Int($0.z) != nil }
            let sorted = members.sorted {
                numeric ? (Int($0.z)!, $0.path) < (Int($1.z)!, $1.path) : naturalLess($0.z, $1.z)
            }
            result[Self.key(.loose, stack)] = Group(kind: .loose, name: stack, files: sorted.map(\.path), marker: nil, root: nil)
        }
        return result
    }

    private func isImage(_ name: String) -> Bool {
        rules.extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// The `stack` and `z` captures when `name` matches the loose-file pattern as a whole.
    func looseMatch(_ name: String) -> (stack: String, z: String)? {
        guard let pattern else { return nil }
        let range = NSRange(name.startIndex..., in: name)
        guard let m = pattern.firstMatch(in: name, range: range), m.range == range,
              let s = Range(m.range(withName: "stack"), in: name),
              let z = Range(m.range(withName: "z"), in: name) else { return nil }
        return (String(name[s]), String(name[z]))
    }
}

/// Natural order: runs of digits compare by value, so `slice2` < `slice10`.
func naturalLess(_ a: String, _ b: String) -> Bool {
    var i = a.unicodeScalars.makeIterator(), j = b.unicodeScalars.makeIterator()
    var x = i.next(), y = j.next()
    func isDigit(_ c: Unicode.Scalar?) -> Bool { c.map { ("0"..."9").contains($0) } ?? false }
    while let cx = x, let cy = y {
        if isDigit(cx) && isDigit(cy) {
            var dx = "", dy = ""
            while isDigit(x) { dx.unicodeScalars.append(x!); x = i.next() }
            while isDigit(y) { dy.unicodeScalars.append(y!); y = j.next() }
            let nx = dx.drop(while: { $0 == "0" }), ny = dy.drop(while: { $0 == "0" })
            if nx.count != ny.count { return nx.count < ny.count }
            if nx != ny { return nx < ny }
            if dx.count != dy.count { return dx.count < dy.count }
        } else {
            if cx != cy { return cx.value < cy.value }
            x = i.next(); y = j.next()
        }
    }
    return x == nil && y != nil
}
