import Foundation
import Registration
import Pipeline
import SystemCalls

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

/// The provenance sidecar: an RO-Crate 1.1 detached crate following the Process Run Crate 0.5 profile,
/// written as `<stack>-ro-crate-metadata.json` beside the outputs. One flat `@graph` (`ProvenanceCrate`), by `@id`:
/// - `ro-crate-metadata.json` — the metadata descriptor, conforming to RO-Crate 1.1, `about` the root;
/// - `#<stack>/` (`CrateID.root`) — the root dataset: `name`, `description`, `datePublished`, `license`,
///   `conformsTo` the Process Run Crate profile, `hasPart` the outputs and inputs, `mentions` the action;
/// - the license and the profile — contextual `CreativeWork`s named by their URIs;
/// - `#fusion-<job>-<attempt>` — the `CreateAction` (`FusionAction`): times, status, `instrument` (focusd
///   and the model), `agent` (the host), `object` (inputs, then the settings), `result` (outputs), the
///   stack geometry, the fingerprints, and references to the stage timings, alignment and conversions;
/// - `#focusd` — focusd, a `SoftwareApplication` (`softwareVersion`, `focusd:gitCommit`);
/// - the model file (its `file://` URI), a `SoftwareApplication` with `sha256` and its configuration;
/// - `#host` — the host (`focusd:operatingSystem`, `focusd:processorCount`);
/// - each input and output `File` (its `file://` URI): `contentSize`, `sha256`; inputs `position`
///   (0-based slice index) and, once archived, `focusd:archivedTo` (`recordingArchive`), outputs `focusd:role` and `encodingFormat`;
/// - `#settings/…`, `#stageSeconds/…`, `#alignment/…`, `#outputConversions/…`, `#configuration/…` —
///   `PropertyValue`s: each JSON document the processor reports, flattened (`JSONValue.flattened`);
/// - `#supersedes` and `#supersedes/<i>` — the output set this one replaced.
/// Validated by `schemas/provenance.schema.json`.
public struct ProvenanceSidecar {
    public static let processRunCrate = "https://w3id.org/ro/wfrun/process/0.5"
    public static let roCrate = "https://w3id.org/ro/crate/1.1"

    public var jobID: Int64
    public var attempt: Int
    public var stackName: String
    public var dropFolder: String
    /// Where the sidecar is written: names the root dataset (`CrateID.root`).
    public var metadataPath: String
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
    /// The root's `license` (the daemon's `license:`, `reprocess --license`); CC BY 4.0 unless a facility says otherwise.
    public var license: CrateLicense = .default
    /// The facility (the daemon's `organization:`): the action's agent and the crate's author and
    /// publisher; nil leaves the host as the agent.
    public var organization: CrateOrganization? = nil

    /// An output set replaced by a newer one under the same names.
    public struct SupersededSet: Sendable, Equatable {
        public var job: Int64
        public var outputs: [JobOutput]
        public init(job: Int64, outputs: [JobOutput]) {
            self.job = job
            self.outputs = outputs
        }
    }

    public init(jobID: Int64, attempt: Int, stackName: String, dropFolder: String, metadataPath: String, startTime: Date,
                endTime: Date, succeeded: Bool, error: String?, software: SoftwareInfo, report: ProcessReport,
                fingerprint: String, profileFingerprint: String) {
        self.jobID = jobID
        self.attempt = attempt
        self.stackName = stackName
        self.dropFolder = dropFolder
        self.metadataPath = metadataPath
        self.startTime = startTime
        self.endTime = endTime
        self.succeeded = succeeded
        self.error = error
        self.software = software
        self.report = report
        self.fingerprint = fingerprint
        self.profileFingerprint = profileFingerprint
    }

    /// ISO 8601 in UTC with milliseconds and a numeric offset (`2026-12-06T19:12:00.123+00:00`), the
    /// form the Process Run Crate profile's checks accept (they refuse `Z`).
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSxxx"
        return formatter.string(from: date)
    }

    /// The crate.
    public func crate() -> ProvenanceCrate {
        let actionID = "#fusion-\(jobID)-\(attempt)"
        let rootID = CrateID.root(metadataPath: metadataPath)
        let inputIDs = report.inputs.map { CrateReference(CrateID.fileURI($0.path)) }
        let outputIDs = report.outputs.map { CrateReference(CrateID.fileURI($0.path)) }
        let modelID = report.model.map { CrateReference(CrateID.fileURI($0.path)) }

        let settings = Self.properties(JSONValue.parse(report.settingsJSON) ?? .object([:]), group: "settings")
        let stages = report.stageSeconds.keys.sorted().map {
            CratePropertyValue(id: CrateID.fragment(["stageSeconds", $0]), name: $0, propertyID: "focusd:stageSeconds",
                               value: .number(report.stageSeconds[$0]!), unitCode: "SEC")
        }
        let alignment = report.alignmentJSON.flatMap(JSONValue.parse).map { Self.properties($0, group: "alignment") }
        let conversions = report.outputConversionsJSON.flatMap(JSONValue.parse).map { Self.properties($0, group: "outputConversions") }
        let configuration = report.model?.configurationJSON.flatMap(JSONValue.parse).map { Self.properties($0, group: "configuration") }
        // The drop folder's breathing calibration fixed `settings`' align_breathing: the fits it is the median of.
        let calibration = report.breathingCalibration.flatMap(Self.calibrationJSON).flatMap(JSONValue.parse)
            .map { Self.properties($0, group: "breathingCalibration") } ?? []

        var action = FusionAction(
            id: actionID, name: "Fuse focus stack \(stackName)",
            description: "focusd \(software.version) fused the \(report.sliceCount) slices of \(stackName) into one image"
                + " (job \(jobID), attempt \(attempt)).",
            startTime: Self.timestamp(startTime), endTime: Self.timestamp(endTime),
            actionStatus: succeeded ? .completed : .failed,
            error: error, instrument: [CrateReference("#focusd")] + (modelID.map { [$0] } ?? []), agent: CrateReference(organization?.id ?? "#host"),
            object: inputIDs + (settings + calibration).map { CrateReference($0.id) }, result: outputIDs,
            job: jobID, attempt: attempt, fingerprint: fingerprint, profileFingerprint: profileFingerprint, dropFolder: dropFolder,
            width: report.width, height: report.height, channels: report.channels, sliceCount: report.sliceCount,
            sampleFormat: report.format, stageSeconds: stages.map { CrateReference($0.id) },
            alignment: alignment.map { $0.map { CrateReference($0.id) } },
            outputConversions: conversions.map { $0.map { CrateReference($0.id) } },
            duplicateOf: duplicateOf, warnings: report.warnings.isEmpty ? nil : report.warnings)
        var superseded: [CrateEntity] = []
        if let supersedes {
            action.supersedes = CrateReference("#supersedes")
            superseded = Self.superseded(supersedes)
        }

        var root = CrateRootDataset(
            id: rootID, name: "focusd fusion of \(stackName)", description: Self.description(stackName, slices: report.sliceCount),
            datePublished: Self.timestamp(endTime), license: CrateReference(license.id),
            conformsTo: CrateReference(Self.processRunCrate), hasPart: outputIDs + inputIDs, mentions: [CrateReference(actionID)])
        root.author = organization.map { CrateReference($0.id) }
        root.publisher = root.author
        var graph: [CrateEntity] = [
            .descriptor(CrateDescriptor(conformsTo: CrateReference(Self.roCrate), about: CrateReference(rootID))),
            .root(root),
            .contextual(CrateContextualEntity(id: license.id, name: license.name)),
            .contextual(CrateContextualEntity(id: Self.processRunCrate, name: "Process Run Crate", version: "0.5")),
            .action(action),
            .software(CrateSoftware(id: "#focusd", name: software.name, softwareVersion: software.version, gitCommit: software.gitCommit)),
            .host(Self.host()),
        ]
        if let organization { graph.append(.organization(organization)) }
        for (i, input) in report.inputs.enumerated() {
            graph.append(.file(CrateFile(
                id: inputIDs[i].id, name: i < report.sliceNames.count ? report.sliceNames[i] : (input.path as NSString).lastPathComponent,
                contentSize: input.size, sha256: input.sha256, encodingFormat: Self.mediaType(input.path), position: i)))
        }
        for (i, output) in report.outputs.enumerated() {
            graph.append(.file(CrateFile(id: outputIDs[i].id, name: (output.path as NSString).lastPathComponent, contentSize: output.size,
                                         sha256: output.sha256, encodingFormat: "image/tiff", role: output.role)))
        }
        if let model = report.model, let modelID {
            graph.append(.software(CrateSoftware(id: modelID.id, name: (model.path as NSString).lastPathComponent, sha256: model.sha256,
                                                 configuration: configuration.map { $0.map { CrateReference($0.id) } })))
        }
        let properties = settings + calibration + stages + (alignment ?? []) + (conversions ?? []) + (configuration ?? [])
        graph += properties.map(CrateEntity.property) + superseded
        return ProvenanceCrate(graph: graph)
    }

    /// A breathing calibration as JSON text: the calibrated breathing, how many fits it takes, and the fits.
    static func calibrationJSON(_ calibration: BreathingCalibration) -> String? {
        struct Record: Encodable {
            var breathing: Double?
            var stacks: Int
            var fits: [BreathingCalibration.Fit]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let record = Record(breathing: calibration.breathing, stacks: calibration.stacks, fits: Array(calibration.fits.prefix(calibration.stacks)))
        return (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The document as pretty-printed JSON with sorted keys, ending in a newline.
    public func encoded() -> Data {
        (try? crate().encoded()) ?? Data()
    }

    /// The media type of an input image, from its extension; nil for one focusd does not know.
    static func mediaType(_ path: String) -> String? {
        switch (path as NSString).pathExtension.lowercased() {
        case "tif", "tiff": "image/tiff"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        default: nil
        }
    }

    static func description(_ stackName: String, slices: Int) -> String {
        "The fused image (and maps) focusd made from the \(slices) slice\(slices == 1 ? "" : "s") of focus stack \(stackName), with the inputs, "
            + "settings, software and timings of the run."
    }

    /// `value` flattened into `PropertyValue`s `#<group>/<path>` with `propertyID` `focusd:<group>`.
    static func properties(_ value: JSONValue, group: String) -> [CratePropertyValue] {
        value.flattened().map { path, name, value in
            CratePropertyValue(id: CrateID.fragment([group] + path), name: name.isEmpty ? group : name,
                               propertyID: "focusd:\(group)", value: value)
        }
    }

    static func superseded(_ set: SupersededSet) -> [CrateEntity] {
        let outputs = set.outputs.enumerated().map { i, output in
            CrateSupersededOutput(id: "#supersedes/\(i)", name: (output.path as NSString).lastPathComponent,
                                  location: CrateID.fileURI(output.path), role: output.role, contentSize: output.size, sha256: output.sha256)
        }
        return [.supersededSet(CrateSupersededSet(name: "the output set of job \(set.job), replaced by this one", job: set.job,
                                                  outputs: outputs.map { CrateReference($0.id) }))]
            + outputs.map(CrateEntity.supersededOutput)
    }

    static func host() -> CrateHost {
        var u = utsname()
        uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return CrateHost(name: ProcessInfo.processInfo.hostName,
                         operatingSystem: "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))",
                         processorCount: ProcessInfo.processInfo.activeProcessorCount)
    }
}

extension ProvenanceSidecar {
    /// The sidecar of a duplicate: `original` (another job's crate) with its input and output files
    /// renamed (`renaming`: old path → new path), the root renamed after `metadataPath`, the action
    /// re-identified as this job's, and `focusd:duplicateOf` naming the job that fused the identical inputs.
    /// - Throws: `SystemCallError` (`EINVAL`) when `original` is not a crate written by this focusd
    ///   (a sidecar of an older release: the stack is then fused afresh).
    static func duplicate(of original: Data, renaming: [String: String], jobID: Int64, attempt: Int, stackName: String,
                          metadataPath: String, original job: Int64,
                          supersedes: (Int64, [JobOutput])?) throws(SystemCallError) -> Data {
        guard var crate = try? ProvenanceCrate.decode(original) else {
            throw SystemCallError("read the sidecar of job \(job) as an RO-Crate", path: "", code: EINVAL)
        }
        var ids: [String: String] = [:]
        for (old, new) in renaming { ids[CrateID.fileURI(old)] = CrateID.fileURI(new) }
        func renamed(_ reference: CrateReference) -> CrateReference { CrateReference(ids[reference.id] ?? reference.id) }
        let now = timestamp(Date())
        let actionID = "#fusion-\(jobID)-\(attempt)"
        let rootID = CrateID.root(metadataPath: metadataPath)
        var graph: [CrateEntity] = []
        for entity in crate.graph {
            switch entity {
            case .descriptor(var descriptor):
                descriptor.about = CrateReference(rootID)
                graph.append(.descriptor(descriptor))
            case .root(var root):
                root.id = rootID
                root.name = "focusd fusion of \(stackName)"
                root.description = description(stackName, slices: crate.sliceCount)
                root.datePublished = now
                root.hasPart = root.hasPart.map(renamed)
                root.mentions = [CrateReference(actionID)]
                graph.append(.root(root))
            case .action(var action):
                action.id = actionID
                action.name = "Fuse focus stack \(stackName)"
                action.description = "focusd linked the outputs of job \(job) (identical inputs, profile and model) for \(stackName)"
                    + " (job \(jobID), attempt \(attempt))."
                action.startTime = now
                action.endTime = now
                action.job = jobID
                action.attempt = attempt
                action.duplicateOf = job
                action.object = action.object.map(renamed)
                action.result = action.result.map(renamed)
                action.supersedes = supersedes.map { _ in CrateReference("#supersedes") }
                graph.append(.action(action))
            case .file(var file):
                if let newID = ids[file.id] {
                    let oldBase = (CrateID.path(of: file.id, relativeTo: "/").map { ($0 as NSString).lastPathComponent }) ?? ""
                    let newBase = (CrateID.path(of: newID, relativeTo: "/").map { ($0 as NSString).lastPathComponent }) ?? ""
                    if !oldBase.isEmpty { file.name = file.name.replacingOccurrences(of: oldBase, with: newBase) }
                    file.id = newID
                }
                file.archivedTo = nil
                graph.append(.file(file))
            case .supersededSet, .supersededOutput:
                continue
            default:
                graph.append(entity)
            }
        }
        if let (id, outputs) = supersedes { graph += superseded(SupersededSet(job: id, outputs: outputs)) }
        crate.graph = graph
        do { return try crate.encoded() } catch {
            throw SystemCallError("encode the sidecar", path: metadataPath, code: EINVAL)
        }
    }
}

extension ProvenanceCrate {
    /// The action's `focusd:sliceCount`.
    var sliceCount: Int {
        graph.lazy.compactMap { if case .action(let action) = $0 { action.sliceCount } else { nil } }.first ?? 0
    }
}

extension ProvenanceSidecar {
    /// The crate at `path` with each input (by slice position) given `focusd:archivedTo` — for inputs
    /// archived after the job finished (a writer had held one open), when the sidecar value is gone.
    /// - Throws: `SystemCallError` when the file cannot be read or is not a crate of this focusd.
    static func recordingArchive(in path: String, archivedTo: [String?]) throws(SystemCallError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SystemCallError("read", path: path, code: ENOENT)
        }
        guard var crate = try? ProvenanceCrate.decode(data) else {
            throw SystemCallError("read the sidecar as an RO-Crate", path: path, code: EINVAL)
        }
        crate.graph = crate.graph.map { entity in
            guard case .file(var file) = entity, let position = file.position, position < archivedTo.count,
                  let destination = archivedTo[position] else { return entity }
            file.archivedTo = destination
            return .file(file)
        }
        do { return try crate.encoded() } catch {
            throw SystemCallError("encode the sidecar", path: path, code: EINVAL)
        }
    }
}
