#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CImageCodecs
import SystemCalls

/// A stack in ImageJ's layout for files over 4 GiB: only the first page has a TIFF directory; its
/// header says `images=N`, and the N images follow each other uncompressed from the first
/// page's data on. Image p starts at `start + p · pageBytes`.
public struct ImageJRawStack: SliceSource {
    public let path: String
    /// Image index (in ImageJ's czt order) of each slice.
    public let images: [Int]
    public let geometry: SliceGeometry
    public let metadata: ImageMetadata
    let layout: TIFFPageLayout
    let data: TIFFFile.ContiguousPageData

    public var count: Int { images.count }

    public func sliceName(at index: Int) -> String { "\(path) image \(images[index])" }

    /// - Throws: `ImagingError` `.truncated` when the file ends before the image does.
    public func slice(at index: Int) throws -> Image {
        try read(image: images[index])
    }

    private func read(image: Int) throws(ImagingError) -> Image {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ImagingError(.notFound, path: path, page: image, message: "cannot open the file (\(SystemCallError.reason(errno))); check the path")
        }
        defer { _ = close(fd) }
        let bytes = data.pageBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 16), alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        let offset = Int(data.start) + image * bytes
        while done < bytes {
            let got = SystemCall.retryingInterrupts { pread(fd, buffer + done, bytes - done, off_t(offset + done)) }
            guard got > 0 else {
                throw ImagingError(got == 0 ? .truncated : .unreadable, path: path, page: image,
                                   message: got == 0 ? "the file ends inside image \(image) (ImageJ raw layout); the file is incomplete, copy it again"
                                                     : "read error (\(SystemCallError.reason(errno)))")
            }
            done += got
        }
        let samples = bytes / layout.bytesPerSample
        if data.byteSwapped && layout.bytesPerSample > 1 {
            cic_swap_bytes(buffer, samples, Int32(layout.bytesPerSample))
        }
        let planeSize = layout.width * layout.height
        var pixels = [Float](repeating: 0, count: planeSize * layout.channels)
        pixels.withUnsafeMutableBufferPointer { destination in
            let spp = Int32(layout.samplesPerPixel), channels = Int32(layout.channels)
            switch layout.format {
            case .uint8: cic_unpack_u8(buffer.assumingMemoryBound(to: UInt8.self), planeSize, spp, channels, destination.baseAddress!, planeSize)
            case .uint16: cic_unpack_u16(buffer.assumingMemoryBound(to: UInt16.self), planeSize, spp, channels, destination.baseAddress!, planeSize)
            case .float32: cic_unpack_f32(buffer.assumingMemoryBound(to: Float.self), planeSize, spp, channels, destination.baseAddress!, planeSize)
            }
            if layout.invertsGrey, let maximum = layout.format.maximumValue {
                for i in 0..<destination.count { destination[i] = maximum - destination[i] }
            }
        }
        return Image(width: layout.width, height: layout.height, channels: layout.channels, pixels: pixels)
    }
}
