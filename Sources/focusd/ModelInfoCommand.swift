import ArgumentParser
import Checksum
import Foundation
import FusionDiff
import NN

struct ModelInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a model's configuration, parameter count and sha256.",
        discussion: """
            Examples:
              focusd model info models/default.safetensors
              focusd model info --preset paper
              focusd model info weights.safetensors --config config.json   (a bare state_dict)
            """)

    @Argument(help: "A FusionDiff model file (safetensors).")
    var file: String?

    @Option(help: "A built-in configuration instead of a file: paper | small | small16 | small32.")
    var preset: String?

    @Option(help: "Configuration JSON for a bare state_dict that carries none.")
    var config: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if (file == nil) == (preset == nil) { throw ValidationError("give either a model FILE or --preset paper|small") }
        if let preset, ModelPresets.configuration(named: preset) == nil {
            throw ValidationError("unknown preset '\(preset)'; use paper, small, small16 or small32")
        }
    }

    func run() async throws {
        var info: [(String, String)] = []
        let configuration: FusionDiffConfiguration
        let parameterCount: Int
        var metadata: [String: String] = [:]
        if let preset, let c = ModelPresets.configuration(named: preset) {
            configuration = c
            parameterCount = UNet(configuration: c).parameterCount
            info.append(("source", "preset \(preset)"))
        } else if let file {
            let loaded = try ModelFileLoader.load(file, configPath: config)
            configuration = loaded.model.configuration
            parameterCount = loaded.network.parameterCount
            metadata = loaded.model.metadata
            info.append(("source", file))
            info.append(("sha256", try SHA256.hex(fileAt: file)))
            info.append(("schedule", "\(NoiseSchedule.cosineName), T = \(loaded.model.schedule.timesteps)"))
        } else {
            throw ValidationError("give either a model FILE or --preset")
        }
        // Which build of the 3×3 convolution kernels this machine runs (avx512f, avx2+fma, portable).
        info.append(("convolution_kernels", Conv2D.kernelPath))
        if json {
            var object: [String: Any] = ["parameters": parameterCount]
            object["configuration"] = try JSONSerialization.jsonObject(with: Data(configuration.jsonString().utf8))
            for (k, v) in info { object[k] = v }
            let extra = metadata.filter { $0.key != "config" }
            if !extra.isEmpty { object["metadata"] = extra }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for (k, v) in info { print("\(k): \(v)") }
        print("parameters: \(ModelPresets.grouped(parameterCount)) (\(parameterCount))")
        print("configuration: \(configuration.jsonString())")
        print("  image channels \(configuration.imageChannels), width \(configuration.width), mults \(configuration.mults), res_blocks \(configuration.resBlocks), groups \(configuration.groups)")
        print("  prediction \(configuration.prediction.rawValue), focus features \(configuration.focusFeatures ? "on" : "off"), input channels \(configuration.inputChannels), size multiple \(configuration.sizeMultiple)")
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) where k != "config" && k != "schedule" && k != "T" {
            print("metadata \(k): \(v)")
        }
    }
}

/// Built-in model configurations by name.
enum ModelPresets {
    static func configuration(named name: String) -> FusionDiffConfiguration? {
        switch name {
        case "paper": .paper
        case "small", "small32": .small(width: 32)
        case "small16": .small(width: 16)
        default: nil
        }
    }

    /// 26915395 → "26,915,395".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}

/// Reads a model file (and an optional configuration JSON) into a ready U-Net.
enum ModelFileLoader {
    /// - Throws: `ModelFileError` naming the file when it is missing, unreadable or does not match.
    static func load(_ path: String, configPath: String?) throws -> (model: ModelFile, network: UNet) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, message: "cannot read the model file; check the path (a trained model is written by `focusd train --out`)")
        }
        var configText: String?
        if let configPath {
            guard let configData = FileManager.default.contents(atPath: configPath) else {
                throw ModelFileError(path: configPath, message: "cannot read the configuration JSON; check the path")
            }
            configText = String(decoding: configData, as: UTF8.self)
        }
        let model = try ModelFile.parse(data, path: path, configurationJSON: configText)
        return (model, try model.makeNetwork(path: path))
    }
}
