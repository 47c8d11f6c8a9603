import Checksum
import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// Tiny synthetic stacks written as real TIFFs (uint16 grey), sharp in a different band per slice.
enum SyntheticArchive {
    static func slices(count: Int, size: Int = 48, seed: Int = 0) -> [Image] {
        (0..<count).map { s in
            var pixels = [Float](repeating: 0, count: size * size)
            for y in 0..<size {
                for x in 0..<size {
                    let texture = ((x * 7 + y * 13 + seed * 31) % 17 < 8) ? 9000 : 1000
                    let inFocus = (x * count / size) == s
                    pixels[y * size + x] = Float(inFocus ? texture : 5000 + (x + seed) % 5)
                }
            }
            return Image(width: size, height: size, channels: 1, pixels: pixels)
        }
    }

    static func writeStack(_ path: String, slices count: Int, size: Int = 48, seed: Int = 0) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try TIFFWriter.write(slices(count: count, size: size, seed: seed), format: .uint16, to: path)
    }

    static func writeSliceFolder(_ folder: String, names: [String], seed: Int = 0) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (image, name) in zip(slices(count: names.count, seed: seed), names) {
            try TIFFWriter.write([image], format: .uint16, to: (folder as NSString).appendingPathComponent(name))
        }
    }

    /// `a/run1.tif` (3 pages), `a/run2/` (slices s1, s2, s10), `b/c/run3.tif` (2 pages), and things to ignore:
    /// a hidden folder, a text file, a folder with a single slice and no marker.
    static func make(at root: String) throws {
        try writeStack("\(root)/a/run1.tif", slices: 3, seed: 1)
        try writeSliceFolder("\(root)/a/run2", names: ["s10.tif", "s1.tif", "s2.tif"], seed: 2)
        try writeStack("\(root)/b/c/run3.tif", slices: 2, seed: 3)
        try writeStack("\(root)/.trash/old.tif", slices: 3)
        try writeSliceFolder("\(root)/b/lonely", names: ["only.tif"])
        try "notes".write(toFile: "\(root)/a/README.txt", atomically: true, encoding: .utf8)
    }

    static func tree(_ root: String) -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let rel = enumerator?.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: "\(root)/\(rel)") { result[rel] = data }
        }
        return result
    }
}

@Suite(.serialized) struct ReprocessTests {
    static let software = SoftwareInfo(version: "test", gitCommit: "unknown")

    @Test func theScannerFindsStacksWithTheDaemonsRules() throws {
        let dir = TemporaryFolder("reprocess-scan")
        let archive = dir.sub("archive")
        try SyntheticArchive.make(at: archive)
        try SyntheticArchive.writeSliceFolder("\(archive)/b/marked", names: ["z1.tif"])
        try Data().write(to: URL(fileURLWithPath: "\(archive)/b/marked/COMPLETE"))
        // A file and a folder that would share output names.
        try SyntheticArchive.writeStack("\(archive)/a/run2.tif", slices: 2)

        // A link back up the tree is not followed.
        try FileManager.default.createSymbolicLink(atPath: "\(archive)/b/c/loop", withDestinationPath: archive)

        let stacks = try ArchiveScanner().scan([archive])
        #expect(stacks.map(\.id) == ["archive/a/run1.tif", "archive/a/run2", "archive/a/run2.tif", "archive/b/c/run3.tif", "archive/b/marked"])
        let byID = Dictionary(uniqueKeysWithValues: stacks.map { ($0.id, $0) })
        #expect(byID["archive/a/run2"]?.inputs.map { ($0 as NSString).lastPathComponent } == ["s1.tif", "s2.tif", "s10.tif"],
                "natural order, as the daemon")
        #expect(byID["archive/a/run2"]?.kind == .folder)
        #expect(byID["archive/a/run1.tif"]?.stackName == "run1")
        #expect(byID["archive/a/run2"]?.stackName == "run2")
        #expect(byID["archive/a/run2.tif"]?.stackName == "run2.tif", "a colliding file keeps its extension")
        #expect(byID["archive/b/c/run3.tif"]?.outputFolder == "archive/b/c")
        // Relative to the archive itself: the layout of the archive alone.
        #expect(try ArchiveScanner().scan([archive], relativeTo: archive).map(\.id)
                == ["a/run1.tif", "a/run2", "a/run2.tif", "b/c/run3.tif", "b/marked"])

        // A folder given directly as the archive is one stack of slices, named after it.
        let single = try ArchiveScanner().scan(["\(archive)/a/run2"])
        #expect(single.map(\.id) == ["run2"])
        #expect(single.first?.stackName == "run2" && single.first?.outputFolder == "")
        #expect(try ArchiveScanner().scan(["\(archive)/a/run2"], relativeTo: "\(archive)/a/run2").map(\.id) == ["."])
        // Several archives: the same ids as each alone, under the archive's name.
        let two = try ArchiveScanner().scan(["\(archive)/a", "\(archive)/b"])
        #expect(two.map(\.id) == ["a/run1.tif", "a/run2", "a/run2.tif", "b/c/run3.tif", "b/marked"])
        #expect(try ArchiveScanner().scan(["\(archive)/b"]).map(\.id) == ["b/c/run3.tif", "b/marked"])
        #expect(throws: ReprocessError.self) { try ArchiveScanner().scan(["\(archive)/nope"]) }
        // Archives inside one another, or outside --relative-to, are refused.
        #expect(throws: ReprocessError.self) { try ArchiveScanner().scan([archive, "\(archive)/a"]) }
        #expect(throws: ReprocessError.self) { try ArchiveScanner().scan(["\(archive)/a"], relativeTo: "\(archive)/b") }
    }

    /// With the daemon's loose-file pattern, matching slices group into one stack per `stack` value,
    /// in `z` order; other files keep the folder rule; a bad pattern is refused with what to do.
    @Test func theScannerGroupsLooseSlicesByTheDaemonsPattern() throws {
        let dir = TemporaryFolder("reprocess-loose")
        let archive = dir.sub("archive")
        try SyntheticArchive.writeSliceFolder("\(archive)/day1", names: ["cellA_z2.tif", "cellA_z10.tif", "cellA_z1.tif",
                                                                        "cellB_z1.tif", "cellB_z2.tif"])
        try SyntheticArchive.writeStack("\(archive)/day1/whole.tif", slices: 2)
        let rules = try ArchiveScanner.presenceRules(pattern: #"(?<stack>.+)_z(?<z>\d+)\.tif"#)
        let stacks = try ArchiveScanner(rules: rules).scan([archive])
        #expect(stacks.map(\.id) == ["archive/day1/cellA", "archive/day1/cellB", "archive/day1/whole.tif"])
        let cellA = try #require(stacks.first)
        #expect(cellA.kind == .loose && cellA.stackName == "cellA" && cellA.outputFolder == "archive/day1")
        #expect(cellA.inputs.map { ($0 as NSString).lastPathComponent } == ["cellA_z1.tif", "cellA_z2.tif", "cellA_z10.tif"])
        // Without the pattern the same files are one folder of slices (and the multi-page file its own stack).
        #expect(try ArchiveScanner().scan([archive]).map(\.id) == ["archive/day1", "archive/day1/whole.tif"])
        #expect(throws: ReprocessError.self) { try ArchiveScanner.presenceRules(pattern: "(unclosed") }
        #expect(throws: ReprocessError.self) { try ArchiveScanner.presenceRules(pattern: #"(?<stack>.+)\.tif"#) }
    }

    @Test func reprocessFusesOnceThenFindsEverythingUpToDate() throws {
        let dir = TemporaryFolder("reprocess-run")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.make(at: archive)
        let before = SyntheticArchive.tree(archive)

        var settings = FusionSettings()
        settings.engine = .reference
        let reprocessor = try Reprocessor(settings: settings, baseDirectory: nil, profileName: "reference",
                                          outputDirectory: out, software: Self.software)
        let stacks = try ArchiveScanner().scan([archive])
        let journal = try ReprocessJournal(path: reprocessor.journalPath())
        let plan = try reprocessor.plan(stacks, journal: journal)
        #expect(plan.toRun.count == 3)
        #expect(plan.toRun.allSatisfy { $0.reason == .missing })

        let metrics = FocusdMetrics(mode: "reprocess", instance: "reprocess")
        let outcomes = reprocessor.run(plan.toRun, jobs: 2, journal: journal, metrics: metrics, onFinish: { _ in }, tick: {})
        #expect(outcomes.count == 3)
        #expect(outcomes.allSatisfy { $0.error == nil }, "\(outcomes.compactMap(\.error))")
        for path in ["archive/a/run1_fused.tif", "archive/a/run1_depth.tif", "archive/a/run1-ro-crate-metadata.json", "archive/a/run2_fused.tif",
                     "archive/a/run2-ro-crate-metadata.json", "archive/b/c/run3_fused.tif", "archive/b/c/run3-ro-crate-metadata.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(path)"), "\(path)")
        }
        #expect(SyntheticArchive.tree(archive) == before, "inputs are never modified")

        // Sidecars: valid against the schema, outputs hash as recorded, inputs in slice order.
        let doc = try SidecarSchemaTests.load("\(out)/archive/a/run2-ro-crate-metadata.json")
        let errors = try SidecarSchemaTests.schema().validate(doc)
        #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        try SidecarSchemaTests.checkAgainstFiles(doc, inputs: ["s1.tif", "s2.tif", "s10.tif"].map { "\(archive)/a/run2/\($0)" })
        let action = try #require((doc["@graph"] as? [[String: Any]])?.first { $0["@type"] as? String == "CreateAction" })
        #expect(action["focusd:profileFingerprint"] as? String == reprocessor.profileFingerprint)
        #expect(try journal.entries(for: stacks.map(\.id)).values.allSatisfy { $0.state == .done && $0.attempts == 1 })
        #expect(metrics.render().contains("focusd_stacks_total{instance=\"reprocess\",result=\"done\"} 3"))

        // Second run: nothing to do.
        let again = try reprocessor.plan(stacks, journal: journal)
        #expect(again.toRun.isEmpty)
        #expect(again.upToDate.count == 3)

        // A changed setting makes every stack out of date.
        var changed = settings
        changed.projection.bandRadius += 1
        let other = try Reprocessor(settings: changed, baseDirectory: nil, profileName: "x", outputDirectory: out, software: Self.software)
        #expect(other.profileFingerprint != reprocessor.profileFingerprint)
        let stale = try other.plan(stacks, journal: journal)
        #expect(stale.toRun.count == 3)
        #expect(stale.toRun.allSatisfy { if case .outOfDate(let why) = $0.reason { why.contains("profile or model changed") } else { false } })

        // A modified output makes its stack out of date (and only that one).
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: "\(out)/archive/b/c/run3_depth.tif"))
        let tampered = try reprocessor.plan(stacks, journal: journal)
        #expect(tampered.toRun.map(\.stack.id) == ["archive/b/c/run3.tif"])
        #expect(tampered.toRun.first.map { "\($0.reason)".contains("does not match the sha256") } == true)
    }

    /// A sidecar as the release before RO-Crate sidecars wrote it (`{stack}.prov.json`): absolute
    /// paths as ids, nested settings.
    static func legacySidecar(fingerprint: String, outputs: [(role: String, path: String, sha256: String)]) -> Data {
        let graph: [[String: Any]] = [
            ["@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": ["@id": "./"]],
            ["@id": "./", "@type": "Dataset", "hasPart": outputs.map { ["@id": $0.path] }],
            ["@id": "#fusion-1-1", "@type": "CreateAction", "focusd:profileFingerprint": fingerprint,
             "actionStatus": ["@id": "http://schema.org/CompletedActionStatus"], "focusd:stageSeconds": ["fuse": 0.5]],
            ["@id": "#profile", "@type": "PropertyValue", "focusd:settings": ["engine": "reference"]],
        ] + outputs.map { ["@id": $0.path, "@type": "File", "focusd:role": $0.role, "sha256": $0.sha256] }
        return try! JSONSerialization.data(withJSONObject: ["@context": ["https://w3id.org/ro/crate/1.1/context"], "@graph": graph])
    }

    @Test func aSidecarOfTheReleaseBeforeStillMakesItsStackUpToDate() throws {
        let dir = TemporaryFolder("reprocess-legacy")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.writeStack("\(archive)/run1.tif", slices: 3, seed: 1)
        var settings = FusionSettings()
        settings.engine = .reference
        let reprocessor = try Reprocessor(settings: settings, baseDirectory: nil, profileName: "reference",
                                          outputDirectory: out, software: Self.software)
        let stacks = try ArchiveScanner().scan([archive])
        let journal = try ReprocessJournal(path: reprocessor.journalPath())
        let outcomes = reprocessor.run(try reprocessor.plan(stacks, journal: journal).toRun, jobs: 1, journal: journal,
                                       metrics: nil, onFinish: { _ in }, tick: {})
        #expect(outcomes.count == 1 && outcomes.allSatisfy { $0.error == nil })
        let stack = try #require(stacks.first)
        let current = reprocessor.sidecarPath(stack), legacy = reprocessor.legacySidecarPath(stack)
        #expect(current.hasSuffix("/archive/run1-ro-crate-metadata.json") && legacy.hasSuffix("/archive/run1.prov.json"))
        let summary = try #require(SidecarSummary.read(current))
        #expect(summary.outputs.map(\.role).sorted() == ["depth", "fused"])

        // The crate replaced by what the release before wrote: still up to date (no journal to ask).
        let outputs = summary.outputs.map { (role: $0.role, path: $0.path, sha256: $0.sha256) }
        try Self.legacySidecar(fingerprint: reprocessor.profileFingerprint, outputs: outputs).write(to: URL(fileURLWithPath: legacy))
        unlink(current)
        #expect(SidecarSummary.read(legacy) == summary, "the old format reads back the same")
        let plan = try reprocessor.plan(stacks, journal: nil)
        #expect(plan.upToDate.count == 1 && plan.toRun.isEmpty)

        // An old sidecar whose outputs no longer match is out of date; fusing again replaces it with a crate.
        try Self.legacySidecar(fingerprint: reprocessor.profileFingerprint, outputs: outputs.map { ($0.role, $0.path, String(repeating: "0", count: 64)) })
            .write(to: URL(fileURLWithPath: legacy))
        let stale = try reprocessor.plan(stacks, journal: nil)
        #expect(stale.toRun.first.map { "\($0.reason)".contains("does not match the sha256") } == true)
        _ = reprocessor.run(stale.toRun, jobs: 1, journal: journal, metrics: nil, onFinish: { _ in }, tick: {})
        #expect(!FileManager.default.fileExists(atPath: legacy), "the old sidecar goes when the stack is fused again")
        try SidecarSchemaTests.validate(current)
    }

    @Test func aFailingStackIsReportedAndRememberedAsFailed() throws {
        let dir = TemporaryFolder("reprocess-fail")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.writeStack("\(archive)/good.tif", slices: 2)
        // Two slices of different sizes cannot be fused.
        try FileManager.default.createDirectory(atPath: "\(archive)/bad", withIntermediateDirectories: true)
        try TIFFWriter.write(SyntheticArchive.slices(count: 1, size: 48), format: .uint16, to: "\(archive)/bad/z1.tif")
        try TIFFWriter.write(SyntheticArchive.slices(count: 1, size: 32), format: .uint16, to: "\(archive)/bad/z2.tif")

        let reprocessor = try Reprocessor(settings: FusionSettings(), baseDirectory: nil, profileName: "reference",
                                          outputDirectory: out, software: Self.software)
        let stacks = try ArchiveScanner().scan([archive])
        let journal = try ReprocessJournal(path: reprocessor.journalPath())
        let outcomes = reprocessor.run(try reprocessor.plan(stacks, journal: journal).toRun, jobs: 1, journal: journal,
                                       metrics: nil, onFinish: { _ in }, tick: {})
        let failure = try #require(outcomes.first { $0.stack.id == "archive/bad" })
        #expect(failure.error?.contains("z2.tif") == true, "\(failure.error ?? "")")
        #expect(outcomes.first { $0.stack.id == "archive/good.tif" }?.error == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(out)/archive/bad-ro-crate-metadata.json"))

        let next = try reprocessor.plan(stacks, journal: journal)
        #expect(next.toRun.map(\.stack.id) == ["archive/bad"])
        #expect(next.toRun.first.map { if case .failedBefore = $0.reason { true } else { false } } == true)
    }

    @Test func aRunLeftRunningIsFusedAgainAsInterrupted() throws {
        let dir = TemporaryFolder("reprocess-interrupted")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.writeStack("\(archive)/s.tif", slices: 2)
        let reprocessor = try Reprocessor(settings: FusionSettings(), baseDirectory: nil, profileName: "reference",
                                          outputDirectory: out, software: Self.software)
        let journal = try ReprocessJournal(path: reprocessor.journalPath())
        _ = try journal.start("archive/s.tif", profileFingerprint: reprocessor.profileFingerprint, now: 0)   // a killed run
        let plan = try reprocessor.plan(try ArchiveScanner().scan([archive]), journal: journal)
        #expect(plan.toRun.map(\.reason) == [.interrupted])
        _ = reprocessor.run(plan.toRun, jobs: 1, journal: journal, metrics: nil, onFinish: { _ in }, tick: {})
        #expect(try journal.entries(for: ["archive/s.tif"])["archive/s.tif"]?.attempts == 2)
        #expect(try reprocessor.plan(try ArchiveScanner().scan([archive]), journal: journal).toRun.isEmpty)
    }

    /// A FusionDiff profile: a retrained (modified) model makes outputs out of date, the same model at another path does not.
    @Test func aChangedModelMakesStacksOutOfDate() throws {
        let dir = TemporaryFolder("reprocess-model")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.writeStack("\(archive)/m.tif", slices: 2, size: 32)   // one small pair: the model is slow in debug builds
        let shipped = (packageRoot as NSString).appendingPathComponent("models/default.safetensors")
        let modelA = dir.sub("a.safetensors"), modelB = dir.sub("b.safetensors"), copyA = dir.sub("copy/a.safetensors")
        try FileManager.default.createDirectory(atPath: dir.sub("copy"), withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shipped))
        try bytes.write(to: URL(fileURLWithPath: modelA))
        try bytes.write(to: URL(fileURLWithPath: copyA))
        bytes[bytes.count - 1] ^= 0x01   // one weight bit changed
        try bytes.write(to: URL(fileURLWithPath: modelB))

        func reprocessor(_ model: String) throws -> Reprocessor {
            var s = FusionSettings()
            s.engine = .fusiondiff
            s.model = model
            s.steps = 1
            return try Reprocessor(settings: s, baseDirectory: nil, profileName: "fd", outputDirectory: out, software: Self.software)
        }
        let a = try reprocessor(modelA)
        let stacks = try ArchiveScanner().scan([archive])
        let journal = try ReprocessJournal(path: a.journalPath())
        let outcomes = a.run(try a.plan(stacks, journal: journal).toRun, jobs: 1, journal: journal, metrics: nil, onFinish: { _ in }, tick: {})
        #expect(outcomes.map(\.error) == [nil])
        #expect(try a.plan(stacks, journal: journal).toRun.isEmpty)
        #expect(try reprocessor(copyA).plan(stacks, journal: journal).toRun.isEmpty, "the model enters by content, not path")
        let b = try reprocessor(modelB)
        #expect(b.profileFingerprint != a.profileFingerprint)
        #expect(try b.plan(stacks, journal: journal).toRun.map(\.stack.id) == ["archive/m.tif"])
    }

    /// Outputs mirror each stack's path under its archive's own name, so a run over archives A and B
    /// and a later run over A alone find the same outputs: A's stacks are up to date, nothing is fused again.
    @Test func aSubsetOfTheArchivesFindsItsOutputsUpToDate() throws {
        let dir = TemporaryFolder("reprocess-subset")
        let archiveA = dir.sub("archA"), archiveB = dir.sub("archB"), out = dir.sub("out")
        try SyntheticArchive.writeStack("\(archiveA)/run7.tif", slices: 2, seed: 1)
        try SyntheticArchive.writeSliceFolder("\(archiveA)/day2/run8", names: ["z1.tif", "z2.tif"], seed: 2)
        try SyntheticArchive.writeStack("\(archiveB)/run7.tif", slices: 2, seed: 3)
        let reprocessor = try Reprocessor(settings: FusionSettings(), baseDirectory: nil, profileName: "reference",
                                          outputDirectory: out, software: Self.software)
        let journal = try ReprocessJournal(path: reprocessor.journalPath())
        let both = try ArchiveScanner().scan([archiveA, archiveB])
        let outcomes = reprocessor.run(try reprocessor.plan(both, journal: journal).toRun, jobs: 1, journal: journal,
                                       metrics: nil, onFinish: { _ in }, tick: {})
        #expect(outcomes.count == 3 && outcomes.allSatisfy { $0.error == nil }, "\(outcomes.compactMap(\.error))")
        for path in ["archA/run7_fused.tif", "archA/day2/run8_fused.tif", "archB/run7_fused.tif"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(path)"), "\(path)")
        }
        let alone = try ArchiveScanner().scan([archiveA])
        #expect(alone.map(\.id) == ["archA/day2/run8", "archA/run7.tif"])
        let plan = try reprocessor.plan(alone, journal: journal)
        #expect(plan.toRun.isEmpty, "\(plan.toRun.map { "\($0.stack.id): \($0.reason)" })")
        #expect(plan.upToDate.count == 2)
    }

    /// `threads` changes the time, never the pixels: a profile that differs from another only in its
    /// thread count has the same fingerprint, and finds the other's outputs up to date.
    @Test func aDifferentThreadCountLeavesOutputsUpToDate() throws {
        let dir = TemporaryFolder("reprocess-threads")
        let archive = dir.sub("archive"), out = dir.sub("out")
        try SyntheticArchive.writeStack("\(archive)/t.tif", slices: 2)
        let one = try ProfileLoader.parse("engine: reference\nthreads: 1\n", file: "one.yaml")
        let eight = try ProfileLoader.parse("engine: reference\nthreads: 8\n", file: "eight.yaml")
        let first = try Reprocessor(settings: one, baseDirectory: nil, profileName: "one", outputDirectory: out, software: Self.software)
        let second = try Reprocessor(settings: eight, baseDirectory: nil, profileName: "eight", outputDirectory: out, software: Self.software)
        #expect(first.profileFingerprint == second.profileFingerprint)
        #expect(first.identity == second.identity, "the dedupe fingerprint's settings too")
        let stacks = try ArchiveScanner().scan([archive])
        let journal = try ReprocessJournal(path: first.journalPath())
        _ = first.run(try first.plan(stacks, journal: journal).toRun, jobs: 1, journal: journal, metrics: nil, onFinish: { _ in }, tick: {})
        let plan = try second.plan(stacks, journal: journal)
        #expect(plan.toRun.isEmpty && plan.upToDate.count == 1, "\(plan.toRun.map { "\($0.reason)" })")
    }

    /// TIFFs focusd wrote into an archive (a fused image beside the slices) are neither stacks nor slices.
    @Test func focusdOutputsInsideAnArchiveAreSkipped() throws {
        let dir = TemporaryFolder("reprocess-skip")
        let archive = dir.sub("archive")
        try SyntheticArchive.writeSliceFolder("\(archive)/run9", names: ["z1.tif", "z2.tif"])
        let fused = SyntheticArchive.slices(count: 1)
        try TIFFWriter.write(fused, format: .uint16, to: "\(archive)/run9/run9_fused.tif", software: "focusd 0.1.0")
        try TIFFWriter.write(SyntheticArchive.slices(count: 3), format: .uint16, to: "\(archive)/aligned.tif", software: "focusd 0.1.0")
        let scan = try ArchiveScanner().find([archive])
        #expect(scan.stacks.map(\.id) == ["archive/run9"])
        #expect(scan.stacks.first?.inputs.map { ($0 as NSString).lastPathComponent } == ["z1.tif", "z2.tif"])
        #expect(scan.skipped == ["\(archive)/aligned.tif", "\(archive)/run9/run9_fused.tif"])
    }
}
