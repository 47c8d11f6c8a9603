import Foundation
import Testing
@testable import Daemon

/// Sidecars written by real daemon runs validate against `schemas/provenance.schema.json`.
@Suite(.serialized) struct SidecarSchemaTests {
    static func schema() throws -> JSONSchemaValidator {
        let path = (packageRoot as NSString).appendingPathComponent("schemas/provenance.schema.json")
        let data = try #require(FileManager.default.contents(atPath: path), "schema at \(path)")
        return JSONSchemaValidator(root: try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }

    static func load(_ path: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: path), "sidecar at \(path)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The entity `id`, or the file at path `id` (its `file://` URI).
    static func entity(_ doc: [String: Any], _ id: String) -> [String: Any]? {
        (doc["@graph"] as? [[String: Any]])?.first { $0["@id"] as? String == id || $0["@id"] as? String == CrateID.fileURI(id) }
    }

    static func action(_ doc: [String: Any]) -> [String: Any]? {
        (doc["@graph"] as? [[String: Any]])?.first { $0["@type"] as? String == "CreateAction" }
    }

    /// The `PropertyValue`s of one flattened document (`propertyID`), name → value.
    static func properties(_ doc: [String: Any], _ propertyID: String) -> [String: Any] {
        var values: [String: Any] = [:]
        for entity in doc["@graph"] as? [[String: Any]] ?? [] where entity["propertyID"] as? String == propertyID {
            if let name = entity["name"] as? String { values[name] = entity["value"] }
        }
        return values
    }

    @Test func theValidatorRejectsWhatTheSchemaForbids() throws {
        let validator = try Self.schema()
        #expect(!validator.validate([String: Any]()).isEmpty)
        #expect(!validator.validate(["@context": ["x"], "@graph": []]).isEmpty)
        let tiny = JSONSchemaValidator(root: ["type": "object", "required": ["a"],
                                              "properties": ["a": ["type": "integer", "minimum": 1], "b": ["pattern": "^x"]],
                                              "additionalProperties": false])
        #expect(tiny.validate(["a": 2, "b": "xy"]).isEmpty)
        #expect(tiny.validate(["a": 0]).count == 1)
        #expect(tiny.validate(["a": 1.5]).count == 1)
        #expect(tiny.validate(["a": 1, "b": "y"]).count == 1)
        #expect(tiny.validate(["a": 1, "c": 1]).count == 1)
        let short = JSONSchemaValidator(root: ["type": "array", "maxItems": 1])
        #expect(short.validate([1]).isEmpty && short.validate([1, 2]).count == 1)
        #expect(JSONSchemaValidator(root: ["uniqueItems": true]).validate([1]).count == 1, "unknown keywords are not ignored")
    }

    @Test func sidecarsOfARealRunValidateAndMatchTheOutputs() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("s1"), at: "\(f.drop)/stackA/z1.tif")
            drop(fakeTIFF("s2"), at: "\(f.drop)/stackA/z2.tif")
            drop(Data(), at: "\(f.drop)/stackA/COMPLETE")
            _ = try await f.jobsWhenSettled(count: 1)
        }
        let sidecarPath = "\(f.output)/stackA-ro-crate-metadata.json"
        let doc = try Self.load(sidecarPath)
        let errors = try Self.schema().validate(doc)
        #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        let violations = ProcessRunCrateRequirements.violations(doc)
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
        try Self.checkAgainstFiles(doc, inputs: ["\(f.drop)/stackA/z1.tif", "\(f.drop)/stackA/z2.tif"])

        // A document with a broken hash or a missing action does not validate.
        var broken = doc
        var graph = broken["@graph"] as! [[String: Any]]
        let index = graph.firstIndex { $0["focusd:role"] as? String == "fused" }!
        graph[index]["sha256"] = "not-a-hash"
        broken["@graph"] = graph
        #expect(!(try Self.schema().validate(broken)).isEmpty)
        broken["@graph"] = (doc["@graph"] as! [[String: Any]]).filter { $0["@type"] as? String != "CreateAction" }
        #expect(!(try Self.schema().validate(broken)).isEmpty)
    }

    /// Validates the sidecar at `path` against the schema (recording each error).
    static func validate(_ path: String) throws {
        let errors = try schema().validate(try load(path))
        #expect(errors.isEmpty, "\(path): \(errors.joined(separator: "\n"))")
    }

    /// Outputs exist and hash as the sidecar says; inputs are listed in slice order with their hashes.
    static func checkAgainstFiles(_ doc: [String: Any], inputs: [String]) throws {
        let graph = try #require(doc["@graph"] as? [[String: Any]])
        let outputs = graph.filter { $0["focusd:role"] != nil && $0["@type"] as? String == "File" }
        #expect(!outputs.isEmpty)
        for output in outputs {
            let id = try #require(output["@id"] as? String)
            #expect(id.hasPrefix("file:///"), "\(id) is a file URI")
            let path = try #require(CrateID.path(of: id, relativeTo: "/"))
            let data = try #require(FileManager.default.contents(atPath: path), "output \(path)")
            #expect(output["sha256"] as? String == SHA256Hex.of(data))
            #expect((output["contentSize"] as? NSNumber)?.intValue == data.count)
        }
        let listed = graph.filter { $0["position"] != nil }
            .sorted { ($0["position"] as! NSNumber).intValue < ($1["position"] as! NSNumber).intValue }
        #expect(listed.map { $0["@id"] as? String } == inputs.map(CrateID.fileURI))
        let action = try #require(graph.first { $0["@type"] as? String == "CreateAction" })
        #expect((action["object"] as? [[String: Any]])?.count ?? 0 >= inputs.count + 1)
    }
}
