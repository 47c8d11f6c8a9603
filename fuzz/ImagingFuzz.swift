// libFuzzer target: the TIFF/PNG/JPEG readers and the stack loader (module Imaging), built by
// scripts/fuzz.sh with `swiftc -sanitize=fuzzer,address`. The readers take paths, so each input is
// written to a file in /dev/shm first. Every outcome but a typed ImagingError (or success) is a bug:
// a trap, an ASan report, a hang (-timeout) or an allocation over -rss_limit_mb / -malloc_limit_mb.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var scratch: String = ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImaging(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if scratch.isEmpty { scratch = "/dev/shm/focusd-fuzz-imaging-\(getpid()).img" }
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    var off = 0
    while off < size {
        let n = write(fd, data + off, size - off)
        if n <= 0 { break }
        off += n
    }
    close(fd)
    // 64 MiB budget: the readers must refuse bigger images from their headers, before allocating.
    let budget = 64 << 20
    _ = try? ImageFile.header(scratch, memoryBudgetBytes: budget)
    _ = try? ImageFile.read(scratch, memoryBudgetBytes: budget)
    if let sources = try? StackLoader(memoryBudgetBytes: budget).open([scratch]) {
        for source in sources {
            for i in 0..<min(source.count, 8) {
                _ = source.sliceName(at: i)
                _ = try? source.slice(at: i)
            }
        }
    }
    return 0
}
