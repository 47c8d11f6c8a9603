import ArgumentParser
import Foundation
import Fusion
import Imaging
import Pipeline

/// `focusd eval`: fusion-quality metrics for one fused image, or a table over a dataset of pairs.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Compute fusion-quality metrics.",
        discussion: """
            Metrics (on grey luminance 0…255): Q_AB/F (Xydeas–Petrović), Q_MI (Hossny), Q_CB (Chen–Blum), \
            Q_Y (Yang); with a ground truth also PSNR (dB) and SSIM.

              focusd eval --sources 01_A.jpg 01_B.jpg --fused fused.png [--gt 01_GT.jpg]
              focusd eval --dataset ../shared/data/dev/lytro --engine control
              focusd eval --dataset ../shared/data/dev/lytro --profile default
              focusd eval --dataset DIR --fused-dir OTHER_TOOL_OUTPUT --json

            A dataset folder holds pairs NN_A.* and NN_B.* (and optionally NN_GT.*); --fused-dir holds NN.*.
            """)

    @Option(parsing: .upToNextOption, help: "The two source images of one pair.")
    var sources: [String] = []

    @Option(help: "The fused image to score (with --sources).")
    var fused: String?

    @Option(help: "A ground-truth all-in-focus image: adds PSNR and SSIM.")
    var gt: String?

    @Option(help: "A folder of pairs NN_A.* / NN_B.* (optionally NN_GT.*).")
    var dataset: String?

    @Option(help: "Engine that fuses each dataset pair: reference, control or fusiondiff.")
    var engine: String = "reference"

    @Option(help: "Fuse each dataset pair with this profile (a shipped name such as default, or a YAML path) instead of --engine/--model/--steps.")
    var profile: String?

    @Option(help: "Model file for --engine fusiondiff.")
    var model: String?

    @Option(help: "Sampler steps K for --engine fusiondiff.")
    var steps: Int?

    @Option(name: .customLong("fused-dir"), help: "Score another tool's outputs NN.* in this folder instead of fusing.")
    var fusedDir: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        if dataset == nil {
            guard sources.count == 2, fused != nil else {
                throw ValidationError("give either --sources A B --fused F, or --dataset DIR")
            }
            guard fusedDir == nil else { throw ValidationError("--fused-dir needs --dataset") }
            guard profile == nil else { throw ValidationError("--profile needs --dataset") }
        } else {
            guard sources.isEmpty, fused == nil, gt == nil else {
                throw ValidationError("--dataset cannot be combined with --sources, --fused or --gt")
            }
        }
        guard FusionSettings.Engine(rawValue: engine) != nil else {
            throw ValidationError("unknown engine '\(engine)'; use one of \(FusionSettings.Engine.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be ≥ 1") }
        if profile != nil {
            guard fusedDir == nil else { throw ValidationError("--profile fuses the pairs; it cannot be combined with --fused-dir") }
            guard engine == "reference", model == nil, steps == nil else {
                throw ValidationError("--profile sets the engine, model and steps; drop --engine, --model and --steps")
            }
        }
    }

    func run() async throws {
        if let dataset {
            try evaluateDataset(dataset)
        } else if let fused {
            let a = try ImageFile.read(sources[0]), b = try ImageFile.read(sources[1])
            let f = try ImageFile.read(fused)
            let truth = try gt.map { try ImageFile.read($0) }
            try checkSizes([(sources[0], a.image), (sources[1], b.image), (fused, f.image)] + (truth.map { [(gt!, $0.image)] } ?? []))
            let scores = PairScores.measure(a: a.image, b: b.image, fused: f.image, truth: truth?.image,
                                            peak: Self.peak(a.format, [a.image, b.image]), seconds: nil)
            print(json ? scores.jsonObject(name: nil).jsonString : scores.lines().joined(separator: "\n"))
        }
    }

    /// Fuses (or reads) every pair of `directory` and prints the table.
    func evaluateDataset(_ directory: String) throws {
        let pairs = try DatasetPairs(directory: directory)
        var fuser: (any StackFusionEngine)? = nil
        var label = "engine \(engine)"
        if let profile {
            let path = try ProfilesCommand.locate(profile, extra: nil)
            let loaded = try ProfileLoader.load(.file(path), configurationFile: path)
            fuser = try loaded.settings.makeEngine(baseDirectory: loaded.baseDirectory ?? FileManager.default.currentDirectoryPath).engine
            label = "profile \(profile) (\(path))"
        } else if fusedDir == nil {
            var settings = FusionSettings()
            settings.engine = FusionSettings.Engine(rawValue: engine)!
            settings.model = model
            if let steps { settings.steps = steps }
            fuser = try settings.makeEngine(baseDirectory: FileManager.default.currentDirectoryPath).engine
        }
        var rows: [(String, PairScores)] = []
        for pair in pairs.pairs {
            let a = try ImageFile.read(pair.a), b = try ImageFile.read(pair.b)
            let truth = try pair.truth.map { try ImageFile.read($0) }
            var files = [(pair.a, a.image), (pair.b, b.image)]
            if let t = truth { files.append((pair.truth!, t.image)) }
            let fusedImage: Image
            var seconds: Double? = nil
            if let fusedDir {
                let path = try DatasetPairs.file(named: pair.name, in: fusedDir)
                fusedImage = try ImageFile.read(path).image
                files.append((path, fusedImage))
            } else {
                let clock = ContinuousClock()
                let start = clock.now
                fusedImage = try fuser!.fuse(InMemoryStack(slices: [a.image, b.image], format: a.format,
                                                           names: [pair.a, pair.b])).fused
                let elapsed = clock.now - start
                seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            }
            try checkSizes(files)
            rows.append((pair.name, PairScores.measure(a: a.image, b: b.image, fused: fusedImage, truth: truth?.image,
                                                       peak: Self.peak(a.format, [a.image, b.image]), seconds: seconds)))
        }
        let mean = PairScores.mean(rows.map(\.1))
        let source = fusedDir.map { "fused images from \($0)" } ?? label
        if json {
            let object: [String: Any] = [
                "dataset": directory, "source": source,
                "pairs": rows.map { $0.1.jsonObject(name: $0.0) },
                "mean": mean.jsonObject(name: "mean"),
            ]
            print(object.jsonString)
            return
        }
        let hasTruth = rows.contains { $0.1.psnr != nil }
        let hasTime = rows.contains { $0.1.seconds != nil }
        var header = ["pair", "Q_AB/F", "Q_MI", "Q_CB", "Q_Y"]
        if hasTruth { header += ["PSNR", "SSIM"] }
        if hasTime { header.append("s/pair") }
        print(header.map { $0.padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
        for (name, scores) in rows + [("mean", mean)] {
            print(([name] + scores.cells(truth: hasTruth, time: hasTime)).map { $0.padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
        }
        print("\(rows.count) pairs from \(directory), \(source)")
    }

    /// The value scale of the sources: 255 for 8-bit, 65535 for 16-bit, inferred for float.
    static func peak(_ format: SampleFormat, _ images: [Image]) -> Double {
        format.maximumValue.map(Double.init) ?? FusionMetrics.inferredPeak(images)
    }

    func checkSizes(_ files: [(String, Image)]) throws {
        let (firstPath, first) = files[0]
        for (path, image) in files.dropFirst() where image.width != first.width || image.height != first.height {
            throw EvalError(path: path, message: "is \(image.width)×\(image.height) but \(firstPath) is \(first.width)×\(first.height); metrics compare images of one size")
        }
    }
}

/// A file-level problem in `focusd eval` (exit code 1).
struct EvalError: Error, CustomStringConvertible {
    let path: String
    let message: String
    var description: String { "\(path): \(message)" }
}
