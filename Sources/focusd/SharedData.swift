import ArgumentParser
import Foundation

/// Where the benchmarks' and evaluations' default data is: the project's shared data folder
/// (`shared/data`, beside the checkout), found from `$FOCUSD_DATA`, the working folder or the
/// running binary, so a `bench` command works from any folder.
enum SharedData {
    /// `relative` (e.g. `dev/lytro`) inside the first of: `$FOCUSD_DATA`, `<working folder>/../shared/data`,
    /// and `<checkout>/../shared/data` for a binary in `<checkout>/.build/<configuration>/` — the first
    /// that exists; else the working-folder form, which `requireExisting` then reports.
    static func path(_ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                     executable: String = CommandLine.arguments.first ?? "") -> String {
        var roots: [String] = []
        if let root = environment["FOCUSD_DATA"], !root.isEmpty { roots.append(root) }
        roots.append("../shared/data")
        var up = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            up.deleteLastPathComponent()
            roots.append(up.deletingLastPathComponent().appendingPathComponent("shared/data").path)
        }
        let candidates = roots.map { ($0 as NSString).appendingPathComponent(relative) }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[environment["FOCUSD_DATA"] == nil ? 0 : 1]
    }

    /// A usage error (exit 2) when the data behind `flag` is missing, saying which flag to pass.
    static func requireExisting(_ path: String, flag: String, what: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(path) does not exist: pass \(flag) with \(what), or set FOCUSD_DATA to the shared data folder (the one holding dev/ and train/)")
        }
    }
}
