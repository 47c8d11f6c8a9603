import ArgumentParser
import Foundation
import Pipeline

/// `focusd profiles list|show|validate`: the shipped and local profiles, resolved and checked.
struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show and validate fusion profiles.",
        subcommands: [List.self, Show.self, Validate.self]
    )

    /// A profile given as a path, or by name (`default`) from the search folders (`ProfileSearchPath`,
    /// shared with the daemon's `profile: NAME`).
    /// - Throws: `ValidationError` (exit 2) naming the folders looked in.
    static func locate(_ nameOrPath: String, extra: String?) throws -> String {
        do {
            return try ProfileSearchPath.standard(extra: extra).locate(nameOrPath, relativeTo: FileManager.default.currentDirectoryPath)
        } catch {
            throw ValidationError(error.description)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the profiles in the search folders.")
        @Option(help: "An extra folder of profiles, searched first.") var dir: String?

        func run() async throws {
            for (name, path) in ProfileSearchPath.standard(extra: dir).all() {
                let status: String
                do {
                    let loaded = try ProfileLoader.load(.file(path), configurationFile: path)
                    status = "engine \(loaded.settings.engine.rawValue)"
                } catch {
                    status = "INVALID: \(error)"
                }
                print("\(name)\t\(path)\t\(status)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a profile's fully resolved settings (defaults filled in, the model as an absolute path) as JSON.",
            discussion: "The output is JSON only, and itself a valid profile: `focusd profiles show quality > pinned.yaml` pins every value.")
        @Argument(help: "A profile name (from the search folders) or file.") var profile: String
        @Option(help: "An extra folder of profiles, searched first.") var dir: String?

        func run() async throws {
            let path = try ProfilesCommand.locate(profile, extra: dir)
            var (settings, base) = try ProfileLoader.load(.file(path), configurationFile: path)
            if settings.model != nil {
                do {
                    settings.model = try settings.resolvedModelPath(baseDirectory: base)
                } catch {
                    throw ValidationError("\(path): \(error)")
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(settings), as: UTF8.self))
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check profiles: keys, values and (for FusionDiff) that the model loads. Exit 1 if any is invalid.",
            discussion: "Without PROFILES, every profile in the search folders (as 'focusd profiles list' shows them). One line per profile: 'ok<TAB>path' on stdout, or the problem on stderr.")
        @Argument(help: "Profile names or files (default: every profile in the search folders).") var profiles: [String] = []
        @Option(help: "An extra folder of profiles, searched first.") var dir: String?

        func run() async throws {
            let references = profiles.isEmpty ? ProfileSearchPath.standard(extra: dir).all().map(\.path) : profiles
            guard !references.isEmpty else {
                throw ValidationError("no profiles in the search folders (\(ProfileSearchPath.standard(extra: dir).folders.joined(separator: ", "))); name the profiles to check")
            }
            var failures = 0
            for profile in references {
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
