import Foundation
import SystemCalls
#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the daemon performs itself, each atomic or crash-safe.
public enum FileOperations {
    /// The marker in temporary names: `.<final name>.focusd-tmp-<pid>-<random>`.
    public static let temporaryMarker = ".focusd-tmp-"

    /// Writes `data` to `path` atomically: a hidden temporary file in the same folder, fsync, rename, fsync of the folder.
    public static func writeAtomically(_ data: Data, to path: String) throws(SystemCallError) {
        let temp = try writeTemporary(data, for: path)
        if rename(temp, path) != 0 {
            let failure = SystemCallError("rename", path: path, code: errno)
            unlink(temp)
            throw failure
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// `path` made absolute against the current folder and standardized.
    public static func absolutePath(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }

    /// A fresh hidden temporary name next to `path`: `.<name>.focusd-tmp-<pid>-<random>`.
    public static func temporaryPath(for path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        return (dir as NSString).appendingPathComponent(".\(name)\(temporaryMarker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Writes `data` to a new hidden temporary file next to `path` (`.<name>.focusd-tmp-<pid>-<random>`)
    /// and fsyncs it; returns its path. On error nothing is left behind.
    public static func writeTemporary(_ data: Data, for path: String) throws(SystemCallError) -> String {
        let temp = temporaryPath(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemCallError("create", path: temp, code: errno) }
        var failure: SystemCallError?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = SystemCall.retryingInterrupts { write(fd, raw.baseAddress! + offset, raw.count - offset) }
                if n < 0 {
                    failure = SystemCallError("write", path: temp, code: errno)
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = SystemCallError("fsync", path: temp, code: errno) }
        if close(fd) != 0, failure == nil { failure = SystemCallError("close", path: temp, code: errno) }
        if let failure {
            unlink(temp)
            throw failure
        }
        return temp
    }

    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// `mkdir -p`.
    public static func createDirectory(_ path: String) throws(SystemCallError) {
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { return }
            throw SystemCallError("mkdir", path: path, code: ENOTDIR)
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try createDirectory(parent) }
        if mkdir(path, 0o755) != 0, errno != EEXIST {
            throw SystemCallError("mkdir", path: path, code: errno)
        }
    }

    /// A path in `folder` for `name` that does not exist yet: `name`, else `name-2`, `name-3`, … (before the extension).
    public static func freePath(in folder: String, name: String) -> String {
        var candidate = (folder as NSString).appendingPathComponent(name)
        var n = 2
        let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
        while exists(candidate) {
            candidate = (folder as NSString).appendingPathComponent(ext.isEmpty ? "\(base)-\(n)" : "\(base)-\(n).\(ext)")
            n += 1
        }
        return candidate
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Moves `source` (file or folder) to `destination` (which must not exist): rename, or copy and
    /// delete across file systems.
    public static func move(_ source: String, to destination: String) throws(SystemCallError) {
        if rename(source, destination) == 0 {
            syncDirectory((destination as NSString).deletingLastPathComponent)
            return
        }
        let code = errno
        guard code == EXDEV else { throw SystemCallError("rename", path: source, code: code) }
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
            try FileManager.default.removeItem(atPath: source)
        } catch {
            throw SystemCallError("move", path: source, code: EIO)
        }
    }

    /// Removes temporary files left by an interrupted write in `folder` (hidden names with a temporary marker).
    /// Returns the paths removed.
    public static func removeTemporaries(in folder: String, markers: [String]) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(".") && markers.contains(where: { name.contains($0) }) {
            let path = (folder as NSString).appendingPathComponent(name)
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// One name in a folder listing: the name, or nil when it is not valid UTF-8 (then `display`
    /// shows it with the bad bytes as `\xNN`).
    public struct DirectoryEntry: Sendable, Equatable {
        public let name: String?
        public let display: String
    }

    /// The names in `dir` (without `.` and `..`), straight from `readdir`, so a name that is not valid
    /// UTF-8 is reported instead of silently mangled; nil when the folder cannot be opened.
    public static func listDirectory(_ dir: String) -> [DirectoryEntry]? {
        guard let handle = opendir(dir) else { return nil }
        defer { closedir(handle) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(handle) {
            let bytes: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            if let name = String(validating: bytes, as: UTF8.self) {
                entries.append(DirectoryEntry(name: name, display: name))
            } else {
                let display = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined()
                entries.append(DirectoryEntry(name: nil, display: display))
            }
        }
        return entries
    }

    /// What is at a path (not following symbolic links).
    public enum Entry: Sendable, Equatable {
        case missing
        /// A regular file: its signature and how many names (hard links) it has.
        case regular(FileSignature, links: Int)
        case directory
        /// Symbolic link, FIFO, socket, character or block device: the kind in words.
        case other(String)
    }

    public static func inspect(_ path: String) -> Entry {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return .regular(FileSignature(size: Int(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9),
                            links: Int(st.st_nlink))
        case S_IFDIR: return .directory
        case S_IFLNK: return .other("a symbolic link")
        case S_IFIFO: return .other("a FIFO")
        case S_IFSOCK: return .other("a socket")
        case S_IFCHR: return .other("a character device")
        case S_IFBLK: return .other("a block device")
        default: return .other("not a regular file")
        }
    }

    /// Size and mtime of a regular file (not following symbolic links); nil when absent or not a regular file.
    public static func signature(_ path: String) -> FileSignature? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileSignature(size: Int(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9)
    }
}

extension FileOperations {
    /// Size and mtime of whatever is at `path` (not following symbolic links); nil when nothing is there.
    public static func linkSignature(_ path: String) -> FileSignature? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return FileSignature(size: Int(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9)
    }

    /// Gives `destination` the content of `source`: a hard link, or a copy (fsynced, atomic) where
    /// links are not possible (another file system). `destination` must not exist.
    public static func linkOrCopy(_ source: String, to destination: String) throws(SystemCallError) {
        if link(source, destination) == 0 { return }
        let code = errno
        guard [EXDEV, EPERM, EMLINK, ENOTSUP].contains(code) else {
            throw SystemCallError("link", path: destination, code: code)
        }
        guard let data = FileManager.default.contents(atPath: source) else {
            throw SystemCallError("read", path: source, code: EIO)
        }
        try writeAtomically(data, to: destination)
    }
}

/// A file's identity for stability checks: size and modification time.
public struct FileSignature: Sendable, Equatable, Hashable, Codable {
    public var size: Int
    /// Seconds since 1970, with sub-second precision.
    public var mtime: Double
    public init(size: Int, mtime: Double) {
        self.size = size
        self.mtime = mtime
    }
}
