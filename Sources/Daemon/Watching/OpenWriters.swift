import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which files some process has open for writing, from `/proc/<pid>/fd` and `/proc/<pid>/fdinfo`.
///
/// The evidence a live `IN_CLOSE_WRITE` gives — "the writer let go" — is not there for a file found
/// by a scan (after a restart or a queue overflow): an instrument may be pausing between two pages
/// with the file open. This probe looks for such writers. It sees the processes the daemon may
/// inspect (same user, or with `CAP_SYS_PTRACE`); a writer on another machine (SMB, NFS) is
/// invisible to it, which is why the daemon also checks, before committing an output set, that the
/// inputs are still byte for byte what was fused, and fuses a changed input again.
public enum OpenWriters {
    /// The subset of `paths` (absolute) open for writing (`O_WRONLY` or `O_RDWR`) by any visible
    /// process other than this one. Paths are compared by device and inode, so a file renamed after
    /// it was opened is still recognised.
    public static func openForWriting(_ paths: [String], procRoot: String = "/proc") -> Set<String> {
        var wanted: [FileID: String] = [:]
        for path in paths {
            if let id = FileID(path: path, follow: false) { wanted[id] = path }
        }
        guard !wanted.isEmpty, let processes = opendir(procRoot) else { return [] }
        defer { closedir(processes) }
        let me = getpid()
        var found = Set<String>()
        while let entry = readdir(processes) {
            let name = entryName(entry)
            guard let pid = Int32(name), pid != me else { continue }
            let fdFolder = "\(procRoot)/\(name)/fd"
            guard let fds = opendir(fdFolder) else { continue }
            while let fdEntry = readdir(fds) {
                let fd = entryName(fdEntry)
                guard Int(fd) != nil else { continue }
                // stat follows the magic link to the open file itself.
                guard let id = FileID(path: "\(fdFolder)/\(fd)", follow: true), let path = wanted[id] else { continue }
                if isWriteMode(fdinfo: "\(procRoot)/\(name)/fdinfo/\(fd)") { found.insert(path) }
            }
            closedir(fds)
            if found.count == wanted.count { break }
        }
        return found
    }

    /// Whether the `flags:` line of an fdinfo file has write access. Unreadable: assumed writing
    /// (the safe side: the file is left alone a little longer).
    static func isWriteMode(fdinfo path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return true }
        for line in text.split(separator: "\n") where line.hasPrefix("flags:") {
            let value = line.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces)
            guard let flags = Int32(value, radix: 8) else { return true }
            return flags & O_ACCMODE != O_RDONLY
        }
        return true
    }

    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64
        init?(path: String, follow: Bool) {
            var st = stat()
            guard (follow ? stat(path, &st) : lstat(path, &st)) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
        }
    }

    private static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: &entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
