import ArgumentParser
import Foundation
import FusionDiff
import Imaging
import NN
import SystemCalls

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train or fine-tune a FusionDiff model.",
        discussion: """
            Data: every --data folder is searched for triplets NAME_A.*, NAME_B.*, NAME_GT.* (labelled \
            pairs) and for any other image (sharp images for synthetic pairs); the _GT images serve as \
            sharp images too. Images are scaled to [−1, 1] by the range of each pair (as fusion scales \
            a stack), and to luminance (BT.601 Y) for 1-channel models.

            A checkpoint (weights, EMA, optimizer and random state) is written every --checkpoint-every \
            steps next to --out (OUT.ckpt) together with the EMA model at --out; --resume continues it \
            exactly. --steps is the total step count of the run, resumed or not.

            Examples:
              focusd train --data ../shared/data/train/nyud100 --out models/mine.safetensors --preset small16 --steps 20000
              focusd train --data DIR --out m.safetensors --resume m.safetensors.ckpt --steps 40000
              focusd train --data labpairs --init models/default.safetensors --out lab.safetensors --steps 2000 --lr 2e-4
            """)

    @Option(name: .customLong("data"), parsing: .upToNextOption, help: "Folders of triplets and/or sharp images.")
    var data: [String] = []
    @Option(name: .customLong("textures"), parsing: .upToNextOption,
            help: "In-focus images (files or folders) to simulate microscope stacks from; selection pairs from them are the training data.")
    var textures: [String] = []
    @Option(help: "Stacks simulated per texture (with --textures).") var stacksPerTexture: Int = 3
    @Option(help: "Pairs taken from each simulated stack (with --textures).") var pairsPerStack: Int = 3
    @Option(help: "Output model file (the EMA weights).") var out: String
    @Option(help: "Model: small (width 32), small16, small32, paper, or a CONFIG.json / CONFIG.yaml.") var preset: String = "small"
    @Option(help: "Total number of optimisation steps.") var steps: Int
    @Option(help: "Prediction target: eps (published), x0 or v. Default: the preset's (x0 for small).") var objective: String?
    @Flag(inversion: .prefixedNo, help: "Focus-feature input channels (default on for small presets).") var focusFeatures: Bool?
    @Option(help: "Resume from a checkpoint written by focusd train.") var resume: String?
    @Option(name: .customLong("init"), help: "Initial weights from a model file (fine-tuning); its configuration is used.") var initModel: String?
    @Option(help: "Seed of all random choices.") var seed: UInt64 = 0
    @Option(help: "Batch size.") var batch: Int = 8
    @Option(help: "Square crop side in pixels (multiple of 8).") var crop: Int = 96
    @Option(help: "Peak learning rate (AdamW).") var lr: Float = 1e-3
    @Option(help: "Warm-up steps.") var warmup: Int = 200
    @Option(help: "EMA decay.") var ema: Float = 0.995
    @Option(help: "Share of synthetic pairs when both kinds of data exist.") var syntheticFraction: Double = 0.5
    @Option(help: "Steps between checkpoints.") var checkpointEvery: Int = 250
    @Option(help: "Checkpoint path (default OUT.ckpt).") var checkpoint: String?
    @Option(help: "Steps between progress lines.") var logEvery: Int = 10
    @Option(help: "Compute threads (default: all cores).") var threads: Int?

    func validate() throws {
        if data.isEmpty && textures.isEmpty { throw ValidationError("give at least one --data folder or --textures image or folder") }
        if stacksPerTexture < 1 || pairsPerStack < 1 { throw ValidationError("--stacks-per-texture and --pairs-per-stack must be at least 1") }
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if crop < 8 || crop % 8 != 0 { throw ValidationError("--crop must be a positive multiple of 8") }
        if let objective, PredictionTarget(rawValue: objective) == nil { throw ValidationError("--objective must be eps, x0 or v") }
        if resume != nil && initModel != nil { throw ValidationError("use either --resume or --init, not both") }
        if checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
    }

    func run() async throws {
        try await Compute.withThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount) { try await runWithThreads() }
    }

    private func runWithThreads() async throws {
        let checkpointPath = checkpoint ?? out + ".ckpt"
        var options = TrainingOptions()
        options.batchSize = batch
        options.crop = crop
        options.learningRate = lr
        options.warmupSteps = warmup
        options.emaDecay = ema
        options.syntheticFraction = syntheticFraction
        options.seed = seed

        var configuration: FusionDiffConfiguration
        var resumeState: TrainerState?
        var initialWeights: UNet?
        if let resume {
            guard let bytes = FileManager.default.contents(atPath: resume) else {
                throw ModelFileError(path: resume, message: "cannot read the checkpoint; check the path")
            }
            let parsed = try TrainerState.parse(bytes, path: resume)
            configuration = parsed.configuration
            options = parsed.options  // the run's own settings; only --steps extends it
            resumeState = parsed.state
        } else if let initModel {
            let loaded = try ModelFileLoader.load(initModel, configPath: nil)
            configuration = loaded.model.configuration
            initialWeights = loaded.network
            if let objective, objective != configuration.prediction.rawValue {
                throw ValidationError("--objective \(objective) differs from the initial model's \(configuration.prediction.rawValue); fine-tuning keeps the objective")
            }
        } else {
            configuration = try TrainingConfigurationFile.resolve(preset)
            if let objective { configuration.prediction = PredictionTarget(rawValue: objective)! }
            if let focusFeatures { configuration.focusFeatures = focusFeatures }
        }
        let problems = configuration.problems
        guard problems.isEmpty else { throw ValidationError("invalid configuration: \(problems.joined(separator: "; "))") }
        guard options.crop % configuration.sizeMultiple == 0 else {
            throw ValidationError("--crop must be a multiple of \(configuration.sizeMultiple) for this model")
        }

        let loadStart = Date()
        var trainingData = data.isEmpty ? TrainingData(triplets: [], sharpImages: [])
            : try TrainingDataLoader.load(folders: data, channels: configuration.imageChannels, crop: options.crop)
        if !textures.isEmpty {
            trainingData.triplets += try SimulatedTrainingPairs.make(
                textures: textures, channels: configuration.imageChannels, crop: max(options.crop, 128),
                stacksPerTexture: stacksPerTexture, pairsPerStack: pairsPerStack, seed: options.seed)
        }
        say("data: \(trainingData.triplets.count) triplets, \(trainingData.sharpImages.count) sharp images (\(String(format: "%.1f", Date().timeIntervalSince(loadStart))) s)")
        let network = initialWeights ?? UNet(configuration: configuration, seed: seed)
        say("model: \(configuration.jsonString()), \(ModelPresets.grouped(network.parameterCount)) parameters; batch \(options.batchSize) of \(options.crop)², \(Compute.threads) threads")
        let trainer = Trainer(model: network, configuration: configuration, options: options, data: trainingData, resume: resumeState)
        if trainer.step >= steps {
            say("checkpoint is at step \(trainer.step) ≥ --steps \(steps); nothing to do")
        }
        let start = Date()
        let firstStep = trainer.step
        var recent: [Double] = []
        while trainer.step < steps {
            let (loss, norm) = trainer.trainStep()
            recent.append(loss)
            if recent.count > 50 { recent.removeFirst() }
            if trainer.step % logEvery == 0 || trainer.step == steps {
                let elapsed = Date().timeIntervalSince(start)
                let rate = Double(trainer.step - firstStep) / max(elapsed, 1e-9)
                let eta = Double(steps - trainer.step) / max(rate, 1e-9)
                let mean = recent.reduce(0, +) / Double(recent.count)
                say(String(format: "step %d/%d loss %.4f (mean of last %d %.4f) grad %.3f lr %.2e %.3f steps/s ETA %@",
                             trainer.step, steps, loss, recent.count, mean, norm, Double(trainer.learningRate(atStep: trainer.step - 1)),
                             rate, TrainingOutput.duration(eta)))
            }
            if trainer.step % checkpointEvery == 0 || trainer.step == steps {
                try TrainingOutput.save(trainer: trainer, configuration: configuration, options: options,
                                        modelPath: out, checkpointPath: checkpointPath,
                                        wallSeconds: Date().timeIntervalSince(start))
            }
        }
        say("wrote \(out) (EMA weights, step \(trainer.step)) and checkpoint \(checkpointPath)")
    }
}

/// A progress line on standard output, unbuffered (so a log file follows the run).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Writing models and checkpoints atomically.
enum TrainingOutput {
    static func save(trainer: Trainer, configuration: FusionDiffConfiguration, options: TrainingOptions,
                     modelPath: String, checkpointPath: String, wallSeconds: Double) throws {
        let checkpoint = trainer.state.checkpointData(configuration: configuration, options: options, schedule: trainer.schedule)
        try atomicWrite(checkpoint, to: checkpointPath)
        let layout = trainer.model.parameterLayout
        var stateDict: [(name: String, shape: [Int], values: [Float])] = []
        var offset = 0
        let ema = trainer.emaParameters
        for entry in layout {
            let count = entry.shape.reduce(1, *)
            stateDict.append((entry.name, entry.shape, Array(ema[offset..<(offset + count)])))
            offset += count
        }
        let optionsJSON = (try? JSONEncoder().encode(options)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let model = ModelFile.serialize(configuration: configuration, stateDict: stateDict, schedule: trainer.schedule,
                                        extraMetadata: ["steps": String(trainer.step), "objective": configuration.prediction.rawValue,
                                                        "weights": "ema", "training_options": optionsJSON,
                                                        "trained_by": "focusd train"])
        try atomicWrite(model, to: modelPath)
    }

    /// Writes to a temporary file in the same folder, then renames it over `path`.
    static func atomicWrite(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary, options: .atomic)
            guard rename(temporary.path, path) == 0 else {
                throw ModelFileError(path: path, message: "cannot rename the temporary file over it: \(SystemCallError.reason(errno))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ModelFileError(path: path, message: "cannot write (\(error.localizedDescription)); check that the folder exists and has space")
        }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}

/// Model configurations for training: a preset name or a JSON / flat YAML file with ARCHITECTURE.md's keys.
enum TrainingConfigurationFile {
    static func resolve(_ preset: String) throws -> FusionDiffConfiguration {
        if var c = ModelPresets.configuration(named: preset) {
            if preset.hasPrefix("small") { c.focusFeatures = true }
            return c
        }
        guard let data = FileManager.default.contents(atPath: preset) else {
            throw ValidationError("--preset '\(preset)' is neither small, small16, small32, paper nor a readable configuration file")
        }
        var text = String(decoding: data, as: UTF8.self)
        if !text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") { text = yamlToJSON(text) }
        do { return try FusionDiffConfiguration.fromJSON(text) } catch {
            throw ModelFileError(path: preset, message: "not a model configuration (\(error)); keys: image_channels, width, mults, res_blocks, groups, time_channels, time_embed_dim, dropout, prediction, focus_features")
        }
    }

    /// Flat `key: value` YAML (values JSON-like: numbers, true/false, [lists], words) → JSON.
    static func yamlToJSON(_ text: String) -> String {
        var fields: [String] = []
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces)
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if Double(value) == nil, !["true", "false"].contains(value), !value.hasPrefix("["), !value.hasPrefix("\"") {
                value = "\"\(value)\""
            }
            fields.append("\"\(key)\": \(value)")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}

/// Reads training folders into `TrainingData` (sorted, so a seed reproduces the run).
enum TrainingDataLoader {
    static let extensions: Set<String> = ["jpg", "jpeg", "png", "tif", "tiff"]

    static func load(folders: [String], channels: Int, crop: Int) throws -> TrainingData {
        var triplets: [TrainingTriplet] = []
        var sharp: [TrainingImage] = []
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ModelFileError(path: folder, message: "is not a folder; --data takes folders of triplets (NAME_A, NAME_B, NAME_GT) or sharp images")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            var byStem: [String: [String: String]] = [:]
            var plain: [String] = []
            for name in names {
                let stem = (name as NSString).deletingPathExtension
                if let suffix = ["_A", "_B", "_GT"].first(where: { stem.hasSuffix($0) }) {
                    byStem[String(stem.dropLast(suffix.count)), default: [:]][suffix] = name
                } else {
                    plain.append(name)
                }
            }
            for stem in byStem.keys.sorted() {
                let parts = byStem[stem]!
                let path = { (suffix: String) in (folder as NSString).appendingPathComponent(parts[suffix]!) }
                if parts["_A"] != nil, parts["_B"] != nil, parts["_GT"] != nil {
                    let a = try ImageFile.read(path("_A")).image, b = try ImageFile.read(path("_B")).image
                    let gt = try ImageFile.read(path("_GT")).image
                    guard a.width == b.width, a.width == gt.width, a.height == b.height, a.height == gt.height else {
                        throw ModelFileError(path: path("_A"), message: "the triplet \(stem) has images of different sizes")
                    }
                    guard a.width >= crop, a.height >= crop else {
                        throw ModelFileError(path: path("_A"), message: "is \(a.width)×\(a.height), smaller than the --crop \(crop)")
                    }
                    // One range for the pair (as fusion scales a stack), applied to the ground truth too.
                    let (lo, hi) = range(of: [a, b])
                    let t = TrainingTriplet(source1: normalised(a, lo, hi, channels), source2: normalised(b, lo, hi, channels),
                                            groundTruth: normalised(gt, lo, hi, channels))
                    triplets.append(t)
                    sharp.append(normalised(gt, range(of: [gt]).0, range(of: [gt]).1, channels))
                } else if let gt = parts["_GT"] {
                    plain.append(gt)
                }
            }
            for name in plain.sorted() {
                let path = (folder as NSString).appendingPathComponent(name)
                let image = try ImageFile.read(path).image
                guard image.width >= crop, image.height >= crop else { continue }
                let (lo, hi) = range(of: [image])
                sharp.append(normalised(image, lo, hi, channels))
            }
        }
        guard !triplets.isEmpty || !sharp.isEmpty else {
            throw ModelFileError(path: folders.joined(separator: ", "), message: "no usable images (triplets NAME_A/NAME_B/NAME_GT or sharp images at least \(crop)×\(crop) pixels)")
        }
        return TrainingData(triplets: triplets, sharpImages: sharp)
    }

    static func range(of images: [Image]) -> (Float, Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for image in images { for v in image.pixels { lo = min(lo, v); hi = max(hi, v) } }
        return hi > lo ? (lo, hi) : (lo, lo + 1)
    }

    /// Scales to [−1, 1] by [lo, hi] and converts to `channels` (BT.601 luma for 1, replication for 3).
    static func normalised(_ image: Image, _ lo: Float, _ hi: Float, _ channels: Int) -> TrainingImage {
        let plane = image.planeSize
        var source = image.pixels
        let scale = 2 / (hi - lo)
        for i in 0..<source.count { source[i] = (source[i] - lo) * scale - 1 }
        var out: [Float]
        if channels == image.channels {
            out = source
        } else if channels == 1 {
            out = [Float](repeating: 0, count: plane)
            if image.channels >= 3 {
                for p in 0..<plane { out[p] = 0.299 * source[p] + 0.587 * source[plane + p] + 0.114 * source[2 * plane + p] }
            } else {
                for p in 0..<plane { out[p] = source[p] }
            }
        } else {
            out = []
            for c in 0..<channels { out += source[(min(c, image.channels - 1) * plane)..<((min(c, image.channels - 1) + 1) * plane)] }
        }
        return TrainingImage(channels: channels, height: image.height, width: image.width, pixels: out)
    }
}
