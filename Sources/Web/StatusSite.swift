import Daemon
import Pipeline
import Foundation

/// What the status page may read, taken from the daemon's configuration: the journal, and per drop
/// folder its output and quarantine folders. Nothing outside these folders is ever served.
public struct StatusSite: Sendable {
    /// One drop folder as the page shows it.
    public struct Drop: Sendable, Equatable {
        public var name: String
        public var path: String
        public var output: String
        public var quarantine: String
        /// The profile as configured: a profile's name, `built-in defaults` or `inline`.
        public var profile: String
    }

    public var journalPath: String
    public var drops: [String: Drop]
    /// Where thumbnails are cached (beside the journal by default, never in an output folder).
    public var cacheDirectory: String
    /// The configuration file, shown on the page.
    public var configurationFile: String

    public init(journalPath: String, drops: [Drop], cacheDirectory: String, configurationFile: String) {
        self.journalPath = journalPath
        self.drops = Dictionary(drops.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.cacheDirectory = cacheDirectory
        self.configurationFile = configurationFile
    }

    /// The site of a daemon configuration; thumbnails go to `cacheDirectory`, by default
    /// `<state_directory>/web-thumbnails`.
    public init(configuration: DaemonConfiguration, cacheDirectory: String? = nil) {
        let drops = configuration.dropFolders.map { folder in
            Drop(name: folder.name, path: folder.path, output: folder.output, quarantine: folder.quarantine,
                 profile: Self.profileName(folder.profile))
        }
        self.init(journalPath: configuration.journalPath, drops: drops,
                  cacheDirectory: cacheDirectory ?? (configuration.stateDirectory as NSString).appendingPathComponent("web-thumbnails"),
                  configurationFile: configuration.sourceFile)
    }

    /// A profile reference in the user's words: `default` for `/etc/focusd/profiles/default.yaml`.
    static func profileName(_ reference: ProfileReference) -> String {
        switch reference {
        case .defaults: return "built-in defaults"
        case .file(let path):
            let name = (path as NSString).lastPathComponent
            return name.hasSuffix(".yaml") ? String(name.dropLast(5)) : name
        case .inline: return "inline"
        }
    }

    /// The profile a drop folder uses now (the journal does not record it per job).
    func profile(ofDrop name: String) -> String { drops[name]?.profile ?? "?" }

    /// Creates the thumbnail cache folder if needed and checks it is writable.
    /// - Throws: `WebError(.cacheDirectory)` naming the folder and what to do.
    public func prepareCache() throws(WebError) {
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw WebError(.cacheDirectory, "cannot create the thumbnail cache \(cacheDirectory): \(error.localizedDescription); "
                           + "give --cache-directory with a folder this user can write")
        }
        guard access(cacheDirectory, W_OK) == 0 else {
            throw WebError(.cacheDirectory, "the thumbnail cache \(cacheDirectory) is not writable by this user; "
                           + "give --cache-directory with a folder it can write (not an output folder)")
        }
    }
}
