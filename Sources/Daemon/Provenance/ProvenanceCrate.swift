import Foundation

/// One entity of the crate's flat `@graph`, decoded by its `@id` and `@type`.
public enum CrateEntity: Codable, Sendable, Equatable {
    case descriptor(CrateDescriptor)
    case root(CrateRootDataset)
    case contextual(CrateContextualEntity)
    case action(FusionAction)
    case software(CrateSoftware)
    case host(CrateHost)
    case organization(CrateOrganization)
    case file(CrateFile)
    case property(CratePropertyValue)
    case supersededSet(CrateSupersededSet)
    case supersededOutput(CrateSupersededOutput)

    private enum Probe: String, CodingKey { case id = "@id", type = "@type" }

    public init(from decoder: any Decoder) throws {
        let probe = try decoder.container(keyedBy: Probe.self)
        let id = try probe.decode(String.self, forKey: .id)
        let type = try probe.decode(String.self, forKey: .type)
        switch (id, type) {
        case ("ro-crate-metadata.json", _): self = .descriptor(try CrateDescriptor(from: decoder))
        case ("#host", _): self = .host(try CrateHost(from: decoder))
        case ("#supersedes", _): self = .supersededSet(try CrateSupersededSet(from: decoder))
        case (_, "Thing") where id.hasPrefix("#supersedes/"): self = .supersededOutput(try CrateSupersededOutput(from: decoder))
        case (_, "Dataset"): self = .root(try CrateRootDataset(from: decoder))
        case (_, "CreateAction"): self = .action(try FusionAction(from: decoder))
        case (_, "SoftwareApplication"): self = .software(try CrateSoftware(from: decoder))
        case (_, "Organization"): self = .organization(try CrateOrganization(from: decoder))
        case (_, "File"): self = .file(try CrateFile(from: decoder))
        case (_, "PropertyValue"): self = .property(try CratePropertyValue(from: decoder))
        case (_, "CreativeWork"): self = .contextual(try CrateContextualEntity(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: probe, debugDescription: "\(id): no focusd crate entity has @type \(type)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .descriptor(let entity): try entity.encode(to: encoder)
        case .root(let entity): try entity.encode(to: encoder)
        case .contextual(let entity): try entity.encode(to: encoder)
        case .action(let entity): try entity.encode(to: encoder)
        case .software(let entity): try entity.encode(to: encoder)
        case .host(let entity): try entity.encode(to: encoder)
        case .organization(let entity): try entity.encode(to: encoder)
        case .file(let entity): try entity.encode(to: encoder)
        case .property(let entity): try entity.encode(to: encoder)
        case .supersededSet(let entity): try entity.encode(to: encoder)
        case .supersededOutput(let entity): try entity.encode(to: encoder)
        }
    }
}

/// The JSON-LD `@context`: the RO-Crate 1.1 context and the `focusd:` and `sha256` terms.
public struct CrateContext: Codable, Sendable, Equatable {
    public static let roCrate = "https://w3id.org/ro/crate/1.1/context"
    public var terms = ["focusd": "https://w3id.org/focusd/terms#", "sha256": "https://w3id.org/ro/terms/workflow-run#sha256"]

    public init() {}

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        guard try container.decode(String.self) == Self.roCrate else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "the @context does not start with \(Self.roCrate)")
        }
        terms = try container.decode([String: String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(Self.roCrate)
        try container.encode(terms)
    }
}

/// A provenance sidecar document: an RO-Crate 1.1 detached crate, one flat `@graph`.
public struct ProvenanceCrate: Codable, Sendable, Equatable {
    public var context = CrateContext()
    public var graph: [CrateEntity]
    enum CodingKeys: String, CodingKey { case context = "@context", graph = "@graph" }

    public init(graph: [CrateEntity]) { self.graph = graph }

    /// Pretty-printed JSON with sorted keys, ending in a newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// The document in `data`. - Throws: `DecodingError` when it is not a focusd crate.
    public static func decode(_ data: Data) throws -> ProvenanceCrate {
        try JSONDecoder().decode(ProvenanceCrate.self, from: data)
    }
}

/// The `@id`s of the crate: `file://` URIs for files, fragments for everything described only here.
public enum CrateID {
    /// Whether `text` is an absolute URI a crate can name an entity by: it starts with one of
    /// `schemes` (any case, e.g. `https://`), is longer than 8 characters and holds no whitespace.
    public static func isAbsolute(_ text: String, schemes: [String]) -> Bool {
        let lower = text.lowercased()
        return schemes.contains { lower.hasPrefix($0) } && text.count > 8 && !text.contains(where: \.isWhitespace)
    }

    /// `file://` and the absolute `path`, percent-encoded (space → `%20`, `#` → `%23`, …).
    public static func fileURI(_ path: String) -> String {
        "file://" + (path.addingPercentEncoding(withAllowedCharacters: pathAllowed) ?? path)
    }

    /// `#` and `components`, each percent-encoded, joined by `/`.
    public static func fragment(_ components: [String]) -> String {
        "#" + components.map { $0.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? $0 }.joined(separator: "/")
    }

    /// The root dataset of the crate whose metadata file is `metadataPath`: `#<file name less
    /// -ro-crate-metadata.json>/`. Unique in the output folder once resolved against the file.
    public static func root(metadataPath: String) -> String {
        let file = (metadataPath as NSString).lastPathComponent
        let stem = file.hasSuffix(metadataSuffix) ? String(file.dropLast(metadataSuffix.count))
            : (file as NSString).deletingPathExtension
        return fragment([stem.isEmpty ? "crate" : stem]) + "/"
    }

    /// The absolute path an `@id` names: a `file://` URI decoded, an absolute path (sidecars written
    /// before crates) as it is, or a relative reference resolved against `folder`; nil for a fragment.
    public static func path(of id: String, relativeTo folder: String) -> String? {
        if id.hasPrefix("file://") { return URL(string: id)?.path }
        if id.hasPrefix("/") { return id }
        if id.hasPrefix("#") || id.contains(":") { return nil }
        return (folder as NSString).appendingPathComponent(id.removingPercentEncoding ?? id)
    }

    static let metadataSuffix = "-ro-crate-metadata.json"
    static let pathAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/")
    static let segmentAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@")
}

extension JSONValue {
    /// The value flattened into (path, name, value) triples: objects by key, arrays holding objects
    /// or arrays by index; scalars and lists of scalars are values. Keys in sorted order; `name`
    /// reads `align.maxShift`, `[0].padding.border`.
    func flattened(path: [String] = [], name: String = "") -> [(path: [String], name: String, value: JSONValue)] {
        switch self {
        case .object(let members):
            return members.keys.sorted().flatMap {
                members[$0]!.flattened(path: path + [$0], name: name.isEmpty ? $0 : "\(name).\($0)")
            }
        case .array(let items) where !items.allSatisfy(\.isScalar):
            return items.indices.flatMap { items[$0].flattened(path: path + ["\($0)"], name: "\(name)[\($0)]") }
        default:
            return [(path, name, self)]
        }
    }
}
