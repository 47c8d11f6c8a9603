import Checksum
import Foundation
import Pipeline

/// The identity of what a profile does to a stack: equal fingerprints give equal outputs from equal inputs.
///
/// SHA-256 (hex) over this text, UTF-8:
/// ```
/// focusd profile fingerprint
/// fusion-version <ProfileFingerprint.fusionVersion>
/// settings <canonical JSON>
/// model <the model file's hex SHA-256, empty for engines without a model>
/// ```
/// The canonical JSON is the fully resolved settings (every key of `FusionSettings.keys`, defaults
/// filled in, keys sorted, an unset optional key as `null`) without `model`: the model enters by its
/// content, so moving or renaming the model file keeps outputs up to date, while any other change —
/// a setting, a retrained model, a change to the fusion code (`fusionVersion`) — makes them out of date.
/// `threads` enters as 0 whatever its value: outputs are bit-identical across thread counts, so
/// setting threads per machine or batch task never makes an archive out of date. An integer
/// `output_format` without `output_window` enters with `output_window: "data range"`: such outputs
/// map the fused image's own range since that behaviour began (earlier ones mapped full range to
/// full range), so they are fused again once, and profiles that keep the format are unaffected.
/// The daemon records it in every sidecar (`focusd:profileFingerprint`) and `focusd reprocess`
/// compares it to decide whether an output is up to date.
public enum ProfileFingerprint {
    /// The version of the fusion code's behaviour; bump it when a change to the pipeline changes the
    /// pixels it writes for the same settings and model, so archives are fused again.
    public static let fusionVersion = "3"  // 2: the projection fits its weights on detail (Fusion/Projection.swift); 3: selection composition (Fusion/SliceSelectionEngine.swift)

    /// The fingerprint of resolved settings and a model hash.
    public static func compute(settings: FusionSettings, modelSHA256: String?) -> String {
        compute(settingsJSON: encode(settings), modelSHA256: modelSHA256)
    }

    /// The fingerprint from settings already encoded as JSON (e.g. `ProcessorIdentity.settingsJSON`).
    /// Text that is not a JSON object is hashed as it is.
    public static func compute(settingsJSON: String, modelSHA256: String?) -> String {
        let text = "focusd profile fingerprint\nfusion-version \(fusionVersion)\nsettings \(canonicalSettings(settingsJSON))\nmodel \(modelSHA256 ?? "")\n"
        return SHA256.hex(Array(text.utf8))
    }

    /// The fingerprint of a processor's identity (what the daemon's workers know).
    public static func compute(identity: ProcessorIdentity) -> String {
        compute(settingsJSON: identity.settingsJSON, modelSHA256: identity.modelSHA256)
    }

    /// Resolves the model (for `fusiondiff`), hashes it and returns the fingerprint with the model's hash.
    /// - Throws: `SettingsError` (key `model`) when the model file cannot be found or read.
    public static func compute(settings: FusionSettings, baseDirectory: String?) throws(SettingsError) -> (fingerprint: String, modelSHA256: String?) {
        var modelHash: String?
        if settings.engine == .fusiondiff {
            // The same hash the daemon and reprocess use, read once per version of the file.
            modelHash = try ModelStore.shared.sha256(ofModelAt: try settings.resolvedModelPath(baseDirectory: baseDirectory))
        }
        return (compute(settings: settings, modelSHA256: modelHash), modelHash)
    }

    /// Keys added after fingerprints were first recorded, with the default that reproduces the
    /// earlier output: left out of the canonical form at that default, so outputs made before the
    /// key existed stay up to date.
    static let laterKeyDefaults: [String: Int] = ["views": 1]

    /// Optional keys added after fingerprints were first recorded: left out of the canonical form when unset.
    static let laterOptionalKeys: Set<String> = ["output_window"]

    /// Sorted-key JSON of the settings with every key present (`null` when unset) and `model` removed.
    public static func canonicalSettings(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
        var resolved = object
        for (key, value) in laterKeyDefaults where resolved[key] == nil || (resolved[key] as? Int) == value { resolved[key] = nil }
        for key in FusionSettings.keys where resolved[key] == nil && laterKeyDefaults[key] == nil
            && !laterOptionalKeys.contains(key) {
            resolved[key] = NSNull()
        }
        resolved["model"] = nil
        // Threads change the time, never the pixels.
        if resolved["threads"] != nil { resolved["threads"] = 0 }
        if let format = resolved["output_format"] as? String, format == "uint8" || format == "uint16", resolved["output_window"] == nil {
            resolved["output_window"] = "data range"
        }
        guard let data = try? JSONSerialization.data(withJSONObject: resolved, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return json
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func encode(_ settings: FusionSettings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
