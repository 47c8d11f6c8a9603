#if canImport(Glibc)
import Glibc
#endif
import Testing
import SystemCalls

@Suite("System call errors")
struct SystemCallErrorTests {
    @Test("the message names the call, the path and the system's reason")
    func message() {
        let error = SystemCallError("rename", path: "/data/out.tif", code: ENOENT)
        #expect(error.description == "rename /data/out.tif: \(String(cString: strerror(ENOENT)))")
        #expect(SystemCallError("inotify_init1", path: "", code: EINVAL).description.hasPrefix("inotify_init1: "))
    }

    @Test("inotify limits say which setting to raise")
    func hints() {
        #expect(SystemCallError("inotify_add_watch", path: "/drop", code: ENOSPC).description.hasSuffix("; raise fs.inotify.max_user_watches (sysctl)"))
        #expect(SystemCallError("inotify_init1", path: "", code: EMFILE).description.hasSuffix("; raise fs.inotify.max_user_instances"))
        #expect(SystemCallError("write", path: "/out", code: ENOSPC).hint == nil)
    }

    @Test("disk full, I/O errors and exhausted limits are transient; a missing file is not")
    func transient() {
        #expect(SystemCallError("write", path: "/x", code: ENOSPC).isTransient)
        #expect(SystemCallError("read", path: "/x", code: EIO).isTransient)
        #expect(!SystemCallError("open", path: "/x", code: ENOENT).isTransient)
    }

    @Test("the calling thread's errno is captured")
    func last() {
        #expect(open("/nonexistent/focusd-test", O_RDONLY) == -1)
        #expect(SystemCallError.last("open", path: "/nonexistent/focusd-test").code == ENOENT)
    }

    @Test("EINTR is retried, other results are returned")
    func retry() {
        var calls = 0
        let result: Int32 = SystemCall.retryingInterrupts {
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 7
        }
        #expect(result == 7 && calls == 3)
        errno = EBADF
        #expect(SystemCall.retryingInterrupts { Int32(-1) } == -1)
    }
}
