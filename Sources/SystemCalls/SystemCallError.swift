#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, on which path, and the `errno` it set.
///
/// The one error type for POSIX failures in focusd (file writes, renames, directory creation,
/// hashing reads, inotify), so the system's text is formatted in one place: `reason` is
/// `strerror(code)`, and `description` reads `call path: reason`, with a hint for the limits a
/// user can raise.
public struct SystemCallError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The call that failed (`open`, `rename`, `inotify_add_watch`, …), or what was being done.
    public let call: String
    /// The path the call was given; empty when there is none.
    public let path: String
    /// The `errno` value.
    public let code: Int32

    public init(_ call: String, path: String, code: Int32) {
        self.call = call
        self.path = path
        self.code = code
    }

    /// The failure of `call` on `path` with the calling thread's current `errno`.
    public static func last(_ call: String, path: String) -> SystemCallError {
        SystemCallError(call, path: path, code: errno)
    }

    /// The system's text for `code` (`strerror`).
    public static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// The system's text for this error's code.
    public var reason: String { Self.reason(code) }

    /// What the user can do, for the limits that have a setting.
    public var hint: String? {
        guard call.hasPrefix("inotify") else { return nil }
        switch code {
        case ENOSPC: return "raise fs.inotify.max_user_watches (sysctl)"
        case EMFILE: return "raise fs.inotify.max_user_instances"
        default: return nil
        }
    }

    public var description: String {
        let subject = path.isEmpty ? call : "\(call) \(path)"
        return "\(subject): \(reason)" + (hint.map { "; \($0)" } ?? "")
    }

    /// Whether retrying later may help (disk full, I/O error, out of memory, too many files).
    public var isTransient: Bool { [ENOSPC, EIO, ENOMEM, EMFILE, ENFILE, EDQUOT, EAGAIN, EBUSY].contains(code) }
}

/// Helpers for calling POSIX directly.
public enum SystemCall {
    /// Runs `body` again for as long as it fails with `EINTR` (a signal arrived before it could
    /// finish), so callers see only real failures: returns the first result that is not −1 with
    /// `errno == EINTR`.
    public static func retryingInterrupts<Result: SignedInteger>(_ body: () -> Result) -> Result {
        while true {
            let result = body()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }
}
