import Foundation
import Imaging
import Testing
@testable import Web

@Suite struct ThumbnailRendererTests {
    @Test func sixteenBitImagesAreWindowedByTheirOwnPercentiles() {
        // 10,000 pixels from 1000 to 1999 and three hot pixels: the window ignores the hot pixels.
        var pixels = (0..<10_000).map { Float(1000 + $0 % 1000) }
        pixels[0] = 65535; pixels[1] = 65535; pixels[2] = 65535
        let image = Image(width: 100, height: 100, channels: 1, pixels: pixels)
        let thumb = ThumbnailRenderer.render(image, format: .uint16, style: .image, maxSide: 100)
        #expect(thumb.low >= 1000 && thumb.low <= 1010)
        #expect(thumb.high >= 1990 && thumb.high <= 1999)
        #expect(thumb.rgb.max() == 255 && thumb.rgb.min() == 0)
        let middle = thumb.rgb[3 * 500]   // value 1500
        #expect(abs(Int(middle) - 128) <= 3)
    }

    @Test func eightBitImagesKeepTheirScale() {
        let image = Image(width: 4, height: 1, channels: 1, pixels: [0, 10, 20, 30])
        let thumb = ThumbnailRenderer.render(image, format: .uint8, style: .image, maxSide: 8)
        #expect(thumb.rgb == [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30])
    }

    @Test func downsamplingAveragesAreasAndKeepsTheAspect() {
        let image = Image(width: 8, height: 4, channels: 1, pixels: (0..<32).map { Float($0 % 8 < 4 ? 0 : 100) })
        let small = ThumbnailRenderer.downsample(image, maxSide: 4)
        #expect(small.width == 4 && small.height == 2)
        #expect(small.pixels == [0, 0, 100, 100, 0, 0, 100, 100])
    }

    @Test func depthMapsUseViridisOverTheSliceRange() {
        let image = Image(width: 3, height: 1, channels: 1, pixels: [0, 4, 8])
        let thumb = ThumbnailRenderer.render(image, format: .float32, style: .depth(low: 0, high: 8), maxSide: 3)
        #expect(Array(thumb.rgb[0..<3]) == [0x44, 0x01, 0x54])
        #expect(Array(thumb.rgb[3..<6]) == [0x21, 0x90, 0x8d])
        #expect(Array(thumb.rgb[6..<9]) == [0xfd, 0xe7, 0x25])
        #expect(thumb.low == 0 && thumb.high == 8)
        // NaN (no decision) is black.
        #expect(ThumbnailRenderer.colour(.nan, low: 0, high: 1) == (0, 0, 0))
    }

    @Test func aFlatImageIsNotADivisionByZero() {
        let (low, high) = ThumbnailRenderer.window([Float](repeating: 7, count: 10))
        #expect(high > low)
    }
}

@Suite struct ListenAddressTests {
    @Test func parsesHostsAndPorts() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(try ListenAddress(parsing: "[::1]:9000") == ListenAddress(host: "::1", port: 9000))
        #expect(try ListenAddress(parsing: "localhost:0").isLoopback)
        #expect(try !ListenAddress(parsing: "0.0.0.0:80").isLoopback)
        for bad in ["8080", "127.0.0.1", "127.0.0.1:99999", ":80", "::1:80", "host:port"] {
            #expect(throws: WebError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }

    @Test func aPortInUseIsATypedErrorSayingWhatToDo() throws {
        // Hold a listening socket on a free port, then ask for the same port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let error = #expect(throws: WebError.self) { try ListenAddress(host: "127.0.0.1", port: port).checkAvailable() }
        #expect(error?.kind == .cannotListen)
        #expect(error?.message.contains("in use") == true)
        #expect(error?.message.contains("--listen") == true)
        #expect(throws: WebError.self) { try ListenAddress(host: "192.0.2.1", port: 8080).checkAvailable() }
    }
}
