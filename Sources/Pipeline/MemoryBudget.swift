import Foundation
import Fusion
#if canImport(Glibc)
import Glibc
#endif

/// How much memory a fusion may use, and how much one will need — checked after the headers are
/// read and before any pixel is decoded, so a stack too large for the machine (or for the
/// service's `MemoryMax`) is refused with a clear message instead of driving the daemon into the
/// kernel's OOM killer.
public enum MemoryBudget {
    /// The memory this process may use in all: the smallest of the cgroup's limit (v2
    /// `memory.max`, v1 `memory.limit_in_bytes` — systemd's `MemoryMax=`), the address-space limit
    /// (`ulimit -v`), the machine's RAM and `configured` (the daemon's `memory_limit_mib`), with
    /// where it came from.
    public static func limit(configured: Int? = nil) -> (bytes: Int, source: String) {
        var best = (bytes: physicalMemory(), source: "the machine's RAM")
        if let cgroup = cgroupLimit(), cgroup.bytes < best.bytes { best = cgroup }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max, Int(clamping: limit.rlim_cur) < best.bytes {
            best = (Int(clamping: limit.rlim_cur), "the address-space limit (ulimit -v, systemd LimitAS=)")
        }
        if let configured, configured < best.bytes { best = (configured, "memory_limit_mib in the daemon configuration") }
        return best
    }

    /// Bytes this process uses now (resident set).
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// `MemAvailable` from `/proc/meminfo` (what can be allocated now without swapping).
    public static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let number = line.dropFirst("MemAvailable:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    static func physicalMemory() -> Int {
        Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// The limit of this process's cgroup or of the nearest ancestor that has one.
    static func cgroupLimit(procSelf: String = "/proc/self/cgroup", mount: String = "/sys/fs/cgroup") -> (bytes: Int, source: String)? {
        guard let text = try? String(contentsOfFile: procSelf, encoding: .utf8) else { return nil }
        var best: (bytes: Int, source: String)?
        func consider(_ file: String) {
            guard let raw = try? String(contentsOfFile: file, encoding: .utf8) else { return }
            let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            // "max" (v2) or a huge number (v1, no limit) mean none.
            guard let bytes = Int(value), bytes > 0, bytes < 1 << 60 else { return }
            if bytes < best?.bytes ?? Int.max { best = (bytes, "the cgroup memory limit (\(file); systemd MemoryMax=)") }
        }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            var path = String(parts[2])
            let v2 = parts[0] == "0" && parts[1].isEmpty
            let v1 = parts[1].split(separator: ",").contains("memory")
            guard v2 || v1 else { continue }
            while true {
                if v2 { consider("\(mount)\(path == "/" ? "" : path)/memory.max") }
                if v1 { consider("\(mount)/memory\(path == "/" ? "" : path)/memory.limit_in_bytes") }
                guard path != "/" && !path.isEmpty else { break }
                path = (path as NSString).deletingLastPathComponent
            }
        }
        return best
    }
}

extension FusionSettings {
    /// Peak bytes a fusion of `width`×`height` slices with `channels` channels needs with these
    /// settings, the process's own fixed part included. Slices are decoded one at a time, so the
    /// slice count hardly matters; the working set grows with the pixels of one slice. The figures
    /// per pixel are peak resident sizes measured with `/usr/bin/time` on 1024² and 2048² stacks of
    /// 8 grey and 6 RGB slices (README "Memory"), with a fifth added for safety.
    public func estimatedPeakBytes(width: Int, height: Int, channels: Int) -> Int {
        let extra = Double(max(0, channels - 1))
        var perPixel: Double
        let generatorAtFullResolution = engine == .fusiondiff && (composition == .pairwise || selection.modelScale <= 1)
        switch engine {
        case .reference:
            perPixel = 56 + 9 * extra
        case .control:
            perPixel = composition == .pairwise ? 330 + 6 * extra : 128 + 8 * extra
        case .fusiondiff:
            if generatorAtFullResolution {
                perPixel = 377 + 6 * extra
            } else if selection.modelScale == 2 {
                perPixel = 191 + 14 * extra
            } else {
                perPixel = 149 + 12 * extra
            }
        }
        if alignment.model != .none { perPixel += 30 + 5 * extra }
        let pixels = Double(width) * Double(height)
        let fixed = 96.0 * 1_048_576
        return Int(min(Double(Int.max / 2), (fixed + pixels * perPixel) * 1.2))
    }
}

/// A number of bytes for people: "1.4 GiB", "312 MiB".
func byteCount(_ bytes: Int) -> String {
    let mib = Double(bytes) / 1_048_576
    return mib >= 1024 ? String(format: "%.1f GiB", mib / 1024) : String(format: "%.0f MiB", mib)
}
