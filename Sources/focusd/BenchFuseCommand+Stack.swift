import Pipeline
import Foundation
import Imaging
import Simulation

#if os(Linux)
/// glibc's `malloc_trim` (not in the Glibc module's headers): returns freed heap pages to the system.
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32
#endif

/// `focusd bench fuse --stack WxHxN` (issue 21): a simulated 16-bit widefield fluorescence stack
/// of N slices at W×H fused by every shipped profile through the same pipeline as `focusd fuse`
/// (read from a multi-page TIFF, hash, fuse, write), with seconds, slices per second and peak
/// resident memory per profile, all in one run so the ratios hold on a loaded machine.
struct SimulatedStackBench {
    var width: Int
    var height: Int
    var slices: Int
    var photons: Double
    var texture: String
    var profiles: [String]
    var threads: Int
    var repeats: Int
    /// Folder the simulated stack is cached in (it is simulated once per geometry and seed).
    var cache: String

    /// `2048x2048x50` → (2048, 2048, 50); nil when `text` is not of that form.
    static func parse(_ text: String) -> (width: Int, height: Int, slices: Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }), parts[2] >= 2 else { return nil }
        return (parts[0], parts[1], parts[2])
    }

    struct Row {
        /// As given: a name or a path.
        var profile: String
        /// The profile's name (a path's file name without `.yaml`).
        var name: String { ((profile as NSString).lastPathComponent as NSString).deletingPathExtension }
        var seconds: Double
        var allSeconds: [Double]
        var peakBytes: Int
        var stageSeconds: [String: Double]
    }

    /// The stack's TIFF, simulated first when not cached.
    func stackFile() throws -> String {
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let name = "sim-fl-\(width)x\(height)x\(slices)-\(Int(photons))ph-\(((texture as NSString).lastPathComponent as NSString).deletingPathExtension).tif"
        let path = (cache as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: path) { return path }
        let start = Date()
        let source = try ImageFile.read(texture).image
        var settings = MicroscopeSimulation(modality: .fluorescence, slices: slices, photons: photons, seed: 21)
        settings.surfaceSteps = 2
        let plane = Self.mirrorTiled(source.channel(0), width: width, height: height)
        let simulated = try MicroscopeSimulator(settings: settings).simulate(texture: plane)
        let temporary = path + ".partial"
        try TIFFWriter.write(simulated.slices, format: .uint16, to: temporary, software: "focusd bench fuse --stack")
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
        FileHandle.standardError.write(Data(String(format: "bench fuse: simulated %@ in %.1f s\n", path, Date().timeIntervalSince(start)).utf8))
        return path
    }

    /// `image` repeated with mirrored copies to `width`×`height` (no seams).
    static func mirrorTiled(_ image: Image, width: Int, height: Int) -> Image {
        var out = [Float](repeating: 0, count: width * height)
        func mirror(_ i: Int, _ n: Int) -> Int {
            let period = 2 * n
            let m = i % period
            return m < n ? m : period - 1 - m
        }
        for y in 0..<height {
            let sy = mirror(y, image.height)
            for x in 0..<width { out[y * width + x] = image.pixels[sy * image.width + mirror(x, image.width)] }
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// Fuses the stack with each profile `repeats` times (median seconds, largest peak).
    func run() throws -> (path: String, rows: [Row]) {
        let path = try stackFile()
        releaseFreedMemory()
        let output = NSTemporaryDirectory() + "focusd-bench-fuse-\(getpid())"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: output) }
        var rows: [Row] = []
        for (index, name) in profiles.enumerated() {
            let profilePath = try ProfilesCommand.locate(name, extra: nil)
            var loaded = try ProfileLoader.load(.file(profilePath), configurationFile: profilePath)
            loaded.settings.threads = threads
            let pipeline = FusionPipeline(settings: loaded.settings, baseDirectory: loaded.baseDirectory)
            var times: [Double] = [], peak = 0
            var stages: [String: Double] = [:]
            for _ in 0..<repeats {
                releaseFreedMemory()
                PeakMemory.reset()
                let start = Date()
                let report = try pipeline.run(inputs: [path], outputs: OutputPaths(fused: output + "/profile\(index)_fused.tif"),
                                              clock: { Date().timeIntervalSinceReferenceDate })
                times.append(Date().timeIntervalSince(start))
                peak = max(peak, PeakMemory.residentBytes())
                stages = report.stageSeconds
            }
            let median = times.sorted()[times.count / 2]
            FileHandle.standardError.write(Data(String(format: "bench fuse: %@ %.2f s (%@)\n", name, median,
                times.map { String(format: "%.2f", $0) }.joined(separator: ", ")).utf8))
            rows.append(Row(profile: name, seconds: median, allSeconds: times, peakBytes: peak, stageSeconds: stages))
        }
        return (path, rows)
    }

    /// Gives freed heap pages back, so that each profile's peak starts from what is live.
    private func releaseFreedMemory() {
        #if os(Linux)
        _ = mallocTrim(0)
        #endif
    }
}
