import ArgumentParser
import Daemon
import Foundation

/// `focusd profiles list|show|validate`: the shipped and local profiles, resolved and checked.
struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show and validate fusion profiles.",
        subcommands: [List.self, Show.self, Validate.self]
    )

    /// Folders searched for profiles by name, in order: --dir, /etc/focusd/profiles, the checkout's
    /// `profiles/` (beside the binary's build folder), /usr/local/share/focusd/profiles, /usr/share/focusd/profiles.
    static func searchFolders(extra: String?) -> [String] {
        var folders: [String] = []
        if let extra { folders.append(extra) }
        folders.append("/etc/focusd/profiles")
        var up = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            up.deleteLastPathComponent()
            folders.append(up.appendingPathComponent("profiles").path)
        }
        folders += ["/usr/local/share/focusd/profiles", "/usr/share/focusd/profiles"]
        return folders
    }

    /// A profile given as a path, or by name (`default`, `reference.yaml`) from the search folders.
    static func locate(_ nameOrPath: String, extra: String?) throws -> String {
        if nameOrPath.contains("/") || FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        let file = nameOrPath.hasSuffix(".yaml") ? nameOrPath : nameOrPath + ".yaml"
        let candidates = searchFolders(extra: extra).map { ($0 as NSString).appendingPathComponent(file) }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw ValidationError("no profile '\(nameOrPath)'; looked in: \(candidates.joined(separator: ", "))")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the profiles in the search folders.")
        @Option(help: "An extra folder of profiles, searched first.") var dir: String?

        func run() async throws {
            var seen = Set<String>()
            for folder in ProfilesCommand.searchFolders(extra: dir) {
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
                for name in names.sorted() where name.hasSuffix(".yaml") && seen.insert(name).inserted {
                    let path = (folder as NSString).appendingPathComponent(name)
                    let status: String
                    do {
                        let loaded = try ProfileLoader.load(.file(path), configurationFile: path)
                        status = "engine \(loaded.settings.engine.rawValue)"
                    } catch {
                        status = "INVALID: \(error)"
                    }
                    print("\((name as NSString).deletingPathExtension)\t\(path)\t\(status)")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a profile's fully resolved settings (defaults filled in) as JSON.")
        @Argument(help: "A profile name (from the search folders) or file.") var profile: String
        @Option(help: "An extra folder of profiles, searched first.") var dir: String?

        func run() async throws {
            let path = try ProfilesCommand.locate(profile, extra: dir)
            let loaded = try ProfileLoader.load(.file(path), configurationFile: path)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print("# \(path)")
            print(String(decoding: try encoder.encode(loaded.settings), as: UTF8.self))
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check profiles: keys, values and (for FusionDiff) that the model loads. Exit 1 if any is invalid.")
        @Argument(help: "Profile names or files.") var profiles: [String]
        @Option(help: "An extra folder of profiles, searched first.") var dir: String?

        func run() async throws {
            var failures = 0
            for profile in profiles {
                do {
                    let path = try ProfilesCommand.locate(profile, extra: dir)
                    let loaded = try ProfileLoader.load(.file(path), configurationFile: path)
                    do {
                        _ = try loaded.settings.makeEngine(baseDirectory: loaded.baseDirectory)
                    } catch {
                        throw ValidationError("\(path): \(error)")   // the model cannot be loaded
                    }
                    print("ok\t\(path)")
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("focusd: invalid profile: \(error)\n".utf8))
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
