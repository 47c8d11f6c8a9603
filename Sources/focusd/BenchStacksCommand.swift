import ArgumentParser
import Foundation
import Fusion
import Imaging
import NN
import Pipeline
import Registration
import Simulation

/// `focusd bench stacks`: N-slice fusion measured against ground truth on simulated microscope stacks.
struct BenchStacksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stacks",
        abstract: "Measure N-slice fusion against ground truth on simulated microscope stacks.",
        discussion: """
            Simulates a fixed, seeded set of stacks from in-focus textures (fluorescence at three photon \
            budgets, brightfield RGB and 16-bit; N from 8 to 40) and fuses each with every engine and \
            shipped profile in the same run. Per method: PSNR and SSIM against the noise-free in-focus \
            ground truth (peak = the ground truth's maximum), PSNR after a σ = 1 px blur of both (focus \
            selection rather than noise), depth-map MAE and RMSE in slices over textured pixels (local \
            7×7 standard deviation of the ground truth ≥ 5 % of its 1–99 % range), seconds and peak memory \
            (VmHWM) per stack. Beside them: the best pure selection (per pixel the slice nearest the true \
            height), a one-shot choose-max of 7×7 Laplacian energy over all slices, and the mean of the \
            slices. Stacks of the "drift" groups breathe (1 %) and drift (0.4 px per slice): profiles \
            that align do so first (full frame kept), engines and baselines see the stack as recorded. \
            Prints a table of group means, writes an SVG plot of PSNR against photon budget.
            Examples:
              focusd bench stacks
              focusd bench stacks --textures /data/my-infocus-images --profile default --profile my-scope.yaml
              focusd bench stacks --model candidate.safetensors --only fluorescence --json
            """)

    @Option(help: "Folder of in-focus textures (the set's file names are looked for in it).")
    var textures: String = SharedData.path("train/microscopy")
    @Option(parsing: .upToNextOption,
            help: "Instead of the dev set: these in-focus images (paths), each as fluorescence at every photon level and 16-bit brightfield.")
    var files: [String] = []
    @Option(help: "Profiles to measure (names or paths); default: every shipped profile.")
    var profile: [String] = []
    @Option(help: "Replace the model of every fusiondiff profile with this file.")
    var model: String?
    @Option(help: "Only stacks whose name or group contains this text.")
    var only: String?
    @Option(help: "Square crop of each texture, pixels.")
    var crop: Int = 256
    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?
    @Option(help: "SVG plot path; 'none' to skip.")
    var svg: String = "bench-stacks.svg"
    @Option(help: "Also write each method's fused image and depth map of each stack into this folder.")
    var keep: String?
    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    static let shippedProfiles = ["default", "fast", "quality", "reference", "fluorescence-16bit", "brightfield-rgb"]

    func validate() throws {
        if files.isEmpty { try SharedData.requireExisting(textures, flag: "--textures", what: "the folder of in-focus microscope images (shared data's train/microscopy)") }
        if crop < 32 { throw ValidationError("--crop must be at least 32") }
    }

    func run() async throws {
        try await Compute.withThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount) { try await runWithThreads() }
    }

    private func runWithThreads() async throws {
        var methods: [(name: String, engine: (any StackFusionEngine)?, alignment: Registration.AlignmentOptions?)] = [
            ("best selection", nil, nil), ("choose-max", ChooseMaxEngine(), nil), ("mean of slices", nil, nil),
            ("reference engine", ReferenceEngine(), nil),
        ]
        // The classical control through the default profile's own composition: the same settings
        // with the choose-max generator in place of the model.
        var control = FusionSettings()
        if let path = try? ProfilesCommand.locate("default", extra: nil),
           let loaded = try? ProfileLoader.load(.file(path), configurationFile: path) {
            control = loaded.settings
        }
        control.engine = .control
        control.model = nil
        methods.append(("control engine", try control.makeEngine().engine, nil))
        for name in profile.isEmpty ? Self.shippedProfiles : profile {
            let path = try ProfilesCommand.locate(name, extra: nil)
            var loaded = try ProfileLoader.load(.file(path), configurationFile: path)
            if let model, loaded.settings.engine == .fusiondiff { loaded.settings.model = (model as NSString).standardizingPath }
            // The profile's alignment runs on stacks that drift, with the full frame kept so that
            // outputs stay comparable with the ground truth.
            var alignment = loaded.settings.alignment
            alignment.keepSize = true
            let base = loaded.baseDirectory ?? FileManager.default.currentDirectoryPath
            methods.append(("profile \(name)", try loaded.settings.makeEngine(baseDirectory: base).engine,
                            alignment.model == .none ? nil : alignment))
        }
        var set = files.isEmpty ? BenchmarkStack.devSet(crop: crop) : BenchmarkStack.set(files: files, crop: crop)
        if let only { set = set.filter { $0.name.contains(only) || $0.group.contains(only) } }
        guard !set.isEmpty else { throw ValidationError("--only \(only ?? "") matches no stack of the set") }

        var rows: [StackBenchRow] = []
        var textureCache: [String: Image] = [:]
        for spec in set {
            let path = spec.texture.hasPrefix("/") || !files.isEmpty ? spec.texture : (textures as NSString).appendingPathComponent(spec.texture)
            let image: Image
            if let cached = textureCache[path] {
                image = cached
            } else {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw BenchStacksError(path: path, message: "texture of stack \(spec.name) not found; give --textures a folder holding \(spec.texture)")
                }
                image = try ImageFile.read(path).image
                textureCache[path] = image
            }
            let simulated = try MicroscopeSimulator(settings: spec.settings).simulate(texture: spec.prepare(image))
            let scorer = StackScorer(simulated)
            if let keep {
                try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                let base = (keep as NSString).appendingPathComponent(spec.name)
                try TIFFWriter.write([simulated.groundTruth], format: .float32, to: base + "_truth.tif", software: "focusd bench stacks")
                let h = simulated.height
                try TIFFWriter.write([Image(width: h.width, height: h.height, channels: 1, pixels: h.values)], format: .float32,
                                     to: base + "_height.tif", software: "focusd bench stacks")
                try TIFFWriter.write(simulated.slices, format: spec.settings.format, to: base + "_stack.tif", software: "focusd bench stacks")
            }
            for method in methods {
                PeakMemory.reset()
                let start = Date()
                let result: FusionResult
                switch method.name {
                case "best selection": result = scorer.bestSelection()
                case "mean of slices": result = scorer.meanOfSlices()
                default:
                    var stack: any SliceSource = simulated.stack
                    if let alignment = method.alignment, spec.settings.breathing != 0 || spec.settings.drift != 0 {
                        stack = AlignedStack(stack, alignment: try Aligner(options: alignment).align(stack))
                    }
                    result = try method.engine!.fuse(stack)
                }
                let seconds = Date().timeIntervalSince(start)
                var row = scorer.score(result, method: method.name, stack: spec)
                row.seconds = seconds
                row.peakMB = PeakMemory.megabytes()
                rows.append(row)
                if let keep { try Self.keep(result, spec: spec, method: method.name, folder: keep) }
                if !json {
                    FileHandle.standardError.write(Data(String(format: "%@  %-26@ PSNR %6.2f  blurred %6.2f  SSIM %.4f  depth MAE %5.2f  %6.2f s\n",
                        spec.name as NSString, method.name as NSString, row.psnr, row.psnrBlurred, row.ssim, row.depthMAE ?? .nan, seconds).utf8))
                }
            }
        }
        let summary = StackBenchSummary(rows: rows, methods: methods.map(\.name))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.table())
        }
        if svg != "none" {
            try summary.plot().write(toFile: svg, atomically: true, encoding: .utf8)
            if !json { print("plot: \(svg)") }
        }
    }

    static func keep(_ result: FusionResult, spec: BenchmarkStack, method: String, folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let tag = method.map { $0.isLetter || $0.isNumber || $0 == "-" ? String($0) : "-" }.joined()
        let base = (folder as NSString).appendingPathComponent("\(spec.name)_\(tag)")
        try TIFFWriter.write([result.fused], format: .float32, to: base + "_fused.tif", software: "focusd bench stacks")
        try TIFFWriter.write([result.depth], format: .float32, to: base + "_depth.tif", software: "focusd bench stacks")
    }
}

struct BenchStacksError: Error, CustomStringConvertible {
    let path: String
    let message: String
    var description: String { "\(path): \(message)" }
}

extension PeakMemory {
    /// Resets the peak (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs), so that each method's
    /// peak is its own.
    static func reset() {
        if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            handle.write(Data("5".utf8))
            try? handle.close()
        }
    }

    static func megabytes() -> Double { Double(residentBytes()) / 1_048_576 }
}
