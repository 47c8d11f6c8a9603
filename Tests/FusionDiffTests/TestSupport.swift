import Foundation

/// Paths and small readers shared by the FusionDiff tests.
enum TestData {
    /// `<package root>/../shared`, derived from this file's location.
    static var shared: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // FusionDiffTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared")
    }

    static var golden: URL { shared.appendingPathComponent("golden/fusiondiff-tiny") }

    /// Reads a little-endian float32 `.npy` file: returns its shape and values.
    static func readNPY(_ url: URL) throws -> (shape: [Int], values: [Float]) {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(bytes: bytes[1...5], encoding: .ascii) == "NUMPY" else {
            throw NPYError(message: "\(url.path): not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .ascii) ?? ""
        guard header.contains("'<f4'"), header.contains("'fortran_order': False") else {
            throw NPYError(message: "\(url.path): expected C-order little-endian float32, header \(header)")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw NPYError(message: "\(url.path): no shape in header")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength
        guard bytes.count >= start + 4 * count else { throw NPYError(message: "\(url.path): truncated") }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + 4 * i
            let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            values[i] = Float(bitPattern: bits)
        }
        return (shape, values)
    }

    struct NPYError: Error, CustomStringConvertible { let message: String; var description: String { message } }
}
