import Foundation
import Testing
@testable import Daemon

/// The requirements of RO-Crate 1.1 (detached) and the Process Run Crate 0.5 profile that
/// `rocrate-validator -p process-run-crate` checks as REQUIRED, on a sidecar document.
enum ProcessRunCrateRequirements {
    static let completed = "http://schema.org/CompletedActionStatus", failed = "http://schema.org/FailedActionStatus"

    /// Every requirement `doc` breaks, one line each.
    static func violations(_ doc: [String: Any]) -> [String] {
        var problems: [String] = []
        guard (doc["@context"] as? [Any])?.first as? String == "https://w3id.org/ro/crate/1.1/context" else {
            return ["@context does not start with the RO-Crate 1.1 context"]
        }
        guard let graph = doc["@graph"] as? [[String: Any]] else { return ["no @graph"] }
        var byID: [String: [String: Any]] = [:]
        for entity in graph {
            guard let id = entity["@id"] as? String else { problems.append("an entity without @id"); continue }
            if byID[id] != nil { problems.append("\(id) appears twice") }
            byID[id] = entity
        }

        // Flat: a property's value is a literal, a list of literals or a reference {"@id"} — never a nested object.
        for entity in graph {
            for (key, value) in entity where key != "@id" && key != "@type" {
                for item in (value as? [Any]) ?? [value] {
                    guard let object = item as? [String: Any] else { continue }
                    if object.count != 1 || object["@id"] == nil {
                        problems.append("not flattened: \(entity["@id"] ?? "?") \(key) holds a nested object")
                    }
                }
            }
        }

        // Ids resolve: a fragment described in this graph, or an absolute URI (file:// that parses to a path).
        func resolvable(_ id: String) -> Bool {
            if id.hasPrefix("#") { return byID[id] != nil }
            if id.hasPrefix("file://") { return URL(string: id)?.path.hasPrefix("/") == true && !id.contains(" ") }
            return id.hasPrefix("https://") || id.hasPrefix("http://")
        }
        for entity in graph {
            for (key, value) in entity where key != "@type" {
                for item in (value as? [Any]) ?? [value] {
                    let id = key == "@id" ? item as? String : (item as? [String: Any])?["@id"] as? String
                    guard let id, !(key == "@id" && id == "ro-crate-metadata.json") else { continue }
                    if !resolvable(id) { problems.append("\(id) (\(key) of \(entity["@id"] ?? "?")) does not resolve") }
                }
            }
        }

        // The descriptor and the root.
        func ref(_ value: Any?) -> String? { (value as? [String: Any])?["@id"] as? String }
        func refs(_ value: Any?) -> [String] { ((value as? [Any]) ?? (value.map { [$0] } ?? [])).compactMap(ref) }
        guard let descriptor = byID["ro-crate-metadata.json"], descriptor["@type"] as? String == "CreativeWork" else {
            return problems + ["no metadata descriptor"]
        }
        if !refs(descriptor["conformsTo"]).contains("https://w3id.org/ro/crate/1.1") { problems.append("descriptor does not conform to RO-Crate 1.1") }
        guard let rootID = ref(descriptor["about"]), let root = byID[rootID], root["@type"] as? String == "Dataset" else {
            return problems + ["the descriptor is not about a Dataset in the graph"]
        }
        if !rootID.hasSuffix("/") { problems.append("root @id \(rootID) does not end with /") }
        for key in ["name", "description", "datePublished"] where (root[key] as? String)?.isEmpty != false {
            problems.append("root has no \(key)")
        }
        if ref(root["license"]) == nil { problems.append("root has no license") }
        if !refs(root["conformsTo"]).contains("https://w3id.org/ro/wfrun/process/0.5") { problems.append("root does not conform to Process Run Crate 0.5") }
        let parts = Set(refs(root["hasPart"]))
        for entity in graph where entity["@type"] as? String == "File" {
            let id = entity["@id"] as? String ?? ""
            if !parts.contains(id) { problems.append("\(id) is not in the root's hasPart") }
            if !id.hasPrefix("file://") { problems.append("data entity \(id) is not an absolute URI (detached crate)") }
        }

        // The action.
        let actions = graph.filter { $0["@type"] as? String == "CreateAction" }
        guard actions.count == 1, let action = actions.first else { return problems + ["\(actions.count) CreateActions, not 1"] }
        let instruments = refs(action["instrument"])
        if instruments.isEmpty { problems.append("the action has no instrument") }
        for id in instruments where byID[id]?["@type"] as? String != "SoftwareApplication" {
            problems.append("instrument \(id) is not a SoftwareApplication of the graph")
        }
        if refs(action["object"]).isEmpty { problems.append("the action has no object") }
        if refs(action["result"]).isEmpty { problems.append("the action has no result") }
        for key in ["startTime", "endTime", "name"] where action[key] as? String == nil { problems.append("the action has no \(key)") }
        if ![completed, failed].contains(action["actionStatus"] as? String ?? "") { problems.append("the action has no actionStatus") }
        // RO-Crate 1.1's JSON-LD recommendation: a property with one value is not a singleton array.
        for entity in graph {
            for (key, value) in entity where (value as? [Any])?.count == 1 {
                problems.append("\(entity["@id"] as? String ?? "?") has \(key) as a singleton array")
            }
        }
        if !refs(root["mentions"]).contains(action["@id"] as? String ?? "") { problems.append("the root does not mention the action") }
        return problems
    }
}

@Suite(.serialized) struct ProcessRunCrateTests {
    @Test func theSidecarOfADaemonRunMeetsTheProcessRunCrateRequirements() async throws {
        let f = DaemonFixture()
        try await f.serving(f.configuration(), processor: TestProcessor()) {
            drop(fakeTIFF("s1"), at: "\(f.drop)/stack A#1/z 1.tif")
            drop(fakeTIFF("s2"), at: "\(f.drop)/stack A#1/z 2.tif")
            drop(Data(), at: "\(f.drop)/stack A#1/COMPLETE")
            _ = try await f.jobsWhenSettled(count: 1)
        }
        let job = try #require(try f.journal().allJobs().first)
        let sidecar = try #require(job.sidecar)
        #expect((sidecar as NSString).lastPathComponent.hasSuffix("-ro-crate-metadata.json"))
        let doc = try SidecarSchemaTests.load(sidecar)
        let violations = ProcessRunCrateRequirements.violations(doc)
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
        try SidecarSchemaTests.validate(sidecar)
        // Inputs with spaces and `#` in their path are percent-encoded file URIs that lead back to them.
        let input = try #require(SidecarSchemaTests.entity(doc, "\(f.drop)/stack A#1/z 1.tif"))
        let id = try #require(input["@id"] as? String)
        #expect(id.contains("stack%20A%231/z%201.tif"), "\(id)")
        #expect(URL(string: id)?.path == "\(f.drop)/stack A#1/z 1.tif")
        // The stage timings and the settings are entities of their own.
        let stages = SidecarSchemaTests.properties(doc, "focusd:stageSeconds")
        #expect(!stages.isEmpty && stages.values.allSatisfy { $0 is NSNumber }, "\(stages)")
        #expect(SidecarSchemaTests.properties(doc, "focusd:settings")["engine"] != nil)

        // What the checks catch: a nested object, a root without license, a relative id, a dangling reference.
        func breaking(_ change: (inout [[String: Any]]) -> Void) -> [String] {
            var graph = doc["@graph"] as! [[String: Any]]
            change(&graph)
            return ProcessRunCrateRequirements.violations(["@context": doc["@context"]!, "@graph": graph])
        }
        let action = { (graph: [[String: Any]]) in graph.firstIndex { $0["@type"] as? String == "CreateAction" }! }
        #expect(breaking { $0[action($0)]["focusd:stageSeconds"] = ["load": 0.1] }.contains { $0.hasPrefix("not flattened") })
        #expect(breaking { g in
            let root = g.firstIndex { $0["@type"] as? String == "Dataset" }!
            g[root]["license"] = nil
        } == ["root has no license"])
        #expect(breaking { g in
            let fused = g.firstIndex { $0["focusd:role"] as? String == "fused" }!
            g[fused]["@id"] = "x_fused.tif"
        }.contains { $0.contains("x_fused.tif") })
        #expect(breaking { $0[action($0)]["agent"] = ["@id": "#nobody"] } == ["#nobody (agent of #fusion-\(job.id!)-1) does not resolve"])
    }

    /// A facility's own license (`license:`, `license_name:`) replaces CC BY 4.0 in every crate, and
    /// the facility (`organization:`) is the run's agent and the crate's author and publisher.
    @Test func theConfiguredLicenseAndOrganizationAreInTheCrate() async throws {
        let f = DaemonFixture()
        var config = f.configuration()
        config.license = try #require(CrateLicense(uri: "https://creativecommons.org/publicdomain/zero/1.0/", name: "CC0 1.0"))
        config.organization = try #require(CrateOrganization(checkedName: "Imaging Facility", url: "https://imaging.example.org/"))
        try await f.serving(config, processor: TestProcessor()) {
            drop(fakeTIFF("s1"), at: "\(f.drop)/lic.tif")
            _ = try await f.jobsWhenSettled(count: 1)
        }
        let sidecar = try #require(try f.journal().allJobs().first?.sidecar)
        let doc = try SidecarSchemaTests.load(sidecar)
        let graph = try #require(doc["@graph"] as? [[String: Any]])
        let root = try #require(graph.first { ($0["@type"] as? String) == "Dataset" })
        #expect((root["license"] as? [String: Any])?["@id"] as? String == "https://creativecommons.org/publicdomain/zero/1.0/")
        let entity = try #require(SidecarSchemaTests.entity(doc, "https://creativecommons.org/publicdomain/zero/1.0/"))
        #expect(entity["name"] as? String == "CC0 1.0")
        #expect(SidecarSchemaTests.entity(doc, CrateLicense.default.id) == nil, "the default license is not mentioned")
        let organization = try #require(SidecarSchemaTests.entity(doc, "https://imaging.example.org/"))
        #expect(organization["@type"] as? String == "Organization" && organization["name"] as? String == "Imaging Facility")
        for key in ["author", "publisher"] {
            #expect((root[key] as? [String: Any])?["@id"] as? String == "https://imaging.example.org/", "root \(key)")
        }
        #expect((SidecarSchemaTests.action(doc)?["agent"] as? [String: Any])?["@id"] as? String == "https://imaging.example.org/")
        #expect(ProcessRunCrateRequirements.violations(doc).isEmpty)
        try SidecarSchemaTests.validate(sidecar)
    }

    @Test func licenseKeysAreCheckedWhenTheConfigurationIsRead() throws {
        let minimal = "state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n"
        #expect(try DaemonConfiguration.parse(minimal, baseDirectory: "/").license == .default)
        let cc0 = try DaemonConfiguration.parse("license: https://creativecommons.org/publicdomain/zero/1.0/\nlicense_name: CC0 1.0\n" + minimal,
                                                baseDirectory: "/")
        #expect(cc0.license == CrateLicense(id: "https://creativecommons.org/publicdomain/zero/1.0/", name: "CC0 1.0"))
        let unnamed = try DaemonConfiguration.parse("license: https://spdx.org/licenses/MIT\n" + minimal, baseDirectory: "/")
        #expect(unnamed.license.name == "https://spdx.org/licenses/MIT")
        let named = try DaemonConfiguration.parse("organization: Imaging Facility\n" + minimal, baseDirectory: "/")
        #expect(named.organization == CrateOrganization(name: "Imaging Facility"))
        #expect(named.organization?.id == "#organization")
        for (bad, key) in [("license: CC-BY\n", "license"), ("license: 'https://x.org/a b'\n", "license"),
                           ("license_name: CC0\n", "license_name"), ("organization: '  '\n", "organization"),
                           ("organization: Lab\norganization_url: lab.org\n", "organization_url"),
                           ("organization_url: https://lab.org\n", "organization_url")] {
            do {
                _ = try DaemonConfiguration.parse(bad + minimal, file: "focusd.yaml", baseDirectory: "/")
                Issue.record("\(bad) must be refused")
            } catch {
                #expect(error.key == key, "\(bad): \(error)")
            }
        }
    }

    @Test func fileURIsArePercentEncodedAndReadBack() {
        #expect(CrateID.fileURI("/data/a b/c#d%e?.tif") == "file:///data/a%20b/c%23d%25e%3F.tif")
        #expect(CrateID.path(of: CrateID.fileURI("/data/a b/c#d%e?.tif"), relativeTo: "/x") == "/data/a b/c#d%e?.tif")
        #expect(CrateID.path(of: "/old/style.tif", relativeTo: "/x") == "/old/style.tif")
        #expect(CrateID.path(of: "rel%20ative.tif", relativeTo: "/x") == "/x/rel ative.tif")
        #expect(CrateID.path(of: "#host", relativeTo: "/x") == nil)
        #expect(CrateID.root(metadataPath: "/out/run 7-ro-crate-metadata.json") == "#run%207/")
    }

    @Test func nestedDocumentsFlattenIntoPathsAndScalarLists() throws {
        let value = try #require(JSONValue.parse(#"{"b": {"c": [1, 2]}, "a": [{"x": true}, {"x": null}], "d": "s"}"#))
        let flat = value.flattened().map { "\($0.name)=\($0.path.joined(separator: "/"))" }
        #expect(flat == ["a[0].x=a/0/x", "a[1].x=a/1/x", "b.c=b/c", "d=d"])
    }
}
