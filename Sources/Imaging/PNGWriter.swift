import CImageCodecs

/// Writes 8-bit PNG files through libpng (the C shim `cic_png_write`): thumbnails and previews.
public enum PNGWriter {
    /// Writes `samples`, rows top to bottom of `width` × `channels` interleaved 8-bit samples
    /// (`channels` 1 grey, 3 RGB), to `path`, replacing what is there.
    /// - Throws: `ImagingError(.writeFailed)` with libpng's or the file system's message.
    public static func write(_ samples: [UInt8], width: Int, height: Int, channels: Int, to path: String) throws(ImagingError) {
        precondition(channels == 1 || channels == 3, "PNGWriter writes grey or RGB")
        precondition(samples.count == width * height * channels, "samples must be width × height × channels")
        var message = [CChar](repeating: 0, count: 512)
        let status = samples.withUnsafeBytes { bytes in
            cic_png_write(path, UInt32(width), UInt32(height), channels == 3 ? 2 : 0, 8, bytes.baseAddress,
                          nil, 0, -1, &message, message.count)
        }
        guard status == CIC_OK else {
            let text = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImagingError(.writeFailed, path: path, message: "cannot write the PNG (\(text)); check the folder exists, is writable and has free space")
        }
    }
}
