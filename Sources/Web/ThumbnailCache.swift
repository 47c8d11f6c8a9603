import Checksum
import Foundation
import Imaging
import Logging

/// Thumbnails made once per version of an output and kept as PNG files in the cache folder
/// (beside the journal, never in an output folder).
///
/// The cache name is the SHA-256 of the output's path, size, modification time (ns), inode, the
/// thumbnail size and style: an output replaced under the same name (a stack fused again) gets a
/// new thumbnail, and the old one is simply never asked for again.
final class ThumbnailCache: Sendable {
    let directory: String
    /// Longer side of a thumbnail in pixels.
    let maxSide: Int
    private let logger: Logger

    init(directory: String, maxSide: Int = 320, logger: Logger) {
        self.directory = directory
        self.maxSide = maxSide
        self.logger = logger
    }

    /// The cache file for this version of `file` in `style`.
    func cachePath(for file: ServedFile, style: ThumbnailStyle) -> String {
        let key = "v1\n\(file.path)\n\(file.size)\n\(file.mtimeNanoseconds)\n\(file.inode)\n\(maxSide)\n\(style.key)"
        return (directory as NSString).appendingPathComponent(SHA256.hex(Array(key.utf8)) + ".png")
    }

    /// The PNG bytes of the thumbnail of `file`: read from the cache, or made, written there and returned.
    /// - Throws: `ImagingError` when the output cannot be decoded or the thumbnail not written.
    func png(for file: ServedFile, style: ThumbnailStyle) throws(ImagingError) -> [UInt8] {
        let path = cachePath(for: file, style: style)
        if let cached = FileManager.default.contents(atPath: path) { return [UInt8](cached) }
        let started = Date()
        // Decode what was opened and checked, not whatever the name points at by now.
        let (image, format, _) = try ImageFile.read(Self.descriptorPath(file), memoryBudgetBytes: 2 << 30)
        let thumbnail = ThumbnailRenderer.render(image, format: format, style: style, maxSide: maxSide)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = (directory as NSString).appendingPathComponent(".\(UUID().uuidString).png.part")
        try PNGWriter.write(thumbnail.rgb, width: thumbnail.width, height: thumbnail.height, channels: 3, to: temporary)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImagingError(.writeFailed, path: path, message: "cannot rename the thumbnail into the cache: \(reason)")
        }
        logger.debug("thumbnail made", metadata: ["output": "\(file.path)", "seconds": "\(Date().timeIntervalSince(started))"])
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImagingError(.notFound, path: path, message: "the thumbnail vanished from the cache just after it was written")
        }
        return [UInt8](data)
    }

    /// A path that opens the very file `file` holds open.
    private static func descriptorPath(_ file: ServedFile) -> String {
        #if os(Linux)
        return "/proc/self/fd/\(file.descriptor)"
        #else
        return file.path
        #endif
    }
}
