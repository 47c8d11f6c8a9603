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

    /// Reads the sidecar at `path`; nil when it is absent or not a focusd sidecar. Reads both the
    /// RO-Crate sidecars (`file://` ids) and those written before them (`.prov.json`, absolute paths).
    public static func read(_ path: String) -> SidecarSummary? {
        guard let data = FileManager.default.contents(atPath: path),
              let document = try? JSONDecoder().decode(Document.self, from: data),
              let action = document.graph.first(where: { $0.types.contains("CreateAction") }) else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        let outputs = document.graph.compactMap { entity -> Output? in
            guard entity.types.contains("File"), let role = entity.role, let id = entity.id, let sha = entity.sha256,
                  let file = CrateID.path(of: id, relativeTo: folder) else { return nil }
            return Output(path: file, role: role, sha256: sha)
        }
        return SidecarSummary(profileFingerprint: action.profileFingerprint,
                              succeeded: action.actionStatus == .completed, outputs: outputs)
    }

    /// The few properties read back, from any version of the sidecar.
    private struct Document: Decodable {
        var graph: [Entity]
        enum CodingKeys: String, CodingKey { case graph = "@graph" }
    }

    private struct Entity: Decodable {
        var id: String?
        var types: [String]
        var role: String?
        var sha256: String?
        var actionStatus: CrateActionStatus?
        var profileFingerprint: String?
        enum CodingKeys: String, CodingKey {
            case id = "@id", type = "@type", role = "focusd:role", sha256, actionStatus, profileFingerprint = "focusd:profileFingerprint"
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try? container.decode(String.self, forKey: .id)
            types = (try? container.decode([String].self, forKey: .type)) ?? ((try? container.decode(String.self, forKey: .type)).map { [$0] } ?? [])
            role = try? container.decode(String.self, forKey: .role)
            sha256 = try? container.decode(String.self, forKey: .sha256)
            actionStatus = try? container.decode(CrateActionStatus.self, forKey: .actionStatus)
            profileFingerprint = try? container.decode(String.self, forKey: .profileFingerprint)
        }
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
