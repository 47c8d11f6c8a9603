import Daemon
import Foundation
import Hummingbird
import Imaging
import Logging
import Testing
@testable import Web

/// A demo-style run end to end: the real daemon (`DaemonService`, the fusion pipeline, reference
/// engine) fuses two stacks and quarantines a third; the status page is served on a loopback port
/// and headless Chromium takes a screenshot. Skipped where Debian's `chromium` is not installed.
/// `FOCUSD_WEB_SCREENSHOT=docs/status-page.png` keeps the screenshot (the README's picture).
@Suite struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: chromium != nil, "needs Debian's chromium package"), .timeLimit(.minutes(3)))
    func screenshotOfADemoRunShowsThumbnails() async throws {
        let f = WebFixture()
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var configuration = f.configuration
        configuration.dropFolders[0].name = "scope1"
        configuration.dropFolders[0].profile = .file(checkout + "/profiles/reference.yaml")
        try DemoStacks.drop(into: f.drop)

        let service = DaemonService(configuration: configuration, software: SoftwareInfo(version: "test", gitCommit: "0000000"),
                                    logger: Logger(label: "browser-test"), once: true,
                                    processorFactory: PipelineProcessor.factory(configurationFile: configuration.sourceFile))
        try await service.run()
        let journal = try Journal(path: configuration.journalPath, readOnly: true)
        let states = try journal.allJobs().map(\.state)
        try journal.close()
        #expect(states.filter { $0 == .done }.count == 2, "\(states)")
        #expect(states.filter { $0 == .quarantined }.count == 1, "\(states)")

        let status = StatusService(site: StatusSite(configuration: configuration, cacheDirectory: f.cache),
                                   options: { var o = StatusService.Options(); o.refreshSeconds = 0; return o }(),
                                   logger: Logger(label: "browser-test"))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var quiet = Logger(label: "browser-test")
        quiet.logLevel = .critical   // cancelling the server at the end logs a CancellationError
        let app = StatusServer.application(status, address: ListenAddress(host: "127.0.0.1", port: 0), logger: quiet) { port in
            portSink.yield(port ?? 0)
        }
        let shot = f.root + "/screenshot.png"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try require_(await iterator.next())
            let exit = try await Self.runChromium(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                   "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir=\(f.root)/chromium",
                                                   "--window-size=1200,1080", "--virtual-time-budget=4000",
                                                   "--screenshot=\(shot)", "http://127.0.0.1:\(port)/"])
            #expect(exit == 0)
            group.cancelAll()
        }
        status.close()
        let picture = try ImageFile.read(shot).image
        #expect(picture.width == 1200)
        // The browser asked for both thumbnails of both fused stacks.
        let thumbnails = try FileManager.default.contentsOfDirectory(atPath: f.cache).filter { $0.hasSuffix(".png") && !$0.hasPrefix(".") }
        #expect(thumbnails.count == 4)
        // Thumbnails show in the picture: many distinct colours (viridis, grey levels), not a blank page.
        var colours = Set<UInt32>()
        for i in stride(from: 0, to: picture.planeSize, by: 7) {
            colours.insert(UInt32(picture.pixels[i]) << 16 | UInt32(picture.pixels[picture.planeSize + i]) << 8 | UInt32(picture.pixels[2 * picture.planeSize + i]))
        }
        #expect(colours.count > 200, "\(colours.count) colours")
        if let keep = ProcessInfo.processInfo.environment["FOCUSD_WEB_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shot, toPath: keep)
        }
    }

    /// Runs Chromium, waiting without blocking a thread; kills it after 60 s.
    static func runChromium(_ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Three stacks as an instrument drops them: two 16-bit multi-page TIFFs (5 slices, a tilted
/// specimen so each slice is sharp in its own band) and a folder whose slices differ in size.
enum DemoStacks {
    static func drop(into folder: String) throws {
        for (name, seed) in [("cells-0001", 3), ("cells-0002", 11)] {
            try TIFFWriter.write(stack(width: 240, height: 180, slices: 5, seed: seed), format: .uint16, to: "\(folder)/\(name).tif")
        }
        let broken = folder + "/plate-7"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try TIFFWriter.write([WebFixture.texture(64, 48, seed: 1)], format: .uint16, to: broken + "/slice_001.tif")
        try TIFFWriter.write([WebFixture.texture(32, 32, seed: 2)], format: .uint16, to: broken + "/slice_002.tif")
        FileManager.default.createFile(atPath: broken + "/COMPLETE", contents: Data())
    }

    /// Bright spots on a dim background; slice k is sharp where the specimen's height is k and
    /// blurred elsewhere (a box blur whose radius grows with the distance from focus).
    static func stack(width: Int, height: Int, slices: Int, seed: Int) -> [Image] {
        var sharp = [Float](repeating: 800, count: width * height)
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15
        func next() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return Double(state >> 11) / Double(1 << 53) }
        for _ in 0..<90 {
            let cx = next() * Double(width), cy = next() * Double(height), r = 2 + next() * 6, a = 3000 + next() * 25000
            for y in max(0, Int(cy - 3 * r))..<min(height, Int(cy + 3 * r) + 1) {
                for x in max(0, Int(cx - 3 * r))..<min(width, Int(cx + 3 * r) + 1) {
                    let d2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                    sharp[y * width + x] += Float(a * exp(-d2 / (2 * r * r)))
                }
            }
        }
        return (0..<slices).map { k in
            var pixels = [Float](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    let surface = Double(x + y) / Double(width + height - 2) * Double(slices - 1)
                    let radius = Int((abs(surface - Double(k)) * 1.5).rounded())
                    var sum: Float = 0, n: Float = 0
                    for yy in max(0, y - radius)...min(height - 1, y + radius) {
                        for xx in max(0, x - radius)...min(width - 1, x + radius) { sum += sharp[yy * width + xx]; n += 1 }
                    }
                    pixels[y * width + x] = sum / n
                }
            }
            return Image(width: width, height: height, channels: 1, pixels: pixels)
        }
    }
}
