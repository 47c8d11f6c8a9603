import CInotify
import Foundation
import SystemCalls
#if canImport(Glibc)
import Glibc
#endif

/// A file-system change under a watched folder, as the stack detector needs it.
public enum WatchEvent: Sendable, Equatable {
    /// Created or written to (a writer is active): stat it, it is not yet closed.
    case modified(String)
    /// Closed after writing, or moved in: stat it, it is closed.
    case closed(String)
    /// Metadata changed (mtime set, permissions): stat it again; its open/closed state is unchanged.
    case touched(String)
    /// A new folder (created or moved in): scan it, it may already hold files.
    case folderAppeared(String)
    /// Deleted or moved away (file or folder).
    case removed(String)
    /// The kernel's event queue overflowed, or a watch was lost: rescan everything.
    case overflow
}

/// Watches folder trees recursively with the kernel's inotify API.
///
/// Why the kernel API and not libinotifytools (3.22, Debian's libinotifytools0; no longer linked,
/// see systemd/README.md): the library keeps one process-wide inotify descriptor (`static int
/// inotify_fd`) and its watch-descriptor → path tables in global red-black trees, and uses `static`
/// locals inside `inotifytools_watch_recursively`, so it cannot serve two independent watchers (two
/// drop folders' daemons in one test process, a watcher restarted while the old one drains) and is
/// not safe from more than one thread. Its recursive watch has no depth limit — a hostile tree
/// thousands of levels deep would exhaust `max_user_watches`, where only the drop folder and its
/// immediate subfolders are needed — and `inotifytools_next_event`'s timeout is whole seconds. The
/// kernel API is a file descriptor: owned here, closed in `deinit`, polled with a 100 ms timeout so
/// that shutdown is prompt; symbolic links are never followed (`IN_DONT_FOLLOW`, `lstat`).
///
/// Not thread-safe: one thread at a time uses it (hence `@unchecked Sendable`, to hand it to that thread).
public final class InotifyWatcher: @unchecked Sendable {
    private let fd: Int32
    private var pathsByWatch: [Int32: String] = [:]
    /// Each watched folder's depth below the root it was watched for (0 = the root).
    private var depthByWatch: [Int32: Int] = [:]
    /// How deep below a root folders are watched (see `watchRecursively`).
    private var maxDepth = 1
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    static let fileMask: UInt32 = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY
                                         | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB) | UInt32(IN_ONLYDIR)

    public init() throws(SystemCallError) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw SystemCallError("inotify_init1", path: "", code: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Watches `root` and the folders below it down to `maxDepth` levels (not following symbolic links).
    /// Returns the folders now watched.
    ///
    /// Stacks are files in a drop folder or in its immediate subfolders, so `maxDepth` 1 (the default)
    /// watches all the detector uses. Deeper folders are not watched: a hostile tree thousands of
    /// levels deep (or with paths over PATH_MAX) cannot exhaust the inotify watches or stop the daemon;
    /// a folder appearing below the limit is reported (`folderAppeared`) but not watched.
    @discardableResult
    public func watchRecursively(_ root: String, maxDepth: Int = 1) throws(SystemCallError) -> [String] {
        self.maxDepth = maxDepth
        return try watch(root, depth: 0, isRoot: true)
    }

    private func watch(_ top: String, depth topDepth: Int, isRoot: Bool) throws(SystemCallError) -> [String] {
        var added: [String] = []
        var pending = [(top, topDepth)]
        while let (dir, depth) = pending.popLast() {
            let wd = inotify_add_watch(fd, dir, Self.fileMask | UInt32(IN_DONT_FOLLOW))
            if wd < 0 {
                let code = errno
                if (isRoot && dir == top) || (code != ENOENT && code != ENOTDIR && code != ENAMETOOLONG && code != EACCES) {
                    throw SystemCallError("inotify_add_watch", path: dir, code: code)
                }
                continue
            }
            pathsByWatch[wd] = dir
            depthByWatch[wd] = depth
            added.append(dir)
            guard depth < maxDepth, let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for name in names {
                let child = (dir as NSString).appendingPathComponent(name)
                var st = stat()
                if lstat(child, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { pending.append((child, depth + 1)) }
            }
        }
        return added
    }

    /// Waits up to `timeoutMilliseconds` for events and returns them (absolute paths); empty on timeout.
    /// New subfolders are watched before their `folderAppeared` event is returned.
    public func next(timeoutMilliseconds: Int32) throws(SystemCallError) -> [WatchEvent] {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw SystemCallError("poll", path: "inotify", code: errno)
        }
        guard ready > 0 else { return [] }
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EAGAIN || errno == EINTR { return [] }
            throw SystemCallError("read", path: "inotify", code: errno)
        }
        var events: [WatchEvent] = []
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= n {
            let (wd, mask, nameLength) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                let e = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                return (e.wd, e.mask, Int(e.len))
            }
            var name = ""
            if nameLength > 0 {
                let bytes = buffer[(offset + headerSize)..<(offset + headerSize + nameLength)]
                name = String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            offset += headerSize + nameLength
            events.append(contentsOf: translate(wd: wd, mask: mask, name: name))
        }
        return events
    }

    private func translate(wd: Int32, mask: UInt32, name: String) -> [WatchEvent] {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 { return [.overflow] }
        if mask & UInt32(IN_IGNORED) != 0 {
            pathsByWatch[wd] = nil
            depthByWatch[wd] = nil
            return []
        }
        guard let dir = pathsByWatch[wd] else { return [] }
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
            // The watched folder itself went away; its parent reports the removal.
            if mask & UInt32(IN_MOVE_SELF) != 0 { inotify_rm_watch(fd, wd) }
            pathsByWatch[wd] = nil
            depthByWatch[wd] = nil
            return []
        }
        guard !name.isEmpty else { return [] }
        let path = (dir as NSString).appendingPathComponent(name)
        let isDir = mask & UInt32(IN_ISDIR) != 0
        if isDir {
            if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                let depth = (depthByWatch[wd] ?? 0) + 1
                if depth <= maxDepth {
                    do { _ = try watch(path, depth: depth, isRoot: false) } catch { return [.overflow] }
                }
                return [.folderAppeared(path)]
            }
            if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                // Drop the watches of a folder moved away: its events would carry a stale path.
                let prefix = path + "/"
                for (w, p) in pathsByWatch where p == path || p.hasPrefix(prefix) {
                    inotify_rm_watch(fd, w)
                    pathsByWatch[w] = nil
                    depthByWatch[w] = nil
                }
                return [.removed(path)]
            }
            return []
        }
        if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 { return [.removed(path)] }
        if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 { return [.closed(path)] }
        if mask & UInt32(IN_CREATE | IN_MODIFY) != 0 { return [.modified(path)] }
        if mask & UInt32(IN_ATTRIB) != 0 { return [.touched(path)] }
        return []
    }
}
