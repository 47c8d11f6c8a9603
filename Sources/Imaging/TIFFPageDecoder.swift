import CImageCodecs
import CTIFF

/// Decodes the current directory of an open TIFF into a planar `Image`, strip by strip or tile by
/// tile, through libtiff's `TIFFReadEncodedStrip` / `TIFFReadEncodedTile` (which undo compression,
/// predictors and byte order).
enum TIFFPageDecoder {
    /// - Parameters:
    ///   - fileSize: the file's size in bytes, to report data past the end as truncation.
    /// - Throws: `.truncated` when a strip/tile lies past the end of the file, `.unreadable` with
    ///   libtiff's message when decoding fails.
    static func decode(_ handle: TIFFHandle, layout: TIFFPageLayout, page: Int, fileSize: Int) throws(ImagingError) -> Image {
        let tiff = handle.tiff
        let path = handle.path
        try checkDataInsideFile(tiff, path: path, page: page, fileSize: fileSize)

        let width = layout.width, height = layout.height, channels = layout.channels
        let planeSize = width * height
        let bytes = layout.bytesPerSample
        let storedSamples = layout.samplesPerStoredPixel
        let blockRows = layout.tiled ? layout.tileHeight : layout.rowsPerStrip
        let blockColumns = layout.tiled ? layout.tileWidth : width
        let blockRowBytes = blockColumns * storedSamples * bytes
        let blockBytes = blockRows * blockRowBytes
        // Read the planes focusd keeps; chunky data holds every sample in plane 0.
        let storedPlanes = layout.planar ? channels : 1

        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(blockBytes, 16), alignment: 16)
        defer { buffer.deallocate() }
        var pixels = [Float](repeating: 0, count: planeSize * channels)
        handle.clearMessages()

        let failure: ImagingError? = pixels.withUnsafeMutableBufferPointer { destination -> ImagingError? in
            let base = destination.baseAddress!
            // Copies `rows` block rows of `columns` pixels into the image at (x, y) of `plane`.
            func unpack(rows: Int, columns: Int, x: Int, y: Int, plane: Int) {
                let unpackChannels = layout.planar ? 1 : channels
                for row in 0..<rows {
                    let source = buffer + row * blockRowBytes
                    let target = base + plane * planeSize + (y + row) * width + x
                    switch layout.format {
                    case .uint8:
                        cic_unpack_u8(source.assumingMemoryBound(to: UInt8.self), columns, Int32(storedSamples), Int32(unpackChannels), target, planeSize)
                    case .uint16:
                        cic_unpack_u16(source.assumingMemoryBound(to: UInt16.self), columns, Int32(storedSamples), Int32(unpackChannels), target, planeSize)
                    case .float32:
                        cic_unpack_f32(source.assumingMemoryBound(to: Float.self), columns, Int32(storedSamples), Int32(unpackChannels), target, planeSize)
                    }
                }
            }
            func decodeFailure(_ what: String) -> ImagingError {
                let message = handle.errorMessage
                return ImagingError(.unreadable, path: path, page: page,
                                    message: "cannot decode \(what)\(message.isEmpty ? "" : " (libtiff: \(message))"); the file is corrupt, re-export it")
            }
            if layout.tiled {
                for plane in 0..<storedPlanes {
                    for y in stride(from: 0, to: height, by: layout.tileHeight) {
                        for x in stride(from: 0, to: width, by: layout.tileWidth) {
                            let tile = TIFFComputeTile(tiff, UInt32(x), UInt32(y), 0, UInt16(plane))
                            let got = TIFFReadEncodedTile(tiff, tile, buffer, tmsize_t(blockBytes))
                            if got < 0 { return decodeFailure("tile \(tile)") }
                            unpack(rows: min(layout.tileHeight, height - y), columns: min(layout.tileWidth, width - x), x: x, y: y, plane: plane)
                        }
                    }
                }
            } else {
                let stripsPerPlane = (height + layout.rowsPerStrip - 1) / layout.rowsPerStrip
                for plane in 0..<storedPlanes {
                    for index in 0..<stripsPerPlane {
                        let strip = UInt32(plane * stripsPerPlane + index)
                        let y = index * layout.rowsPerStrip
                        let rows = min(layout.rowsPerStrip, height - y)
                        let expected = rows * blockRowBytes
                        let got = Int(TIFFReadEncodedStrip(tiff, strip, buffer, tmsize_t(expected)))
                        if got != expected { return decodeFailure("strip \(strip) (\(got) of \(expected) bytes)") }
                        unpack(rows: rows, columns: width, x: 0, y: y, plane: plane)
                    }
                }
            }
            if layout.invertsGrey, let maximum = layout.format.maximumValue {
                for i in 0..<destination.count { destination[i] = maximum - destination[i] }
            }
            return nil
        }
        if let failure { throw failure }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Checks that every strip or tile of the current page lies inside the file.
    static func checkDataInsideFile(_ tiff: OpaquePointer, path: String, page: Int, fileSize: Int) throws(ImagingError) {
        let count = TIFFIsTiled(tiff) != 0 ? TIFFNumberOfTiles(tiff) : TIFFNumberOfStrips(tiff)
        var end: UInt64 = 0
        for index in 0..<count {
            let offset = TIFFGetStrileOffset(tiff, index)
            let length = TIFFGetStrileByteCount(tiff, index)
            end = max(end, offset &+ length)
        }
        if end > UInt64(fileSize) {
            throw ImagingError(.truncated, path: path, page: page,
                               message: "the image data runs to byte \(end) but the file has only \(fileSize) bytes; the file is incomplete (interrupted copy?), copy it again")
        }
    }
}
