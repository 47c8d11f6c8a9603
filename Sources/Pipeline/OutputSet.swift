import Foundation
import SystemCalls
#if canImport(Glibc)
import Glibc
#endif

/// One file of an output set: written completely (and fsynced) under a hidden temporary name,
/// waiting to be renamed to its final name.
public struct StagedFile: Codable, Sendable, Equatable {
    public var temporary: String
    public var final: String
    public init(temporary: String, final: String) {
        self.temporary = temporary
        self.final = final
    }
}

/// The files of one fusion's outputs — fused image(s), maps and, last, the sidecar — that appear
/// together or not at all.
///
/// Every file is first written under a temporary name in its final folder and fsynced (`stage`);
/// `commit` then renames them in order, the sidecar last, and fsyncs the folders; `discard` removes
/// what was staged. A crash between two renames leaves the remaining temporary files, which the
/// daemon's start-up recovery renames from the list it recorded in the journal before committing
/// (`Journal.recoverInterrupted`), so a reader who takes the sidecar as the mark of a finished set
/// never sees a set without it, nor a sidecar without its images.
public struct OutputSet: Sendable, Equatable {
    public private(set) var files: [StagedFile] = []
    /// Permission bits given to every file just before it is renamed into place (the daemon's
    /// `output_mode:`), whatever the umask made of them; nil leaves them as created.
    public var outputMode: UInt16? = nil

    public init(files: [StagedFile] = []) {
        self.files = files
    }

    /// Adds a file already written (and fsynced) at `temporary`, to be renamed to `final`.
    public mutating func add(temporary: String, final: String) {
        files.append(StagedFile(temporary: temporary, final: final))
    }

    /// Writes `data` under a temporary name next to `final` (fsynced) and adds it.
    public mutating func stage(_ data: Data, as final: String) throws(SystemCallError) {
        let temporary = try FileOperations.writeTemporary(data, for: final)
        add(temporary: temporary, final: final)
    }


    /// Renames every staged file to its final name, in order (each first given `outputMode`, when
    /// set), then fsyncs the folders. A file whose
    /// temporary is gone but whose final name exists was renamed by an earlier, interrupted commit.
    /// - Throws: `SystemCallError` when a mode cannot be set or a rename fails; the files not yet
    ///   renamed are removed.
    public func commit() throws(SystemCallError) {
        var folders = Set<String>()
        for (index, file) in files.enumerated() {
            if let outputMode, let failure = Self.setMode(outputMode, of: file.temporary) {
                OutputSet(files: Array(files[index...])).discard()
                throw SystemCallError(failure.operation, path: file.temporary, code: failure.code)
            }
            if rename(file.temporary, file.final) != 0 {
                let code = errno
                if code == ENOENT && FileOperations.exists(file.final) { continue }
                OutputSet(files: Array(files[index...])).discard()
                throw SystemCallError("rename", path: file.final, code: code)
            }
            folders.insert((file.final as NSString).deletingLastPathComponent)
        }
        for folder in folders.sorted() { FileOperations.syncDirectory(folder) }
    }

    /// `fchmod` through a descriptor opened without following links, so a link swapped in for a
    /// temporary file is refused, never followed. A temporary already renamed by an interrupted
    /// commit (ENOENT) is left to the rename's own check.
    private static func setMode(_ mode: UInt16, of path: String) -> (operation: String, code: Int32)? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? nil : ("open", errno) }
        defer { close(fd) }
        return fchmod(fd, mode_t(mode)) == 0 ? nil : ("fchmod", errno)
    }

    /// Removes the temporary files (a failed or abandoned attempt leaves nothing behind).
    public func discard() {
        for file in files { unlink(file.temporary) }
    }

    /// Whether every file can still be committed: its temporary exists, or its final name already does.
    public var isRecoverable: Bool {
        files.allSatisfy { FileOperations.exists($0.temporary) || FileOperations.exists($0.final) }
    }
}
