import ArgumentParser
import Foundation

/// Refuses output paths that would overwrite or pollute the inputs (inputs are only ever read):
/// an output equal to an input file, to another output, or inside a folder read as a stack (a
/// later run would take it as a slice). Paths are compared after resolving symbolic links.
enum OutputPathCheck {
    /// - Throws: `ValidationError` (exit code 2) naming the path and what to do.
    static func validate(inputs: [String], outputs: [(flag: String, path: String)]) throws {
        func resolved(_ path: String) -> String {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            // Resolve the parent (the file itself may not exist yet) and re-attach the name.
            let parent = url.deletingLastPathComponent().resolvingSymlinksInPath()
            let full = parent.appendingPathComponent(url.lastPathComponent)
            return (FileManager.default.fileExists(atPath: full.path) ? full.resolvingSymlinksInPath() : full).path
        }
        var inputFiles = Set<String>()
        var inputFolders: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                inputFolders.append(URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path)
            } else {
                inputFiles.insert(resolved(input))
            }
        }
        var seen: [String: String] = [:]
        for (flag, path) in outputs {
            let target = resolved(path)
            if inputFiles.contains(target) {
                throw ValidationError("\(flag) \(path) is one of the inputs; focusd never overwrites an input — write the output elsewhere")
            }
            if let folder = inputFolders.first(where: { target.hasPrefix($0 + "/") }) {
                throw ValidationError("\(flag) \(path) lies inside the input folder \(folder), where a later run would read it as a slice; write the output outside the stack folder")
            }
            if let other = seen[target] {
                throw ValidationError("\(flag) \(path) is the same file as \(other); give every output its own path")
            }
            seen[target] = flag
        }
    }
}
