import Checksum
import Foundation
import Fusion

/// An engine built from settings, with the model it loaded (for provenance).
public struct EngineBundle {
    public var engine: any StackFusionEngine
    public var model: ModelRecord?
}

extension FusionSettings {
    /// Builds the engine these settings name.
    /// - Parameter baseDirectory: folder against which a relative `model` path is resolved.
    /// - Throws: `SettingsError` when the model is missing or unreadable.
    public func makeEngine(baseDirectory: String? = nil) throws -> EngineBundle {
        try validate()
        switch engine {
        case .reference:
            return EngineBundle(engine: ReferenceEngine(), model: nil)
        case .control:
            return EngineBundle(engine: PairwiseEngine(generator: FocusMeasureGenerator(channels: 1),
                                                       projection: projection, order: order, tiling: tiling),
                                model: nil)
        case .fusiondiff:
            throw SettingsError(key: "engine", message: "the fusiondiff engine is not wired in yet")
        }
    }

    /// `model` resolved against `baseDirectory` when relative.
    public func resolvedModelPath(baseDirectory: String?) -> String? {
        guard let model, !model.isEmpty else { return nil }
        if model.hasPrefix("/") || baseDirectory == nil { return model }
        return (baseDirectory! as NSString).appendingPathComponent(model)
    }
}
