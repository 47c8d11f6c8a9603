import Foundation

/// Where profiles are found by name, for the daemon's `profile: NAME` and every command's `--profile`
/// (one implementation for both).
///
/// Folders, in order: an extra folder when given (`--dir`), `/etc/focusd/profiles`, the checkout's
/// `profiles/` (up to three folders above the running binary, e.g. `<repo>/.build/debug/focusd`),
/// `/usr/local/share/focusd/profiles`, `/usr/share/focusd/profiles`. A name found in several
/// folders is the first one's.
public struct ProfileSearchPath: Sendable {
    public let folders: [String]

    public init(folders: [String]) {
        self.folders = folders
    }

    /// The standard folders, after `extra` when given.
    public static func standard(extra: String? = nil, executable: String = CommandLine.arguments.first ?? "") -> ProfileSearchPath {
        var folders: [String] = []
        if let extra { folders.append(FileOperations.absolutePath(extra)) }
        folders.append("/etc/focusd/profiles")
        var up = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            up.deleteLastPathComponent()
            folders.append(up.appendingPathComponent("profiles").path)
        }
        folders += ["/usr/local/share/focusd/profiles", "/usr/share/focusd/profiles"]
        var seen = Set<String>()
        return ProfileSearchPath(folders: folders.filter { seen.insert($0).inserted })
    }

    /// Whether `reference` names a profile (`default`, `fluorescence-16bit`) rather than a file: no
    /// `/` and no `.yaml`/`.yml` extension.
    public static func isName(_ reference: String) -> Bool {
        let ext = (reference as NSString).pathExtension.lowercased()
        return !reference.contains("/") && ext != "yaml" && ext != "yml" && !reference.isEmpty
    }

    /// The profile file `reference` means: a name is looked up as `NAME.yaml` in the folders; a path
    /// is made absolute against `base` (the configuration file's folder, or the working folder). A
    /// bare file name such as `reference.yaml` that does not exist there is looked up in the folders too.
    /// - Throws: `ProfileLookupError` naming every place looked at.
    public func locate(_ reference: String, relativeTo base: String) throws(ProfileLookupError) -> String {
        if !Self.isName(reference) {
            let expanded = (reference as NSString).expandingTildeInPath
            let path = ((expanded.hasPrefix("/") ? expanded : (base as NSString).appendingPathComponent(expanded)) as NSString).standardizingPath
            if reference.contains("/") || FileManager.default.fileExists(atPath: path) { return path }
        }
        let file = Self.isName(reference) ? reference + ".yaml" : reference
        let candidates = folders.map { ($0 as NSString).appendingPathComponent(file) }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw ProfileLookupError(reference: reference, searched: candidates)
    }

    /// Every profile in the folders (`*.yaml`), the first of each name, in folder then name order.
    public func all() -> [(name: String, path: String)] {
        var seen = Set<String>()
        var found: [(name: String, path: String)] = []
        for folder in folders {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for file in files.sorted() where file.hasSuffix(".yaml") && !file.hasPrefix(".") {
                let name = (file as NSString).deletingPathExtension
                if seen.insert(name).inserted { found.append((name, (folder as NSString).appendingPathComponent(file))) }
            }
        }
        return found
    }
}

/// A profile name that is in none of the search folders.
public struct ProfileLookupError: Error, CustomStringConvertible, Sendable {
    public let reference: String
    /// The files looked for, in order.
    public let searched: [String]

    public var description: String {
        "no profile '\(reference)'; looked for \(searched.joined(separator: ", ")). "
            + "Put \(ProfileSearchPath.isName(reference) ? reference + ".yaml" : reference) in one of those folders "
            + "(`focusd profiles list` shows what is there), or give the profile file's path"
    }
}
