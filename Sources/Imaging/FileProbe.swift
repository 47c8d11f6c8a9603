import SystemCalls

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The container format of an image file, recognised by its first bytes (never by its name).
enum ImageContainer: Sendable, Equatable {
    case tiff
    case png
    case jpeg
    case unknown
}

/// The first bytes and size of a file: enough to recognise its format and to tell a truncated
/// TIFF from garbage.
struct FileProbe {
    let size: Int
    let header: [UInt8]

    /// Returns nil when the file cannot be opened or is not a regular file.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        size = Int(info.st_size)
        header = Array(bytes.prefix(max(0, got)))
    }

    /// Why `init(path:)` fails for `path`, in words (e.g. "no such file", "permission denied").
    static func failureReason(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return SystemCallError.reason(errno).lowercased() }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "is a folder, not a file" }
        if (info.st_mode & S_IFMT) != S_IFREG { return "not a regular file" }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return SystemCallError.reason(errno).lowercased() }
        _ = close(fd)
        return "cannot be read"
    }

    /// The `.notFound` error for a file `init(path:)` could not open.
    static func openError(_ path: String, page: Int? = nil) -> ImagingError {
        ImagingError(.notFound, path: path, page: page, message: "cannot open the file (\(failureReason(path))); check the path and permissions")
    }

    var container: ImageContainer {
        if header.count >= 4 && (header[0] == 0x49 && header[1] == 0x49 || header[0] == 0x4D && header[1] == 0x4D) {
            let version = header[0] == 0x49 ? UInt16(header[2]) | UInt16(header[3]) << 8 : UInt16(header[2]) << 8 | UInt16(header[3])
            if version == 42 || version == 43 { return .tiff }
        }
        if header.count >= 8 && header.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if header.count >= 3 && header[0] == 0xFF && header[1] == 0xD8 && header[2] == 0xFF { return .jpeg }
        return .unknown
    }

    enum TIFFHeaderState { case notTIFF, truncated, valid }

    /// Whether the TIFF header points at a first directory inside the file.
    var tiffHeaderState: TIFFHeaderState {
        guard container == .tiff else {
            // A file cut inside the 8-byte header still starts with the byte-order mark.
            if header.count < 8 && header.count >= 2 && (header[0] == 0x49 && header[1] == 0x49 || header[0] == 0x4D && header[1] == 0x4D) {
                return .truncated
            }
            return .notTIFF
        }
        let little = header[0] == 0x49
        func integer(_ offset: Int, _ count: Int) -> UInt64? {
            guard offset + count <= header.count else { return nil }
            var value: UInt64 = 0
            for i in 0..<count {
                let byte = UInt64(header[offset + (little ? count - 1 - i : i)])
                value = value << 8 | byte
            }
            return value
        }
        let bigTIFF = integer(2, 2) == 43
        guard let firstDirectory = bigTIFF ? integer(8, 8) : integer(4, 4) else { return .truncated }
        return firstDirectory >= UInt64(size) ? .truncated : .valid
    }
}
