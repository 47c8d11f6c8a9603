import Foundation

/// The software that produced an output: recorded in every sidecar.
public struct SoftwareInfo: Sendable, Equatable {
    public var name: String
    public var version: String
    /// The git commit the binary was built from, or `unknown`.
    public var gitCommit: String
    public init(name: String = "focusd", version: String, gitCommit: String) {
        self.name = name
        self.version = version
        self.gitCommit = gitCommit
    }
}

/// The provenance sidecar: a JSON-LD document in the form of an RO-Crate (1.1) Process Run Crate.
///
/// Layout (`@graph` entities, by `@id`):
/// - `ro-crate-metadata.json` — the metadata descriptor, conforming to RO-Crate 1.1 and Process Run Crate 0.5;
/// - `./` — the root dataset: `hasPart` the outputs, `mentions` the action;
/// - `#fusion-<job>-<attempt>` — the `CreateAction`: `startTime`, `endTime`, `actionStatus`, `error`,
///   `instrument` (the software), `agent` (the host), `object` (inputs, model, profile), `result`
///   (outputs), `focusd:stageSeconds` (a JSON object, seconds per stage), `focusd:fingerprint` (inputs,
///   settings and model: the daemon's dedupe key) and `focusd:profileFingerprint` (`ProfileFingerprint`);
/// - `#focusd` — the `SoftwareApplication` (`name`, `softwareVersion`, `focusd:gitCommit`);
/// - `#host` — the host (`name`, `focusd:operatingSystem`, `focusd:processorCount`);
/// - each input file (`@id` its absolute path): `contentSize`, `sha256`, `position` (0-based slice index), `name`;
/// - each output file: `contentSize`, `sha256`, `focusd:role` (`fused`, `depth`, `confidence`), `encodingFormat`;
/// - `#model` (when a model was used): the model file's path, `sha256`, `focusd:configuration` (JSON);
/// - `#profile` — `focusd:settings`: the fully resolved settings (JSON object), and the stack geometry.
/// Validated by `schemas/provenance.schema.json`.
public struct ProvenanceSidecar {
    public var jobID: Int64
    public var attempt: Int
    public var stackName: String
    public var dropFolder: String
    public var startTime: Date
    public var endTime: Date
    /// `CompletedActionStatus` or `FailedActionStatus`.
    public var succeeded: Bool
    public var error: String?
    public var software: SoftwareInfo
    public var report: ProcessReport
    /// Dedupe fingerprint: the input hashes, the resolved settings and the model (`JobRunner.fingerprint`).
    public var fingerprint: String
    /// `ProfileFingerprint` of the resolved settings and model: what `focusd reprocess` compares.
    public var profileFingerprint: String
    /// The earlier output set of the same stack that this one replaced (a changed input fused again).
    public var supersedes: SupersededSet?
    /// The finished job with identical inputs, profile and model whose outputs these are (linked, not fused again).
    public var duplicateOf: Int64?
    /// Where archive moved each input (input path → archived path), once moved.
    public var archivedTo: [String: String] = [:]

    /// An output set replaced by a newer one under the same names.
    public struct SupersededSet: Sendable, Equatable {
        public var job: Int64
        public var outputs: [JobOutput]
        public init(job: Int64, outputs: [JobOutput]) {
            self.job = job
            self.outputs = outputs
        }
    }

    public init(jobID: Int64, attempt: Int, stackName: String, dropFolder: String, startTime: Date, endTime: Date,
                succeeded: Bool, error: String?, software: SoftwareInfo, report: ProcessReport, fingerprint: String,
                profileFingerprint: String) {
        self.jobID = jobID
        self.attempt = attempt
        self.stackName = stackName
        self.dropFolder = dropFolder
        self.startTime = startTime
        self.endTime = endTime
        self.succeeded = succeeded
        self.error = error
        self.software = software
        self.report = report
        self.fingerprint = fingerprint
        self.profileFingerprint = profileFingerprint
    }

    static var context: [Any] { [
        "https://w3id.org/ro/crate/1.1/context",
        [
            "focusd": "https://w3id.org/focusd/terms#",
            "sha256": "https://w3id.org/ro/terms/workflow-run#sha256",
            "focusd:stageSeconds": ["@type": "@json"],
            "focusd:settings": ["@type": "@json"],
            "focusd:configuration": ["@type": "@json"],
            "focusd:alignment": ["@type": "@json"],
            "focusd:outputConversions": ["@type": "@json"],
        ] as [String: Any],
    ] }

    /// The JSON-LD document as a JSON object.
    public func jsonObject() -> [String: Any] {
        let actionID = "#fusion-\(jobID)-\(attempt)"
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let inputIDs = report.inputs.map(\.path)
        let outputIDs = report.outputs.map(\.path)

        var action: [String: Any] = [
            "@id": actionID,
            "@type": "CreateAction",
            "name": "Fuse focus stack \(stackName)",
            "startTime": iso.string(from: startTime),
            "endTime": iso.string(from: endTime),
            "actionStatus": ["@id": succeeded ? "http://schema.org/CompletedActionStatus" : "http://schema.org/FailedActionStatus"],
            "instrument": ["@id": "#focusd"],
            "agent": ["@id": "#host"],
            "object": (inputIDs + (report.model != nil ? ["#model"] : []) + ["#profile"]).map { ["@id": $0] },
            "result": outputIDs.map { ["@id": $0] },
            "focusd:stageSeconds": report.stageSeconds,
            "focusd:dropFolder": dropFolder,
            "focusd:job": jobID,
            "focusd:attempt": attempt,
            "focusd:fingerprint": fingerprint,
            "focusd:profileFingerprint": profileFingerprint,
        ]
        if let error { action["error"] = error }
        if let supersedes {
            action["focusd:supersedes"] = [
                "focusd:job": supersedes.job,
                "focusd:outputs": supersedes.outputs.map { ["path": $0.path, "sha256": $0.sha256, "contentSize": $0.size] },
            ] as [String: Any]
        }
        if let duplicateOf { action["focusd:duplicateOf"] = duplicateOf }
        if !report.warnings.isEmpty { action["focusd:warnings"] = report.warnings }

        var graph: [[String: Any]] = [
            [
                "@id": "ro-crate-metadata.json",
                "@type": "CreativeWork",
                "conformsTo": [["@id": "https://w3id.org/ro/crate/1.1"], ["@id": "https://w3id.org/ro/wfrun/process/0.5"]],
                "about": ["@id": "./"],
            ],
            [
                "@id": "./",
                "@type": "Dataset",
                "name": "focusd fusion of \(stackName)",
                "datePublished": iso.string(from: endTime),
                "hasPart": outputIDs.map { ["@id": $0] },
                "mentions": ["@id": actionID],
            ],
            action,
            [
                "@id": "#focusd",
                "@type": "SoftwareApplication",
                "name": software.name,
                "softwareVersion": software.version,
                "focusd:gitCommit": software.gitCommit,
            ],
            Self.hostEntity(),
        ]
        for (i, input) in report.inputs.enumerated() {
            graph.append([
                "@id": input.path,
                "@type": "File",
                "name": i < report.sliceNames.count ? report.sliceNames[i] : (input.path as NSString).lastPathComponent,
                "contentSize": input.size,
                "sha256": input.sha256,
                "position": i,
            ].merging(archivedTo[input.path].map { ["focusd:archivedTo": $0] } ?? [:]) { a, _ in a })
        }
        for output in report.outputs {
            graph.append([
                "@id": output.path,
                "@type": "File",
                "name": (output.path as NSString).lastPathComponent,
                "contentSize": output.size,
                "sha256": output.sha256,
                "encodingFormat": "image/tiff",
                "focusd:role": output.role,
            ])
        }
        if let model = report.model {
            var entity: [String: Any] = [
                "@id": "#model",
                "@type": "File",
                "name": (model.path as NSString).lastPathComponent,
                "focusd:path": model.path,
                "sha256": model.sha256,
            ]
            entity["focusd:configuration"] = model.configurationJSON.flatMap(Self.parseJSON) ?? NSNull()
            graph.append(entity)
        }
        var profile: [String: Any] = [
            "@id": "#profile",
            "@type": "PropertyValue",
            "name": "resolved fusion profile",
            "focusd:settings": Self.parseJSON(report.settingsJSON) ?? [String: Any](),
            "focusd:width": report.width,
            "focusd:height": report.height,
            "focusd:channels": report.channels,
            "focusd:sliceCount": report.sliceCount,
            "focusd:sampleFormat": report.format,
        ]
        if let alignment = report.alignmentJSON.flatMap(Self.parseJSON) { profile["focusd:alignment"] = alignment }
        if let conversions = report.outputConversionsJSON.flatMap(Self.parseJSON) { profile["focusd:outputConversions"] = conversions }
        graph.append(profile)
        return ["@context": Self.context, "@graph": graph]
    }

    /// The document as pretty-printed JSON with sorted keys, ending in a newline.
    public func encoded() -> Data {
        let data = (try? JSONSerialization.data(withJSONObject: jsonObject(),
                                                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return data + Data("\n".utf8)
    }

    static func parseJSON(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    static func hostEntity() -> [String: Any] {
        var u = utsname()
        uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return [
            "@id": "#host",
            "@type": "Thing",
            "name": ProcessInfo.processInfo.hostName,
            "focusd:operatingSystem": "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))",
            "focusd:processorCount": ProcessInfo.processInfo.activeProcessorCount,
        ]
    }
}

extension ProvenanceSidecar {
    /// The sidecar of a duplicate: `original` (another job's sidecar document) with its input and
    /// output paths renamed (`renaming`: old path → new path), the action re-identified as this
    /// job's, and `focusd:duplicateOf` naming the job that fused the identical inputs.
    /// - Throws: `FileOperationError` (`EINVAL`) when `original` is not a sidecar document.
    static func duplicate(of original: Data, renaming: [String: String], jobID: Int64, attempt: Int, stackName: String,
                          original job: Int64, supersedes: (Int64, [JobOutput])?) throws(FileOperationError) -> Data {
        guard var document = (try? JSONSerialization.jsonObject(with: original)) as? [String: Any],
              let graph = document["@graph"] as? [[String: Any]] else {
            throw FileOperationError(operation: "parse the sidecar of job \(job)", path: "", code: EINVAL)
        }
        func renamed(_ value: Any) -> Any {
            switch value {
            case let text as String: return renaming[text] ?? text
            case let list as [Any]: return list.map(renamed)
            case let object as [String: Any]: return object.mapValues(renamed)
            default: return value
            }
        }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let now = iso.string(from: Date())
        let actionID = "#fusion-\(jobID)-\(attempt)"
        var oldActionID: String?
        var entities: [[String: Any]] = []
        for var entity in graph {
            let oldID = entity["@id"] as? String
            if entity["@type"] as? String == "CreateAction" {
                oldActionID = oldID
                entity["@id"] = actionID
                entity["name"] = "Fuse focus stack \(stackName)"
                entity["startTime"] = now
                entity["endTime"] = now
                entity["focusd:job"] = jobID
                entity["focusd:attempt"] = attempt
                entity["focusd:duplicateOf"] = job
                entity["focusd:supersedes"] = supersedes.map { id, outputs in
                    ["focusd:job": id, "focusd:outputs": outputs.map { ["path": $0.path, "sha256": $0.sha256, "contentSize": $0.size] }] as [String: Any]
                }
            }
            if let oldID, let newID = renaming[oldID], let name = entity["name"] as? String {
                let oldBase = (oldID as NSString).lastPathComponent, newBase = (newID as NSString).lastPathComponent
                entity["name"] = name.replacingOccurrences(of: oldBase, with: newBase)
            }
            entities.append(renamed(entity) as! [String: Any])
        }
        for index in entities.indices {
            if entities[index]["@id"] as? String == "./" {
                entities[index]["name"] = "focusd fusion of \(stackName)"
                entities[index]["datePublished"] = now
                if let old = oldActionID, (entities[index]["mentions"] as? [String: Any])?["@id"] as? String == old {
                    entities[index]["mentions"] = ["@id": actionID]
                }
            }
        }
        document["@graph"] = entities
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            throw FileOperationError(operation: "encode the sidecar", path: "", code: EINVAL)
        }
        return data + Data("\n".utf8)
    }
}
