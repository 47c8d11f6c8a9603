import Foundation
import Imaging
import Pipeline

/// A stack found in an archive, and where `focusd reprocess` writes its outputs.
public struct ArchiveStack: Sendable, Equatable {
    /// The stack's path under its archive root's name (`archA/2026/scope1/run7.tif`, `archA/2026/scope1/run8`
    /// for a folder of slices, `archA` for slices lying in the root itself), the same however many
    /// archives one run names; with `relativeTo`, its path relative to that folder instead (`.` for
    /// slices lying in it). Also the output path under `--out` and the shard key.
    public var id: String
    public var kind: StackKind
    /// The archive root it was found in (absolute).
    public var archive: String
    /// Input files in slice order (absolute).
    public var inputs: [String]
    /// The output folder relative to `--out` (the id's parent folder; empty for the top).
    public var outputFolder: String
    /// The `{stack}` value of the output names: the file name without extension, or the folder name
    /// (made unique within its output folder by keeping the extension when two stacks would collide).
    public var stackName: String
}

/// What a scan found: the stacks, and the TIFFs it left out because focusd wrote them.
public struct ArchiveScan: Sendable {
    public var stacks: [ArchiveStack]
    /// Files skipped as focusd's own outputs (absolute), e.g. a fused image written into the archive.
    public var skipped: [String]
}

/// Finds every complete stack under archive folders with the daemon's detection rules, in
/// "complete by presence" mode: nothing is waited for, everything present is taken as written.
///
/// In each folder (recursively; hidden files and folders skipped, image files by the daemon's
/// extensions `tif tiff png jpg jpeg`):
/// - every multi-page TIFF (more than one Z slice, ImageJ hyperstacks and OME-TIFF included) is a stack;
/// - the single-image files (PNG, JPEG, one-page TIFF) together are one stack of slices in natural name
///   order — when there are at least two of them, or the daemon's marker file `COMPLETE` is present;
/// - with a loose-file `pattern` (the daemon's `detection.pattern`, named captures `stack` and `z`),
///   single-image files whose names match it are grouped into one stack per `stack` value instead
///   (`run7_z01.tif`, `run7_z02.tif` → stack `run7`, id `<folder>/run7`), ordered by `z`;
/// - subfolders are searched the same way (symbolic links are not followed, as by the daemon);
/// - TIFFs focusd wrote (Software tag `focusd <version>`: fused images, maps, aligned stacks) are
///   skipped and listed in `ArchiveScan.skipped`, so outputs written into an archive are never fused.
/// Grouping, ordering, hidden-file and marker rules are `StackDetector`'s (the daemon's).
public struct ArchiveScanner: Sendable {
    public var rules: DetectionRules

    public init(rules: DetectionRules = ArchiveScanner.presenceRules) {
        self.rules = rules
    }

    /// Presence rules with the daemon's loose-file `pattern` (validated like the daemon's key).
    /// - Throws: `ReprocessError` when the expression does not compile or lacks the captures.
    public static func presenceRules(pattern: String?) throws(ReprocessError) -> DetectionRules {
        var rules = presenceRules
        guard let pattern else { return rules }
        if let problem = DetectionRules.problem(withPattern: pattern) {
            throw ReprocessError("--pattern: \(problem), as the daemon's detection.pattern; e.g. '(?<stack>.+)_z(?<z>\\d+)\\.tif'")
        }
        rules.pattern = pattern
        return rules
    }

    /// The daemon's default rules with nothing to wait for.
    public static var presenceRules: DetectionRules {
        var rules = DetectionRules()
        rules.stableSeconds = 0
        rules.quietSeconds = 0
        rules.sliceCount = nil
        return rules
    }

    /// The stacks under `archives`, sorted by id (see `find`).
    public func scan(_ archives: [String], relativeTo base: String? = nil) throws(ReprocessError) -> [ArchiveStack] {
        try find(archives, relativeTo: base).stacks
    }

    /// The stacks under `archives` and the focusd outputs skipped. Each stack's id (and output path) is
    /// its path under its archive's folder name, or, with `base`, relative to `base` — never dependent
    /// on which other archives the run names, so a run over a subset finds the same outputs.
    /// - Throws: `ReprocessError` when an archive is not a readable folder, lies outside `base`, lies
    ///   inside another archive, or two archives share a folder name (without `base`).
    public func find(_ archives: [String], relativeTo base: String? = nil) throws(ReprocessError) -> ArchiveScan {
        var stacks: [ArchiveStack] = []
        var skipped: [String] = []
        var prefixes: [String: String] = [:]
        let roots = archives.map(FileOperations.absolutePath)
        for (archive, root) in zip(archives, roots) {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
                throw ReprocessError("\(archive): not a folder; give archive folders (the stacks are found inside them)")
            }
            if let outer = roots.first(where: { root.hasPrefix($0 == "/" ? "/" : $0 + "/") && $0 != root }) {
                throw ReprocessError("\(archive) lies inside the archive \(outer), which holds its stacks already; name only \(outer)")
            }
            let prefix: String
            if let base {
                let folder = FileOperations.absolutePath(base)
                guard root == folder || root.hasPrefix(folder == "/" ? "/" : folder + "/") else {
                    throw ReprocessError("\(archive) is not inside --relative-to \(base); give a folder that holds every archive")
                }
                prefix = root == folder ? "" : String(root.dropFirst(folder == "/" ? 1 : folder.count + 1))
            } else {
                guard root != "/" else {
                    throw ReprocessError("\(archive): the file system's root has no folder name to mirror under --out; give --relative-to /")
                }
                prefix = (root as NSString).lastPathComponent
            }
            if let other = prefixes[prefix] {
                throw ReprocessError("the archives \(other) and \(archive) both map to '\(prefix.isEmpty ? "." : prefix)' under --out; "
                                     + "give --relative-to a folder that holds both (their paths below it then differ), or run them separately with different --out")
            }
            prefixes[prefix] = archive
            try walk(root: root, relative: "", prefix: prefix, into: &stacks, skipped: &skipped)
        }
        return ArchiveScan(stacks: Self.assignNames(stacks).sorted { $0.id < $1.id }, skipped: skipped.sorted())
    }

    private func walk(root: String, relative: String, prefix: String, into stacks: inout [ArchiveStack],
                      skipped: inout [String]) throws(ReprocessError) {
        let folder = relative.isEmpty ? root : (root as NSString).appendingPathComponent(relative)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ReprocessError("\(folder): cannot list the folder (\(error.localizedDescription)); check permissions")
        }
        var detector = StackDetector(rules: rules)
        let now = Date().timeIntervalSince1970 + 1
        var subfolders: [String] = []
        // Single-image files go in as a folder of slices ("slices/<name>"), multi-page TIFFs as stack files.
        for name in names where !name.hasPrefix(".") || name == rules.marker {
            let path = (folder as NSString).appendingPathComponent(name)
            let ext = (name as NSString).pathExtension.lowercased()
            if (ext == "tif" || ext == "tiff") && ImageFile.isWrittenByFocusd(path) {
                skipped.append(path)
                continue
            }
            guard let signature = FileOperations.signature(path) else {
                // Real folders only: a symbolic link could lead back up the tree (as for the daemon,
                // links are not followed).
                var st = stat()
                if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, !name.hasPrefix(".") {
                    subfolders.append(name)
                }
                continue
            }
            let key = detector.looseMatch(name) != nil || isMultiPage(path) ? name : "slices/\(name)"
            detector.observe(key, signature: signature, now: now, closed: true)
            detector.observe(key, signature: signature, now: now, closed: true)
        }
        for found in detector.evaluate(now: now) {
            let inputs = found.inputs.map { (folder as NSString).appendingPathComponent(($0 as NSString).lastPathComponent) }
            switch found.kind {
            case .file:
                let id = Self.join(prefix, Self.join(relative, found.inputs[0]))
                stacks.append(ArchiveStack(id: id, kind: .file, archive: root, inputs: inputs,
                                           outputFolder: Self.parent(id), stackName: found.name))
            case .folder:
                let hasMarker = rules.marker.map { names.contains($0) } ?? false
                guard inputs.count >= 2 || (hasMarker && !inputs.isEmpty) else { continue }
                let own = relative.isEmpty ? "." : relative
                let id = prefix.isEmpty ? own : (relative.isEmpty ? prefix : Self.join(prefix, relative))
                let name = relative.isEmpty ? (root as NSString).lastPathComponent : (relative as NSString).lastPathComponent
                stacks.append(ArchiveStack(id: id, kind: .folder, archive: root, inputs: inputs,
                                           outputFolder: id == "." ? "" : Self.parent(id), stackName: name))
            case .loose:
                let id = Self.join(prefix, Self.join(relative, found.name))
                stacks.append(ArchiveStack(id: id, kind: .loose, archive: root, inputs: inputs,
                                           outputFolder: Self.parent(id), stackName: found.name))
            }
        }
        for name in subfolders.sorted() {
            try walk(root: root, relative: Self.join(relative, name), prefix: prefix, into: &stacks, skipped: &skipped)
        }
    }

    /// Whether `path` is a TIFF with more than one Z slice (a stack by itself).
    private func isMultiPage(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        guard ext == "tif" || ext == "tiff" else { return false }
        // An unreadable TIFF becomes a stack of its own, so its failure is reported with its name.
        guard let sources = try? StackLoader().open([path]), let first = sources.first else { return true }
        return first.count > 1 || sources.count > 1
    }

    /// Stacks whose `{stack}` names collide in one output folder (`x.tif` and a folder `x`) keep their
    /// full file name (`x.tif`), so no stack overwrites another's outputs; the choice does not depend on sharding.
    static func assignNames(_ stacks: [ArchiveStack]) -> [ArchiveStack] {
        var counts: [String: Int] = [:]
        for s in stacks { counts[s.outputFolder + "\u{0}" + s.stackName, default: 0] += 1 }
        return stacks.map { stack in
            var s = stack
            if counts[s.outputFolder + "\u{0}" + s.stackName]! > 1, s.kind == .file {
                s.stackName = (s.id as NSString).lastPathComponent
            }
            return s
        }
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : (b.isEmpty ? a : a + "/" + b) }

    static func parent(_ id: String) -> String {
        let p = (id as NSString).deletingLastPathComponent
        return p == "." ? "" : p
    }
}

/// A `focusd reprocess` failure that stops the whole run: what, where, and what to do.
public struct ReprocessError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
