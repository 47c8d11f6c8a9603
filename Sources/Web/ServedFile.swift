import Foundation

/// A file the page may send, opened safely: the file's path must lie inside one of the folders the
/// configuration names, the last component must not be a symbolic link (`O_NOFOLLOW`), what was
/// opened must be a regular file, and the opened file's real path — after every link in its folders
/// is resolved — must still be inside the real path of that folder. Whatever fails is "not found".
final class ServedFile: @unchecked Sendable {
    let descriptor: Int32
    let size: Int
    /// Modification time, nanoseconds since 1970, and inode: with the size, the file's version.
    let mtimeNanoseconds: Int64
    let inode: UInt64
    let path: String

    /// Opens `path` if it lies inside `folder` (both absolute); nil otherwise.
    init?(path: String, inside folder: String) {
        let standardPath = (path as NSString).standardizingPath
        let standardFolder = (folder as NSString).standardizingPath
        guard path.hasPrefix("/"), !path.contains("\0"), Self.isInside(standardPath, standardFolder) else { return nil }
        let fd = open(standardPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
              let opened = Self.openedPath(fd), let realFolder = Self.realPath(standardFolder),
              Self.isInside(opened, realFolder) else {
            close(fd)
            return nil
        }
        descriptor = fd
        size = Int(st.st_size)
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        inode = UInt64(st.st_ino)
        self.path = standardPath
        // Blocking reads from here on.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    }

    deinit { close(descriptor) }

    /// Reads up to `count` bytes from `offset`; empty at the end.
    func read(offset: Int, count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + got, count - got, off_t(offset + got)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        return Array(buffer.prefix(got))
    }

    /// The whole file (for small files: reasons, sidecars).
    func readAll(limit: Int = 16 << 20) -> [UInt8] { read(offset: 0, count: min(size, limit)) }

    /// Whether `path` equals `folder` or lies below it (both standardized, absolute).
    static func isInside(_ path: String, _ folder: String) -> Bool {
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        return path.hasPrefix(base) && path.count > base.count
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Where the kernel says the open file is (every link resolved).
    private static func openedPath(_ fd: Int32) -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        var buffer = [CChar](repeating: 0, count: Int(MAXPATHLEN) + 1)
        guard fcntl(fd, F_GETPATH, &buffer) == 0 else { return nil }
        return String(cString: buffer)
        #endif
    }
}
