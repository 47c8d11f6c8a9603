import ArgumentParser
import Dispatch
import Foundation
import Imaging
import Registration
import Simulation

/// `focusd bench align`: alignment speed, memory and accuracy on two synthetic stacks with known
/// transforms, made from the dev data: 65 slices of 1600×1200 RGB (from the circuit board) and
/// 31 slices of 512×800 16-bit grey (from the light-sheet mitochondria stack); and accuracy on
/// simulated fluorescence stacks that breathe, with a profile's alignment (`+Breathing`).
struct BenchAlignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Benchmark slice alignment.",
        discussion: """
        Each stack is rendered once (views through known similarities, depth-dependent defocus, \
        noise) and kept as 8/16-bit samples, decoded to float slice by slice as a file would be; \
        the timing covers alignment only (median of --runs). Memory: the peak resident memory \
        added while aligning (Linux VmHWM after resetting it) and the process's ru_maxrss. \
        The breathing set: 16-bit widefield fluorescence simulated from in-focus textures (by default \
        three of shared/data/train/microscopy; --textures for others, e.g. held-out images) with \
        --breathing (magnification change across the stack), --drift and --photons, aligned with \
        --profile's alignment settings; corner error per slice against the simulator's true transform.
        Examples:
          focusd bench align --set breathing
          focusd bench align --set breathing --textures ../shared/data/train/microscopy/fly_nuclei_fluorescence.tif
          focusd bench align --set breathing --calibrate 0      (fit the breathing on every stack)
        """
    )

    enum StackSet: String, ExpressibleByArgument, CaseIterable {
        case synthetic, breathing, all
    }

    @Option(help: "Shared data folder (default: <cwd>/../shared/data).")
    var data: String?

    @Option(help: "Timed runs per stack (the median is reported).")
    var runs: Int = 3

    @Option(help: "Slices in the RGB stack.")
    var slices: Int = 65

    @Option(help: "Stacks to measure: synthetic (the RGB and 16-bit stacks), breathing (simulated fluorescence) or all.")
    var set: StackSet = .all

    @Option(help: "The profile (name or YAML file) whose alignment settings align the breathing set.")
    var profile: String = "fluorescence-16bit"

    @Option(parsing: .upToNextOption, help: "In-focus textures of the breathing set (paths; the first channel is used).")
    var textures: [String] = []

    @Option(help: "Breathing set: magnification change from the first slice to the last (0.01 = 1 %).")
    var breathing: Double = 0.01

    @Option(help: "Breathing set: stage drift per slice, pixels r.m.s.")
    var drift: Double = 0.4

    @Option(help: "Breathing set: photo-electrons at the brightest in-focus pixel.")
    var photons: Double = 300

    @Option(help: "Breathing set: defocus blur per receiving pixel (gather) or per emitting depth layer (scatter).")
    var layering: MicroscopeSimulation.Layering = .gather

    @Option(help: """
        Breathing set: calibrate the breathing first on this many other simulated stacks of the same \
        instrument (the median of their fits, then fixed; 0 fits it on every scored stack). Default: the \
        profile's align_calibrate_breathing — what the daemon does after a drop folder's first stacks.
        """)
    var calibrate: Int?

    @Option(parsing: .upToNextOption, help: "Breathing set: textures of the calibration stacks (default: the scored textures).")
    var calibrationTextures: [String] = []

    @Option(help: "Breathing set: square centre crop of each texture, pixels.")
    var crop: Int = 512

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard slices >= 2 else { throw ValidationError("--slices must be at least 2") }
        guard abs(breathing) <= 0.1 else { throw ValidationError("--breathing \(breathing): must be within ±0.1") }
        guard (0...20).contains(drift) else { throw ValidationError("--drift \(drift): must be 0…20 px") }
        guard photons > 0 else { throw ValidationError("--photons must be positive") }
        guard crop >= 64 else { throw ValidationError("--crop must be at least 64") }
        guard (calibrate ?? 0) >= 0 else { throw ValidationError("--calibrate must be 0 or more stacks") }
    }

    struct Measurement: Codable {
        var name: String
        var slices: Int
        var width: Int
        var height: Int
        var channels: Int
        var format: String
        var renderSeconds: Double
        var alignSeconds: [Double]
        var medianAlignSeconds: Double
        /// Process CPU time (user + system) of the median run: on a busy machine, wall time
        /// overstates; CPU time ÷ cores bounds what an idle machine takes.
        var alignCPUSeconds: Double
        var peakAlignMemoryMiB: Double?
        var cornerErrorMedian: Double
        var cornerErrorMax: Double
        var unaligned: Int
    }

    func run() async throws {
        let root = data ?? SharedData.path("")
        try SharedData.requireExisting(root, flag: "--data", what: "the shared data folder")
        var breathingRun = BreathingRun()
        if set != .synthetic {
            let settings = try profileSettings()
            breathingRun = try measureBreathing(root: root, settings: settings, calibrationStacks: calibrate ?? settings.breathingCalibrationStacks)
        }
        if set == .breathing {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(breathingRun), as: UTF8.self))
            } else {
                Self.printBreathing(breathingRun, profile: profile)
            }
            return
        }
        let board = try ImageFile.read(root + "/dev/stacks/focusstack_pcb/slice_003.jpg").image
        let mitochondria = try ImageFile.read(root + "/dev/stacks/dfnn_lightsheet_mitochondria/slice_017.tif").image

        var rgb = SyntheticFocusStack.Configuration(sliceCount: slices, width: 1600, height: 1200)
        rgb.maximumBlur = 2
        rgb.noise = 2
        var grey = SyntheticFocusStack.Configuration(sliceCount: 31, width: 512, height: 800)
        grey.breathing = 0
        grey.maximumBlur = 1.5
        grey.noise = 5
        grey.format = .uint16

        var results = [Measurement]()
        for (name, base, configuration) in [("rgb-1600x1200", board, rgb), ("uint16-512x800", mitochondria, grey)] {
            results.append(try measure(name: name, SyntheticFocusStack(base: base, configuration: configuration)))
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let maxrssMiB = Double(usage.ru_maxrss) / 1024
        if json {
            struct Report: Codable {
                var stacks: [Measurement]; var breathing: BreathingRun; var maxrssMiB: Double; var cores: Int; var loadAverage: String
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = Report(stacks: results, breathing: breathingRun, maxrssMiB: maxrssMiB,
                                cores: ProcessInfo.processInfo.activeProcessorCount, loadAverage: Self.loadAverage())
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        for m in results {
            let memory = m.peakAlignMemoryMiB.map { String(format: "%.0f MiB", $0) } ?? "n/a"
            print(String(format: "%@: %d slices %d×%d×%d %@: align %.2f s wall, %.2f s CPU (median of %d; rendering %.1f s), "
                         + "peak added memory %@, corner error median %.3f px max %.3f px, unaligned %d",
                         m.name, m.slices, m.width, m.height, m.channels, m.format, m.medianAlignSeconds, m.alignCPUSeconds,
                         m.alignSeconds.count, m.renderSeconds, memory, m.cornerErrorMedian, m.cornerErrorMax, m.unaligned))
        }
        Self.printBreathing(breathingRun, profile: profile)
        print(String(format: "process ru_maxrss %.0f MiB (includes the stored stacks); %d cores; load average %@",
                     maxrssMiB, ProcessInfo.processInfo.activeProcessorCount, Self.loadAverage()))
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "n/a"
    }

    private func measure(name: String, _ synthetic: SyntheticFocusStack) throws -> Measurement {
        let renderStart = Date()
        let stored = try StoredStack(synthetic)
        let renderSeconds = Date().timeIntervalSince(renderStart)
        var runsMeasured = [(wall: Double, cpu: Double)]()
        var result: AlignmentResult?
        var peak: Double?
        for _ in 0..<runs {
            let before = MemoryProbe.resetPeak()
            let cpuStart = Self.cpuSeconds()
            let start = Date()
            result = try Aligner().align(stored)
            runsMeasured.append((Date().timeIntervalSince(start), Self.cpuSeconds() - cpuStart))
            if let before, let after = MemoryProbe.peakMiB() { peak = max(peak ?? 0, after - before) }
        }
        runsMeasured.sort { $0.wall < $1.wall }
        let times = runsMeasured.map(\.wall)
        let cpu = runsMeasured[runsMeasured.count / 2].cpu
        let alignment = result!
        let errors = (0..<synthetic.count).filter { $0 != alignment.reference }.map { i in
            Self.cornerError(truth: synthetic.trueMatrix(i), estimate: alignment.slices[i].matrix,
                             width: synthetic.geometry.width, height: synthetic.geometry.height)
        }.sorted()
        let g = synthetic.geometry
        return Measurement(name: name, slices: synthetic.count, width: g.width, height: g.height, channels: g.channels,
                           format: g.format.rawValue, renderSeconds: renderSeconds, alignSeconds: times,
                           medianAlignSeconds: times[times.count / 2], alignCPUSeconds: cpu, peakAlignMemoryMiB: peak,
                           cornerErrorMedian: errors[errors.count / 2], cornerErrorMax: errors.last ?? 0,
                           unaligned: alignment.slices.filter { !$0.aligned }.count)
    }
}

/// A rendered stack kept as 8- or 16-bit samples and decoded to `Float` per `slice(at:)`, as a
/// TIFF would be: the benchmark times alignment, not rendering, without holding float slices.
private struct StoredStack: SliceSource {
    let geometry: SliceGeometry
    let metadata = ImageMetadata()
    private let bytes: [[UInt8]]
    private let words: [[UInt16]]

    init(_ source: SyntheticFocusStack) throws {
        geometry = source.geometry
        var bytes = [[UInt8]](repeating: [], count: source.count)
        var words = [[UInt16]](repeating: [], count: source.count)
        let wide = source.geometry.format != .uint8
        for index in 0..<source.count {
            let slice = try source.slice(at: index)
            if wide { words[index] = slice.pixels.map { UInt16(min(max($0.rounded(), 0), 65535)) } }
            else { bytes[index] = slice.pixels.map { UInt8(min(max($0.rounded(), 0), 255)) } }
        }
        self.bytes = bytes
        self.words = words
    }

    var count: Int { max(bytes.count, words.count) }
    func sliceName(at index: Int) -> String { "stored slice \(index)" }
    func slice(at index: Int) throws -> Image {
        let pixels = geometry.format == .uint8 ? bytes[index].map(Float.init) : words[index].map(Float.init)
        return Image(width: geometry.width, height: geometry.height, channels: geometry.channels, pixels: pixels)
    }
}

/// Linux peak-RSS probe: `/proc/self/clear_refs` ← 5 resets VmHWM to the current RSS.
private enum MemoryProbe {
    /// Resets the peak; returns the current resident size in MiB, or `nil` where unsupported.
    static func resetPeak() -> Double? {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return nil }
        handle.write(Data("5".utf8))
        try? handle.close()
        return field("VmRSS")
    }

    static func peakMiB() -> Double? { field("VmHWM") }

    private static func field(_ name: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kib = line.split(separator: " ").compactMap { Double($0) }.first
            return kib.map { $0 / 1024 }
        }
        return nil
    }
}
