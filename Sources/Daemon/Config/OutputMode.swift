import Foundation

/// The permission bits of output files (`output_mode:`).
public enum OutputMode {
    /// Parses octal permission bits (`644`, `0644`, `0o644`); nil unless within 0…0777 with owner
    /// read and write (focusd re-reads its outputs to recognise duplicates).
    public static func parse(_ text: String) -> UInt16? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard (3...4).contains(digits.count), let mode = UInt16(digits, radix: 8),
              mode <= 0o777, mode & 0o600 == 0o600 else { return nil }
        return mode
    }
}
