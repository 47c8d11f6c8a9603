import Foundation

/// A JSON value, for what the processor reports as JSON text (settings, alignment, model
/// configuration, output conversions) and for the value of a `PropertyValue`.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// `text` parsed as JSON (any value, not only objects and arrays); nil when it is not JSON.
    public static func parse(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}

/// A JSON-LD node reference: `{"@id": …}`.
public struct CrateReference: Codable, Sendable, Hashable {
    public var id: String
    public init(_ id: String) { self.id = id }
    enum CodingKeys: String, CodingKey { case id = "@id" }
}

/// A list of references written as a single value when it holds one (the RO-Crate 1.1 JSON-LD
/// recommendation: no singleton arrays), read back from either form.
@propertyWrapper
public struct OneOrMany: Codable, Sendable, Equatable {
    public var wrappedValue: [CrateReference]

    public init(wrappedValue: [CrateReference]) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(CrateReference.self) {
            wrappedValue = [one]
        } else {
            wrappedValue = try container.decode([CrateReference].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if wrappedValue.count == 1 { try container.encode(wrappedValue[0]) } else { try container.encode(wrappedValue) }
    }
}

/// An action's status: a schema.org `ActionStatusType` URI, written as a plain string as the Process
/// Run Crate profile shows it; read back also from the `{"@id": …}` form of earlier sidecars.
public struct CrateActionStatus: Codable, Sendable, Equatable {
    public static let completed = CrateActionStatus("http://schema.org/CompletedActionStatus")
    public static let failed = CrateActionStatus("http://schema.org/FailedActionStatus")

    public var id: String
    public init(_ id: String) { self.id = id }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { id = text } else { id = try container.decode(CrateReference.self).id }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(id)
    }
}

/// The RO-Crate metadata descriptor: `ro-crate-metadata.json`, about the root dataset.
public struct CrateDescriptor: Codable, Sendable, Equatable {
    public var id = "ro-crate-metadata.json"
    public var type = "CreativeWork"
    public var conformsTo: CrateReference
    public var about: CrateReference
    enum CodingKeys: String, CodingKey { case id = "@id", type = "@type", conformsTo, about }
}

/// The root data entity: this output set, its parts (outputs and inputs) and the action that made it.
public struct CrateRootDataset: Codable, Sendable, Equatable {
    public var id: String
    public var type = "Dataset"
    public var name: String
    public var description: String
    /// ISO 8601.
    public var datePublished: String
    public var license: CrateReference
    /// The Process Run Crate profile.
    public var conformsTo: CrateReference
    @OneOrMany public var hasPart: [CrateReference]
    @OneOrMany public var mentions: [CrateReference]
    /// The facility (`CrateOrganization`), when the configuration names it.
    public var author: CrateReference? = nil
    public var publisher: CrateReference? = nil
    enum CodingKeys: String, CodingKey {
        case id = "@id", type = "@type", name, description, datePublished, license, conformsTo, hasPart, mentions, author, publisher
    }
}

/// A contextual entity named by a URI: the license, the profile the crate conforms to.
public struct CrateContextualEntity: Codable, Sendable, Equatable {
    public var id: String
    public var type = "CreativeWork"
    public var name: String
    public var version: String?
    enum CodingKeys: String, CodingKey { case id = "@id", type = "@type", name, version }
}

/// The fusion: one `CreateAction` per sidecar.
public struct FusionAction: Codable, Sendable, Equatable {
    public var id: String
    public var type = "CreateAction"
    public var name: String
    public var description: String?
    /// ISO 8601.
    public var startTime: String
    public var endTime: String
    /// `http://schema.org/CompletedActionStatus` or `…FailedActionStatus`.
    public var actionStatus: CrateActionStatus
    public var error: String?
    /// focusd, and the model when one was used (both `SoftwareApplication`).
    @OneOrMany public var instrument: [CrateReference]
    /// The host.
    public var agent: CrateReference
    /// The inputs (slice order), then the resolved settings (`PropertyValue`s).
    @OneOrMany public var object: [CrateReference]
    /// The outputs.
    @OneOrMany public var result: [CrateReference]
    public var job: Int64
    public var attempt: Int
    /// Dedupe fingerprint over the input hashes, the settings and the model.
    public var fingerprint: String
    /// `ProfileFingerprint`: what `focusd reprocess` compares.
    public var profileFingerprint: String
    public var dropFolder: String
    public var width: Int, height: Int, channels: Int, sliceCount: Int
    /// `uint8`, `uint16` or `float32`.
    public var sampleFormat: String
    /// `PropertyValue`s in seconds, one per stage.
    @OneOrMany public var stageSeconds: [CrateReference]
    /// `PropertyValue`s of the alignment result, when the stack was aligned.
    public var alignment: [CrateReference]?
    /// `PropertyValue`s of the narrowing conversions of the outputs.
    public var outputConversions: [CrateReference]?
    /// The `#supersedes` entity: the output set this one replaced.
    public var supersedes: CrateReference?
    /// The job whose outputs these are (linked, not fused again).
    public var duplicateOf: Int64?
    public var warnings: [String]?

    enum CodingKeys: String, CodingKey {
        case id = "@id", type = "@type", name, description, startTime, endTime, actionStatus, error, instrument, agent, object, result
        case job = "focusd:job", attempt = "focusd:attempt", fingerprint = "focusd:fingerprint"
        case profileFingerprint = "focusd:profileFingerprint", dropFolder = "focusd:dropFolder"
        case width = "focusd:width", height = "focusd:height", channels = "focusd:channels"
        case sliceCount = "focusd:sliceCount", sampleFormat = "focusd:sampleFormat"
        case stageSeconds = "focusd:stageSeconds", alignment = "focusd:alignment"
        case outputConversions = "focusd:outputConversions", supersedes = "focusd:supersedes"
        case duplicateOf = "focusd:duplicateOf", warnings = "focusd:warnings"
    }
}

/// A `SoftwareApplication`: focusd itself (`#focusd`) or the model file (its `file://` URI).
public struct CrateSoftware: Codable, Sendable, Equatable {
    public var id: String
    public var type = "SoftwareApplication"
    public var name: String
    public var softwareVersion: String?
    public var gitCommit: String?
    public var sha256: String?
    /// The model's configuration as `PropertyValue`s.
    public var configuration: [CrateReference]?
    enum CodingKeys: String, CodingKey {
        case id = "@id", type = "@type", name, softwareVersion, sha256
        case gitCommit = "focusd:gitCommit", configuration = "focusd:configuration"
    }
}

/// The machine that ran the fusion (`#host`).
public struct CrateHost: Codable, Sendable, Equatable {
    public var id = "#host"
    public var type = "Thing"
    public var name: String
    public var operatingSystem: String
    public var processorCount: Int
    enum CodingKeys: String, CodingKey {
        case id = "@id", type = "@type", name
        case operatingSystem = "focusd:operatingSystem", processorCount = "focusd:processorCount"
    }
}

/// The facility that runs focusd (the daemon's `organization:`): the action's agent and the crate's
/// author and publisher. `@id` its web address when given, else `#organization`.
public struct CrateOrganization: Codable, Sendable, Equatable {
    public var id: String
    public var type = "Organization"
    public var name: String
    public var url: String?

    public init(name: String, url: String? = nil) {
        self.id = url ?? "#organization"
        self.name = name
        self.url = url
    }
    /// A checked organization: a name that is not blank and, when given, an `http(s)://` address; nil otherwise.
    public init?(checkedName name: String, url: String?) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if let url, !Self.isWebAddress(url) { return nil }
        self.init(name: trimmed, url: url)
    }

    public static func isWebAddress(_ text: String) -> Bool {
        CrateID.isAbsolute(text, schemes: ["https://", "http://"])
    }

    enum CodingKeys: String, CodingKey { case id = "@id", type = "@type", name, url }
}

/// The license a crate's root dataset declares: a URI (as RO-Crate asks, e.g. an SPDX or Creative
/// Commons address) and a human-readable name.
public struct CrateLicense: Sendable, Equatable {
    public var id: String
    public var name: String

    /// Creative Commons Attribution 4.0: the outputs are measurements, free to reuse with attribution.
    public static let `default` = CrateLicense(id: "https://creativecommons.org/licenses/by/4.0/",
                                               name: "Creative Commons Attribution 4.0 International")

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// A license from its URI and optional name (default: the URI); nil unless `id` is an absolute
    /// `http`, `https` or `urn` URI without spaces.
    public init?(uri: String, name: String? = nil) {
        guard CrateID.isAbsolute(uri, schemes: ["https://", "http://", "urn:"]) else { return nil }
        let label = name?.trimmingCharacters(in: .whitespaces) ?? ""
        self.init(id: uri, name: label.isEmpty ? uri : label)
    }
}

/// An input or output file, `@id` its `file://` URI. Inputs carry `position` (0-based slice index),
/// outputs `focusd:role` (`fused`, `depth`, `confidence`).
public struct CrateFile: Codable, Sendable, Equatable {
    public var id: String
    public var type = "File"
    public var name: String
    public var contentSize: Int
    public var sha256: String
    public var encodingFormat: String?
    public var position: Int?
    public var role: String?
    /// Where archive moved the input (absolute path).
    public var archivedTo: String?
    enum CodingKeys: String, CodingKey {
        case id = "@id", type = "@type", name, contentSize, sha256, encodingFormat, position
        case role = "focusd:role", archivedTo = "focusd:archivedTo"
    }
}

/// One value of a flattened JSON document: `propertyID` names the document (`focusd:settings`,
/// `focusd:stageSeconds`, `focusd:alignment`, `focusd:outputConversions`, `focusd:configuration`),
/// `name` the path inside it (`align.maxShift`, `[0].padding.border`), `value` a scalar or a list of scalars.
public struct CratePropertyValue: Codable, Sendable, Equatable {
    public var id: String
    public var type = "PropertyValue"
    public var name: String
    public var propertyID: String
    public var value: JSONValue
    /// UN/CEFACT unit code (`SEC` for the stage timings).
    public var unitCode: String?
    enum CodingKeys: String, CodingKey { case id = "@id", type = "@type", name, propertyID, value, unitCode }
}

/// The output set that this one replaced (`#supersedes`), and each of its files as recorded then
/// (`#supersedes/<index>`; not `File`s: the names now belong to the new outputs).
public struct CrateSupersededSet: Codable, Sendable, Equatable {
    public var id = "#supersedes"
    public var type = "Thing"
    public var name: String
    public var job: Int64
    @OneOrMany public var outputs: [CrateReference]
    enum CodingKeys: String, CodingKey { case id = "@id", type = "@type", name, job = "focusd:job", outputs = "focusd:outputs" }
}

/// A file of a replaced output set, as it was recorded: its `file://` URI in `focusd:location`.
public struct CrateSupersededOutput: Codable, Sendable, Equatable {
    public var id: String
    public var type = "Thing"
    public var name: String
    public var location: String
    public var role: String
    public var contentSize: Int
    public var sha256: String
    enum CodingKeys: String, CodingKey {
        case id = "@id", type = "@type", name, contentSize, sha256, location = "focusd:location", role = "focusd:role"
    }
}
