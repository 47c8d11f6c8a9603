#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a file that is (or may be) still arriving is a structurally complete TIFF: the chain of
/// directories ends properly, every directory entry and every out-of-line tag value lies inside the
/// file, and every page's strips or tiles too.
///
/// A file found by a scan — after a restart of the daemon, say — brings no evidence that its
/// writer finished; a TIFF cut short (mid-page, mid-directory, or with its last values not yet
/// written) shows it.
public enum TIFFCompleteness {
    /// Nil when `path` is complete or is not a TIFF (other formats, and damage other than a short
    /// file, are for the reader to report); otherwise why it looks cut short.
    public static func incompleteReason(_ path: String) -> String? {
        guard let probe = FileProbe(path: path) else { return nil }
        switch probe.tiffHeaderState {
        case .notTIFF: return nil
        case .truncated: return "the file ends inside its TIFF header"
        case .valid: break
        }
        if let reason = directoryChainReason(path, size: probe.size) { return reason }
        do {
            _ = try TIFFFile(path: path, memoryBudget: Int.max / 2)
            return nil
        } catch {
            return error.kind == .truncated ? error.description : nil
        }
    }

    /// Walks the directory chain in the raw bytes: each directory, its entries, their out-of-line
    /// values and the next-directory offset must lie inside the file.
    static func directoryChainReason(_ path: String, size: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func bytes(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard offset.addingReportingOverflow(UInt64(count)).partialValue <= UInt64(size) else { return nil }
            var buffer = [UInt8](repeating: 0, count: count)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return got == count ? buffer : nil
        }
        guard let header = bytes(0, 16) ?? bytes(0, 8) else { return "the file ends inside its TIFF header" }
        let little = header[0] == 0x49
        func integer(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<width {
                let byte = UInt64(b[at + (little ? width - 1 - i : i)])
                value = value << 8 | byte
            }
            return value
        }
        let big = integer(header, 2, 2) == 43
        guard !big || header.count >= 16 else { return "the file ends inside its BigTIFF header" }
        let countWidth = big ? 8 : 2, entryWidth = big ? 20 : 12, offsetWidth = big ? 8 : 4
        var next = big ? integer(header, 8, 8) : integer(header, 4, 4)
        var seen = Set<UInt64>()
        var index = 0
        let typeSizes: [UInt64: UInt64] = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8]
        while next != 0 {
            guard seen.insert(next).inserted, seen.count <= 1_000_000 else { return nil }   // a loop: damage, not a short file
            guard let countBytes = bytes(next, countWidth) else { return "the file ends inside directory \(index)" }
            let count = integer(countBytes, 0, countWidth)
            guard count <= 100_000 else { return nil }
            let tableLength = Int(count) * entryWidth + offsetWidth
            guard let table = bytes(next + UInt64(countWidth), tableLength) else { return "the file ends inside directory \(index)" }
            for entry in 0..<Int(count) {
                let base = entry * entryWidth
                let type = integer(table, base + 2, 2)
                let values = integer(table, base + 4, big ? 8 : 4)
                guard let unit = typeSizes[type] else { continue }
                let (length, overflow) = unit.multipliedReportingOverflow(by: values)
                guard !overflow else { return nil }
                if length > UInt64(offsetWidth) {
                    let at = integer(table, base + (big ? 12 : 8), offsetWidth)
                    guard at.addingReportingOverflow(length).partialValue <= UInt64(size) else {
                        return "the values of a tag of directory \(index) lie beyond the end of the file"
                    }
                }
            }
            next = integer(table, tableLength - offsetWidth, offsetWidth)
            index += 1
        }
        return nil
    }
}
