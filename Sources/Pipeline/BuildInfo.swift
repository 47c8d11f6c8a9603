import Foundation

/// What this build of focusd is, for `--version` and provenance sidecars.
public enum FocusdBuild {
    public static let name = "focusd"
    public static let version = "0.1.0"

    /// The git commit the binary was built from: `$FOCUSD_GIT_COMMIT` when set (packaging sets it),
    /// else read from the checkout the binary sits in (`<repo>/.build/<config>/focusd`), else `unknown`.
    public static let gitCommit: String = {
        if let fromEnvironment = ProcessInfo.processInfo.environment["FOCUSD_GIT_COMMIT"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            let head = directory.appendingPathComponent(".git/HEAD")
            if let commit = readCommit(gitDirectory: directory.appendingPathComponent(".git"), head: head) {
                return commit
            }
            directory.deleteLastPathComponent()
        }
        return "unknown"
    }()

    private static func readCommit(gitDirectory: URL, head: URL) -> String? {
        guard let text = try? String(contentsOf: head, encoding: .utf8) else { return nil }
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("ref: ") else { return line.count == 40 ? line : nil }
        let ref = String(line.dropFirst(5))
        if let commit = try? String(contentsOf: gitDirectory.appendingPathComponent(ref), encoding: .utf8) {
            return commit.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Packed refs: "<sha> <ref>" lines.
        guard let packed = try? String(contentsOf: gitDirectory.appendingPathComponent("packed-refs"), encoding: .utf8) else { return nil }
        for entry in packed.split(separator: "\n") where entry.hasSuffix(" " + ref) {
            return String(entry.prefix(40))
        }
        return nil
    }
}
