import Checksum
import Foundation

/// What `focusd reprocess` reads back from a provenance sidecar to decide whether its outputs are up to date.
public struct SidecarSummary: Sendable, Equatable {
    /// An output the sidecar lists: absolute path, role (`fused`, `depth`, `confidence`) and hex SHA-256.
    public struct Output: Sendable, Equatable {
        public var path: String
        public var role: String
        public var sha256: String
    }

    /// `focusd:profileFingerprint` of the action; nil in sidecars written before it existed.
    public var profileFingerprint: String?
    /// Whether the action completed (`CompletedActionStatus`).
    public var succeeded: Bool
    public var outputs: [Output]

    /// Reads the sidecar at `path`; nil when it is absent or not a focusd sidecar.
    public static func read(_ path: String) -> SidecarSummary? {
        guard let data = FileManager.default.contents(atPath: path),
              let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let graph = document["@graph"] as? [[String: Any]],
              let action = graph.first(where: { $0["@type"] as? String == "CreateAction" }) else { return nil }
        let status = (action["actionStatus"] as? [String: Any])?["@id"] as? String
        let outputs = graph.compactMap { entity -> Output? in
            guard let role = entity["focusd:role"] as? String, let path = entity["@id"] as? String,
                  let sha = entity["sha256"] as? String else { return nil }
            return Output(path: path, role: role, sha256: sha)
        }
        return SidecarSummary(profileFingerprint: action["focusd:profileFingerprint"] as? String,
                              succeeded: status == "http://schema.org/CompletedActionStatus", outputs: outputs)
    }

    /// Why these outputs are not up to date for `fingerprint`, or nil when they are: the sidecar
    /// succeeded, names `fingerprint`, and every output it lists exists with the recorded SHA-256.
    public func staleness(for fingerprint: String) -> String? {
        guard succeeded else { return "the sidecar records a failed run" }
        guard let recorded = profileFingerprint else { return "the sidecar has no profile fingerprint (written by an older focusd)" }
        guard recorded == fingerprint else { return "profile or model changed (fingerprint \(recorded.prefix(12)) → \(fingerprint.prefix(12)))" }
        guard outputs.contains(where: { $0.role == "fused" }) else { return "the sidecar lists no fused image" }
        for output in outputs {
            guard FileManager.default.fileExists(atPath: output.path) else { return "\(output.path) is missing" }
            guard let sha = try? SHA256.hex(fileAt: output.path), sha == output.sha256 else {
                return "\(output.path) does not match the sha256 in its sidecar"
            }
        }
        return nil
    }
}
