import ArgumentParser
import Foundation

/// Refuses output paths that would overwrite or pollute the inputs (inputs are only ever read):
/// an output equal to an input file, to another output, or inside a folder read as a stack (a
/// later run would take it as a slice); for `reprocess`, an output folder inside an archive or an
/// output file among the inputs. Paths are compared after resolving symbolic links.
enum OutputPathCheck {
    /// - Throws: `ValidationError` (exit code 2) naming the path and what to do.
    static func validate(inputs: [String], outputs: [(flag: String, path: String)]) throws {
        var inputFiles = Set<String>()
        var inputFolders: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                inputFolders.append(resolved(input))
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
            if let folder = inputFolders.first(where: { isInside(target, $0) }) {
                throw ValidationError("\(flag) \(path) lies inside the input folder \(folder), where a later run would read it as a slice; write the output outside the stack folder")
            }
            if let other = seen[target] {
                throw ValidationError("\(flag) \(path) is the same file as \(other); give every output its own path")
            }
            seen[target] = flag
        }
    }

    /// focusd writes images only as TIFF: an output named `.png`, `.jpg` or without extension would
    /// be a TIFF under a misleading name.
    /// - Throws: `ValidationError` (exit code 2) naming the flag and the path.
    static func requireTIFF(_ outputs: [(flag: String, path: String)]) throws {
        for (flag, path) in outputs {
            let ext = (path as NSString).pathExtension.lowercased()
            guard ext != "tif" && ext != "tiff" else { continue }
            throw ValidationError("\(flag) \(path): focusd writes TIFF only; name the file .tif or .tiff"
                                  + (ext.isEmpty ? "" : " (convert it afterwards for .\(ext))"))
        }
    }

    /// `reprocess --out` must lie outside every archive it reads (its outputs would be taken for stacks).
    /// - Throws: `ValidationError` (exit code 2).
    static func validateReprocess(out: String, archives: [String]) throws {
        let output = resolved(out)
        for archive in archives {
            let root = resolved(archive)
            if output == root || isInside(output, root) {
                throw ValidationError("--out \(out) is inside the archive \(archive); its outputs would be taken for stacks. Put it outside")
            }
        }
    }

    /// `path` absolute and standardized, with symbolic links resolved in its longest existing part
    /// (an output and its folders may not exist yet).
    static func resolved(_ path: String) -> String {
        var existing = URL(fileURLWithPath: path).standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path) && existing.path != "/" {
            rest.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        var full = existing.resolvingSymlinksInPath()
        for component in rest { full.appendPathComponent(component) }
        return full.standardizedFileURL.path
    }

    static func isInside(_ path: String, _ folder: String) -> Bool {
        path.hasPrefix(folder == "/" ? "/" : folder + "/")
    }
}
