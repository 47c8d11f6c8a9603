import CTIFF
import Foundation
@testable import Imaging

/// One page for `writeRawTIFF`: any layout libtiff can store, written directly with libtiff
/// (independently of `TIFFWriter`), so the reader is tested against layouts our writer never makes.
struct RawPage {
    var width: Int
    var height: Int
    var samplesPerPixel: Int = 1
    var bitsPerSample: Int = 8
    var sampleFormat: Int32 = SAMPLEFORMAT_UINT
    var photometric: Int32 = PHOTOMETRIC_MINISBLACK
    var planar = false
    /// Tile width and height (multiples of 16), or nil for strips.
    var tile: (width: Int, height: Int)? = nil
    var rowsPerStrip: Int? = nil
    var compression: Int32 = COMPRESSION_NONE
    var extraSamples: [UInt16] = []
    var description: String? = nil
    var subfileType: UInt32 = 0
    /// Interleaved ("chunky") samples: `samples[(y * width + x) * samplesPerPixel + s]`; nil writes
    /// zero bytes of the size libtiff expects (for layouts tested only for rejection).
    var samples: [Double]? = nil
    /// Extra tag setup run after the standard tags (e.g. a colour map or JPEG colour mode).
    var configure: ((OpaquePointer) -> Void)? = nil
}

/// Writes `pages` as one TIFF with libtiff (BigTIFF when `bigTIFF`).
func writeRawTIFF(_ path: String, pages: [RawPage], bigTIFF: Bool = false) throws {
    let handle = ctiff_open(path, bigTIFF ? "w8" : "w", 0)!
    defer { ctiff_close(handle) }
    guard let tiff = ctiff_tiff(handle) else { throw RawTIFFError(message: String(cString: ctiff_error_message(handle))) }
    for page in pages {
        ctiff_set_u32(tiff, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(page.width))
        ctiff_set_u32(tiff, UInt32(TIFFTAG_IMAGELENGTH), UInt32(page.height))
        ctiff_set_u16(tiff, UInt32(TIFFTAG_SAMPLESPERPIXEL), UInt16(page.samplesPerPixel))
        ctiff_set_u16(tiff, UInt32(TIFFTAG_BITSPERSAMPLE), UInt16(page.bitsPerSample))
        ctiff_set_u16(tiff, UInt32(TIFFTAG_SAMPLEFORMAT), UInt16(page.sampleFormat))
        ctiff_set_u16(tiff, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(page.photometric))
        ctiff_set_u16(tiff, UInt32(TIFFTAG_PLANARCONFIG), UInt16(page.planar ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG))
        ctiff_set_u16(tiff, UInt32(TIFFTAG_COMPRESSION), UInt16(page.compression))
        if page.subfileType != 0 { ctiff_set_u32(tiff, UInt32(TIFFTAG_SUBFILETYPE), page.subfileType) }
        if !page.extraSamples.isEmpty { ctiff_set_extra_samples(tiff, UInt16(page.extraSamples.count), page.extraSamples) }
        if let description = page.description { ctiff_set_string(tiff, UInt32(TIFFTAG_IMAGEDESCRIPTION), description) }
        if let tile = page.tile {
            ctiff_set_u32(tiff, UInt32(TIFFTAG_TILEWIDTH), UInt32(tile.width))
            ctiff_set_u32(tiff, UInt32(TIFFTAG_TILELENGTH), UInt32(tile.height))
        } else {
            ctiff_set_u32(tiff, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(page.rowsPerStrip ?? page.height))
        }
        page.configure?(tiff)

        let planes = page.planar ? page.samplesPerPixel : 1
        let perPixel = page.planar ? 1 : page.samplesPerPixel
        let bytes = page.bitsPerSample / 8
        // The bytes of samples (x, y, plane) over a block, zero outside the image.
        func block(x0: Int, y0: Int, columns: Int, rows: Int, plane: Int) -> [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(columns * rows * perPixel * max(bytes, 1))
            for y in y0..<(y0 + rows) {
                for x in x0..<(x0 + columns) {
                    for s in 0..<perPixel {
                        let sample = page.planar ? plane : s
                        let value = (x < page.width && y < page.height) ? page.samples![(y * page.width + x) * page.samplesPerPixel + sample] : 0
                        out.append(contentsOf: encode(value, bits: page.bitsPerSample, format: page.sampleFormat))
                    }
                }
            }
            return out
        }
        if let tile = page.tile {
            for plane in 0..<planes {
                for y in stride(from: 0, to: page.height, by: tile.height) {
                    for x in stride(from: 0, to: page.width, by: tile.width) {
                        let index = TIFFComputeTile(tiff, UInt32(x), UInt32(y), 0, UInt16(plane))
                        var data = page.samples == nil ? [UInt8](repeating: 0, count: Int(TIFFTileSize(tiff)))
                            : block(x0: x, y0: y, columns: tile.width, rows: tile.height, plane: plane)
                        guard TIFFWriteEncodedTile(tiff, index, &data, tmsize_t(data.count)) >= 0 else {
                            throw RawTIFFError(message: String(cString: ctiff_error_message(handle)))
                        }
                    }
                }
            }
        } else {
            let rowsPerStrip = page.rowsPerStrip ?? page.height
            let stripsPerPlane = (page.height + rowsPerStrip - 1) / rowsPerStrip
            for plane in 0..<planes {
                for k in 0..<stripsPerPlane {
                    let rows = min(rowsPerStrip, page.height - k * rowsPerStrip)
                    let index = UInt32(plane * stripsPerPlane + k)
                    var data = page.samples == nil ? [UInt8](repeating: 0, count: Int(TIFFVStripSize(tiff, UInt32(rows))))
                        : block(x0: 0, y0: k * rowsPerStrip, columns: page.width, rows: rows, plane: plane)
                    guard TIFFWriteEncodedStrip(tiff, index, &data, tmsize_t(data.count)) >= 0 else {
                        throw RawTIFFError(message: String(cString: ctiff_error_message(handle)))
                    }
                }
            }
        }
        guard TIFFWriteDirectory(tiff) == 1 else { throw RawTIFFError(message: String(cString: ctiff_error_message(handle))) }
    }
}

struct RawTIFFError: Error { let message: String }

/// Native-order bytes of one sample.
private func encode(_ value: Double, bits: Int, format: Int32) -> [UInt8] {
    switch (bits, format) {
    case (8, _): return [UInt8(truncatingIfNeeded: Int(value))]
    case (16, SAMPLEFORMAT_INT): return withUnsafeBytes(of: Int16(value)) { Array($0) }
    case (16, _): return withUnsafeBytes(of: UInt16(value)) { Array($0) }
    case (32, SAMPLEFORMAT_IEEEFP): return withUnsafeBytes(of: Float(value)) { Array($0) }
    case (64, SAMPLEFORMAT_IEEEFP): return withUnsafeBytes(of: value) { Array($0) }
    default: fatalError("raw encoder: unsupported \(bits)-bit format \(format)")
    }
}

/// Chunky samples of `image` (planar) for `RawPage.samples`.
func chunkySamples(_ image: Image) -> [Double] {
    var out = [Double](repeating: 0, count: image.pixels.count)
    for c in 0..<image.channels {
        for i in 0..<image.planeSize { out[i * image.channels + c] = Double(image.pixels[c * image.planeSize + i]) }
    }
    return out
}

/// Reads a page's header fields directly with libtiff (to check what our writer stored).
func rawPageInfo(_ path: String, page: Int = 0) -> (info: ctiff_page_info, description: String?, software: String?, bigTIFF: Bool, pages: Int)? {
    let handle = ctiff_open(path, "r", 0)!
    defer { ctiff_close(handle) }
    guard let tiff = ctiff_tiff(handle) else { return nil }
    let pages = Int(TIFFNumberOfDirectories(tiff))
    guard TIFFSetDirectory(tiff, UInt32(page)) == 1 else { return nil }
    var info = ctiff_page_info()
    guard ctiff_read_page_info(tiff, &info) == 1 else { return nil }
    return (info, info.image_description.map { String(cString: $0) }, info.software.map { String(cString: $0) }, info.is_bigtiff != 0, pages)
}
