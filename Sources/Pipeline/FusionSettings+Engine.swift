import Checksum
import Foundation
import Fusion
import FusionDiff

/// An engine built from settings, with the model it loaded (for provenance).
public struct EngineBundle {
    public var engine: any StackFusionEngine
    public var model: ModelRecord?
}

extension FusionSettings {
    /// Builds the engine these settings name.
    /// - Parameters:
    ///   - baseDirectory: folder against which a relative `model` path is resolved.
    ///   - models: where the model file is read and hashed, once per version of the file.
    /// - Throws: `SettingsError` when the model is missing or unreadable.
    public func makeEngine(baseDirectory: String? = nil, models: ModelStore = .shared) throws -> EngineBundle {
        try validate()
        switch engine {
        case .reference:
            return EngineBundle(engine: ReferenceEngine(), model: nil)
        case .control:
            return EngineBundle(engine: stackEngine(generator: FocusMeasureGenerator(channels: 1)), model: nil)
        case .fusiondiff:
            let path = try resolvedModelPath(baseDirectory: baseDirectory)
            let loaded = try models.model(at: path)
            let generator: FusionDiffGenerator
            do {
                generator = try FusionDiffGenerator(model: loaded.file, path: path, steps: steps, seed: seed, views: views)
            } catch {
                throw SettingsError(key: "model", message: "\(error)")
            }
            let record = ModelRecord(path: path, sha256: loaded.sha256,
                                     configuration: loaded.file.configuration.jsonString())
            return EngineBundle(engine: stackEngine(generator: generator), model: record)
        }
    }

    /// The N-slice engine for `composition` around a pair generator.
    func stackEngine(generator: any PairGenerator) -> any StackFusionEngine {
        switch composition {
        case .selection:
            SliceSelectionEngine(generator: generator, projection: projection, order: order, tiling: tiling, selection: selection)
        case .pairwise:
            PairwiseEngine(generator: generator, projection: projection, order: order, tiling: tiling)
        }
    }

    /// The thread count for the numerical kernels: `threads`, or every core when it is 0. A job
    /// runs its engine inside `Compute.withThreads(threadCount)`.
    public var threadCount: Int {
        threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
    }

    /// The model file these settings name, found by `ModelSearchPath`.
    /// - Throws: `SettingsError` naming every place looked in when it is nowhere.
    public func resolvedModelPath(baseDirectory: String?) throws(SettingsError) -> String {
        guard let model, !model.isEmpty else {
            throw SettingsError(key: "model", message: "engine 'fusiondiff' needs a model file; set 'model' or pass --model")
        }
        return try ModelSearchPath.locate(model, baseDirectory: baseDirectory)
    }
}

/// Where a model named by a relative path is looked for, in order: the profile's folder, the
/// current folder, `$FOCUSD_MODELS`, the `models/` folder of the checkout the binary was built in,
/// and `/usr/local/share/focusd/models`, `/usr/share/focusd/models`.
public enum ModelSearchPath {
    public static func candidates(_ model: String, baseDirectory: String?) -> [String] {
        if model.hasPrefix("/") { return [model] }
        var folders: [String] = []
        if let baseDirectory { folders.append(baseDirectory) }
        folders.append(FileManager.default.currentDirectoryPath)
        if let env = ProcessInfo.processInfo.environment["FOCUSD_MODELS"], !env.isEmpty { folders.append(env) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        // <checkout>/.build/<config>/focusd and <checkout>/.build/<triple>/<config>/focusd
        var up = executable.deletingLastPathComponent()
        for _ in 0..<3 {
            up.deleteLastPathComponent()
            folders.append(up.path)
        }
        folders += ["/usr/local/share/focusd", "/usr/share/focusd"]
        var seen = Set<String>()
        var paths: [String] = []
        for folder in folders {
            for candidate in [(folder as NSString).appendingPathComponent(model),
                              ((folder as NSString).appendingPathComponent("models") as NSString).appendingPathComponent((model as NSString).lastPathComponent)]
            where seen.insert(candidate).inserted {
                paths.append(candidate)
            }
        }
        return paths
    }

    public static func locate(_ model: String, baseDirectory: String?) throws(SettingsError) -> String {
        let candidates = candidates(model, baseDirectory: baseDirectory)
        if let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) {
            return (found as NSString).standardizingPath
        }
        throw SettingsError(key: "model", message: "model file '\(model)' not found; looked in: "
                            + candidates.joined(separator: ", ") + ". Give an absolute path or install the model there")
    }
}
