import CImageCodecs

/// PNG and JPEG reading through the C shim (libpng, libjpeg): header first, a budget check, then
/// decoding into one buffer and unpacking to planar `Float`.
enum CodecReader {
    enum Codec { case png, jpeg }

    struct Header {
        let codec: Codec
        let info: cic_info
        var geometry: SliceGeometry {
            SliceGeometry(width: Int(info.width), height: Int(info.height), channels: Int(info.channels),
                          format: info.bit_depth == 16 ? .uint16 : .uint8)
        }
    }

    private static func error(_ status: Int32, path: String, codec: Codec, text: String) -> ImagingError {
        let name = codec == .png ? "PNG" : "JPEG"
        switch Int(status) {
        case Int(CIC_NOT_FOUND):
            return ImagingError(.notFound, path: path, message: "\(text); check the path and permissions")
        case Int(CIC_TRUNCATED):
            return ImagingError(.truncated, path: path, message: "the \(name) data ends early (\(text)); the file is incomplete, copy it again")
        case Int(CIC_UNSUPPORTED):
            return ImagingError(.unsupportedLayout, path: path, message: text)
        default:
            return ImagingError(.unreadable, path: path, message: "corrupt \(name) (\(text)); re-export the file")
        }
    }

    static func header(path: String, codec: Codec, memoryBudget: Int) throws(ImagingError) -> Header {
        var info = cic_info()
        var message = [CChar](repeating: 0, count: 512)
        let status = codec == .png
            ? cic_png_read_info(path, &info, &message, message.count)
            : cic_jpeg_read_info(path, &info, &message, message.count)
        guard status == CIC_OK else {
            throw error(status, path: path, codec: codec, text: String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        let header = Header(codec: codec, info: info)
        let g = header.geometry
        guard g.width > 0, g.height > 0, g.channels == 1 || g.channels == 3 else {
            throw ImagingError(.unsupportedLayout, path: path,
                               message: "a \(g.width)×\(g.height) image with \(g.channels) channels is not supported; convert to 8/16-bit grey or RGB")
        }
        let pixels = g.width.multipliedReportingOverflow(by: g.height)
        let bytes = pixels.partialValue.multipliedReportingOverflow(by: g.channels * (MemoryLayout<Float>.size + g.format.bitsPerSample / 8))
        if pixels.overflow || bytes.overflow || bytes.partialValue > memoryBudget {
            throw ImagingError(.tooLarge, path: path,
                               message: "a \(g.width)×\(g.height)×\(g.channels) image needs more than the memory budget of \(memoryBudget >> 20) MiB; crop or tile the image, or raise the budget")
        }
        return header
    }

    static func decode(path: String, header: Header) throws(ImagingError) -> Image {
        let g = header.geometry
        let planeSize = g.width * g.height
        let byteCount = planeSize * g.channels * (g.format.bitsPerSample / 8)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 16), alignment: 16)
        defer { buffer.deallocate() }
        var message = [CChar](repeating: 0, count: 512)
        var info = header.info
        let status = header.codec == .png
            ? cic_png_decode(path, &info, buffer, byteCount, &message, message.count)
            : cic_jpeg_decode(path, &info, buffer.assumingMemoryBound(to: UInt8.self), byteCount, &message, message.count)
        guard status == CIC_OK else {
            throw error(status, path: path, codec: header.codec, text: String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        var pixels = [Float](repeating: 0, count: planeSize * g.channels)
        pixels.withUnsafeMutableBufferPointer { destination in
            let channels = Int32(g.channels)
            if g.format == .uint16 {
                cic_unpack_u16(buffer.assumingMemoryBound(to: UInt16.self), planeSize, channels, channels, destination.baseAddress!, planeSize)
            } else {
                cic_unpack_u8(buffer.assumingMemoryBound(to: UInt8.self), planeSize, channels, channels, destination.baseAddress!, planeSize)
            }
        }
        return Image(width: g.width, height: g.height, channels: g.channels, pixels: pixels)
    }
}
