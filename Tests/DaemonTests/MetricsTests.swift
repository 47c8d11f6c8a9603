import Foundation
import Testing
@testable import Daemon

/// A strict reader of Prometheus' text exposition format (as node_exporter's textfile collector reads it).
struct ExpositionFile {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    var types: [String: String] = [:]
    var helps: [String: String] = [:]
    var samples: [Sample] = []

    enum ParseError: Error, CustomStringConvertible {
        case bad(line: Int, text: String, why: String)
        var description: String {
            switch self { case .bad(let line, let text, let why): "line \(line) '\(text)': \(why)" }
        }
    }

    static let namePattern = try! NSRegularExpression(pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    static func isName(_ s: String) -> Bool {
        namePattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw ParseError.bad(line: 0, text: "", why: "the file must end with a newline") }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let n = index + 1
            let s = String(line)
            if s.hasPrefix("# HELP ") || s.hasPrefix("# TYPE ") {
                let parts = s.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count == 4, Self.isName(parts[2]) else { throw ParseError.bad(line: n, text: s, why: "bad comment") }
                if parts[1] == "TYPE" {
                    guard ["counter", "gauge", "summary", "histogram", "untyped"].contains(parts[3]) else {
                        throw ParseError.bad(line: n, text: s, why: "unknown type")
                    }
                    guard types[parts[2]] == nil, !samples.contains(where: { $0.name.hasPrefix(parts[2]) }) else {
                        throw ParseError.bad(line: n, text: s, why: "TYPE repeated or after its samples")
                    }
                    types[parts[2]] = parts[3]
                } else {
                    helps[parts[2]] = parts[3]
                }
                continue
            }
            guard !s.isEmpty, !s.hasPrefix("#") else { throw ParseError.bad(line: n, text: s, why: "unexpected line") }
            samples.append(try Self.sample(s, line: n))
        }
        for sample in samples {
            let family = types.keys.first { sample.name == $0 || ((types[$0] == "summary" || types[$0] == "histogram")
                                                                   && (sample.name == $0 + "_sum" || sample.name == $0 + "_count"))
                                            || (types[$0] == "histogram" && sample.name == $0 + "_bucket") }
            guard let family else { throw ParseError.bad(line: 0, text: sample.name, why: "sample without a # TYPE") }
            if sample.name == family + "_bucket" {
                guard let le = sample.labels["le"], le == "+Inf" || Double(le) != nil else {
                    throw ParseError.bad(line: 0, text: sample.name, why: "histogram bucket without a numeric le label")
                }
            }
        }
        // Histograms, per series (labels but le): buckets cumulative (non-decreasing by le), +Inf
        // present and equal to _count.
        for (family, type) in types where type == "histogram" {
            for count in samples where count.name == family + "_count" {
                let buckets = samples.filter { sample in
                    sample.name == family + "_bucket" && sample.labels.filter { $0.key != "le" } == count.labels
                }
                let bounds = buckets.map { $0.labels["le"] == "+Inf" ? Double.infinity : Double($0.labels["le"]!)! }
                guard bounds == bounds.sorted(), bounds.last == .infinity,
                      zip(buckets, buckets.dropFirst()).allSatisfy({ $0.value <= $1.value }),
                      buckets.last?.value == count.value else {
                    throw ParseError.bad(line: 0, text: family, why: "histogram buckets not cumulative, or +Inf missing or unequal to _count")
                }
            }
        }
        // node_exporter refuses a file that exports one series twice.
        var seen = Set<String>()
        for sample in samples {
            let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard seen.insert(key).inserted else { throw ParseError.bad(line: 0, text: key, why: "series exported twice") }
        }
    }

    static func sample(_ s: String, line n: Int) throws -> Sample {
        var name = "", labels: [String: String] = [:], rest = Substring(s)
        if let brace = s.firstIndex(of: "{") {
            name = String(s[..<brace])
            guard let close = s.lastIndex(of: "}") else { throw ParseError.bad(line: n, text: s, why: "unclosed {") }
            var body = s[s.index(after: brace)..<close]
            while !body.isEmpty {
                guard let eq = body.firstIndex(of: "=") else { throw ParseError.bad(line: n, text: s, why: "label without =") }
                let key = String(body[..<eq])
                guard isName(key), body[body.index(after: eq)...].first == "\"" else { throw ParseError.bad(line: n, text: s, why: "bad label") }
                var value = "", i = body.index(eq, offsetBy: 2), closed = false
                while i < body.endIndex {
                    let c = body[i]
                    if c == "\\" {
                        i = body.index(after: i)
                        guard i < body.endIndex else { break }
                        value.append(body[i] == "n" ? "\n" : body[i])
                    } else if c == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(c)
                    }
                    i = body.index(after: i)
                }
                guard closed else { throw ParseError.bad(line: n, text: s, why: "unterminated label value") }
                labels[key] = value
                body = body[body.index(after: i)...]
                if body.first == "," { body = body.dropFirst() }
            }
            rest = s[s.index(after: close)...]
        } else {
            guard let space = s.firstIndex(of: " ") else { throw ParseError.bad(line: n, text: s, why: "no value") }
            name = String(s[..<space])
            rest = s[space...]
        }
        guard isName(name) else { throw ParseError.bad(line: n, text: s, why: "bad metric name") }
        let fields = rest.split(separator: " ")
        guard (1...2).contains(fields.count), let value = Double(fields[0]) else { throw ParseError.bad(line: n, text: s, why: "bad value") }
        return Sample(name: name, labels: labels, value: value)
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }?.value
    }
}

@Suite(.serialized) struct MetricsTests {
    @Test func theWrittenFileParsesAndCountsJobs() throws {
        let dir = TemporaryFolder("metrics")
        let metrics = FocusdMetrics(mode: "reprocess", instance: "reprocess", shard: "2/16", startTime: 1_790_000_000.5)
        metrics.setModels([.init(name: "default.safetensors", sha256: "ab12", profile: "lab \"A\"\\1")])
        metrics.recordStack(result: "done", seconds: 2.0, fuseSeconds: 1.5, pairs: 3)
        metrics.recordStack(result: "done", seconds: 4.0, fuseSeconds: 3.0, pairs: 3)
        metrics.recordStack(result: "done", seconds: 4000)
        metrics.recordStack(result: "failed")
        metrics.recordStack(result: "duplicate")
        metrics.recordStack(result: "quarantined")
        metrics.recordStack(result: "quarantined")
        metrics.recordRetry()
        metrics.setQueueDepth(5)
        let path = dir.sub("textfile/focusd.prom")
        try metrics.write(to: path)

        let parsed = try ExpositionFile(try String(contentsOfFile: path, encoding: .utf8))
        #expect(parsed.types["focusd_stacks_total"] == "counter")
        #expect(parsed.types["focusd_stack_seconds"] == "histogram")
        #expect(parsed.types["focusd_queue_depth"] == "gauge")
        #expect(Set(parsed.helps.keys) == Set(parsed.types.keys), "every family has # HELP")
        #expect(parsed.samples.allSatisfy { $0.labels["instance"] == "reprocess" && $0.labels["shard"] == "2/16" },
                "every series carries the instance and shard labels")
        #expect(parsed.value("focusd_stacks_total", ["result": "done"]) == 3)
        #expect(parsed.value("focusd_stacks_total", ["result": "failed"]) == 1)
        #expect(parsed.value("focusd_stacks_total", ["result": "quarantined"]) == 2)
        #expect(parsed.types["focusd_duplicates_total"] == "counter" && parsed.value("focusd_duplicates_total") == 1)
        #expect(parsed.types["focusd_retries_total"] == "counter" && parsed.value("focusd_retries_total") == 1)
        #expect(parsed.types["focusd_quarantines_total"] == "counter" && parsed.value("focusd_quarantines_total") == 2)
        #expect(parsed.value("focusd_stack_seconds_sum") == 4006)
        #expect(parsed.value("focusd_stack_seconds_count") == 3)
        // 2 s falls in le="2", 4 s in le="5", 4000 s only in +Inf; buckets are cumulative.
        #expect(parsed.value("focusd_stack_seconds_bucket", ["le": "1"]) == 0)
        #expect(parsed.value("focusd_stack_seconds_bucket", ["le": "2"]) == 1)
        #expect(parsed.value("focusd_stack_seconds_bucket", ["le": "5"]) == 2)
        #expect(parsed.value("focusd_stack_seconds_bucket", ["le": "300"]) == 2)
        #expect(parsed.value("focusd_stack_seconds_bucket", ["le": "3600"]) == 2)
        #expect(parsed.value("focusd_stack_seconds_bucket", ["le": "+Inf"]) == 3)
        #expect(parsed.value("focusd_pair_seconds_sum") == 4.5)
        #expect(parsed.value("focusd_pair_seconds_count") == 6)
        #expect(parsed.value("focusd_queue_depth") == 5)
        #expect(parsed.value("focusd_up", ["mode": "reprocess"]) == 1)
        #expect(parsed.value("focusd_start_time_seconds") == 1_790_000_000.5)
        #expect(parsed.value("focusd_model_info", ["name": "default.safetensors", "sha256": "ab12", "profile": "lab \"A\"\\1"]) == 1)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.sub("textfile")) == ["focusd.prom"])

        metrics.markStopped()
        try metrics.write(to: path)
        #expect(try ExpositionFile(try String(contentsOfFile: path, encoding: .utf8)).value("focusd_up") == 0)
    }

    @Test func theParserRejectsBrokenLines() {
        for text in ["focusd_x 1\n", "# TYPE a gauge\na{b=\"1} 2\n", "# TYPE a gauge\na one\n", "# TYPE a gauge\na 1"] {
            #expect(throws: ExpositionFile.ParseError.self, "\(text)") { try ExpositionFile(text) }
        }
    }

    @Test func theDaemonWritesMetricsAfterJobs() async throws {
        let f = DaemonFixture()
        var editable = f.configuration()
        let metricsFile = f.root.sub("metrics/focusd.prom")
        editable.metricsFile = metricsFile
        editable.instance = "scope7"
        let config = editable
        let processor = TestProcessor()
        try await f.serving(config, processor: processor) {
            drop(fakeTIFF("a"), at: "\(f.drop)/one.tif")
            drop(Data("not a tiff".utf8), at: "\(f.drop)/two.tif")
            // Generous limits: the whole suite runs daemon tests in parallel on a busy machine.
            _ = try await f.jobsWhenSettled(count: 2, seconds: 90)
            let settled = await eventually(seconds: 30) {
                guard let text = try? String(contentsOfFile: metricsFile, encoding: .utf8),
                      let parsed = try? ExpositionFile(text) else { return false }
                return parsed.value("focusd_stacks_total", ["result": "done"]) == 1
                    && parsed.value("focusd_stacks_total", ["result": "quarantined"]) == 1
            }
            #expect(settled, "metrics after two jobs: \((try? String(contentsOfFile: metricsFile, encoding: .utf8)) ?? "none")")
        }
        let parsed = try ExpositionFile(try String(contentsOfFile: metricsFile, encoding: .utf8))
        #expect(parsed.value("focusd_up", ["mode": "serve"]) == 0, "a clean stop writes focusd_up 0")
        #expect(parsed.value("focusd_stack_seconds_count") == 1)
        #expect(parsed.value("focusd_pair_seconds_count") == 0, "one slice: no pairs")
        #expect(parsed.value("focusd_queue_depth") == 0)
        #expect(parsed.value("focusd_model_info", ["name": "none", "profile": "defaults"]) == 1)
        #expect(parsed.samples.allSatisfy { $0.labels["instance"] == "scope7" && $0.labels["shard"] == nil })
    }

    /// A transient failure retried: counted in focusd_retries_total, and the stack once as done.
    @Test func theDaemonCountsRetries() async throws {
        let f = DaemonFixture()
        var config = f.configuration()
        let metricsFile = f.root.sub("metrics/focusd.prom")
        config.metricsFile = metricsFile
        let processor = TestProcessor(transientFailures: 2)
        try await f.serving(config, processor: processor) {
            drop(fakeTIFF("a"), at: "\(f.drop)/one.tif")
            _ = try await f.jobsWhenSettled(count: 1, seconds: 90)
            let settled = await eventually(seconds: 30) {
                guard let text = try? String(contentsOfFile: metricsFile, encoding: .utf8),
                      let parsed = try? ExpositionFile(text) else { return false }
                return parsed.value("focusd_stacks_total", ["result": "done"]) == 1
            }
            #expect(settled)
        }
        let parsed = try ExpositionFile(try String(contentsOfFile: metricsFile, encoding: .utf8))
        #expect(processor.calls.count == 3)
        #expect(parsed.value("focusd_retries_total") == 2)
        #expect(parsed.value("focusd_quarantines_total") == 0 && parsed.value("focusd_duplicates_total") == 0)
        #expect(parsed.value("focusd_stack_seconds_count") == 1)
    }

    /// Two instances on one node: distinct files and distinct series, so node_exporter gathers both.
    @Test func twoInstancesWriteTwoFilesOfDistinctSeries() throws {
        let dir = TemporaryFolder("metrics-instances")
        let configured = dir.sub("textfile/focusd.prom")
        var texts: [String] = []
        var paths: [String] = []
        for name in ["scope1", "scope2"] {
            let config = try DaemonConfiguration.parse(
                "state_directory: /s\nmetrics_file: \(configured)\ndrop_folders:\n  - path: /d\n    output: /o\n",
                file: "/etc/focusd/\(name).yaml", baseDirectory: "/etc/focusd")
            #expect(config.instance == name)
            let path = try #require(config.metricsFile)
            let metrics = FocusdMetrics(mode: "serve", instance: config.instance)
            metrics.recordStack(result: "done", seconds: 3)
            try metrics.write(to: path)
            paths.append(path)
            texts.append(try String(contentsOfFile: path, encoding: .utf8))
        }
        #expect(paths == [dir.sub("textfile/focusd-scope1.prom"), dir.sub("textfile/focusd-scope2.prom")])
        // node_exporter merges every file of its folder: the union must parse with no series twice.
        let merged = texts[0] + texts[1].split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        let parsed = try ExpositionFile(merged)
        #expect(parsed.value("focusd_stacks_total", ["instance": "scope1", "result": "done"]) == 1)
        #expect(parsed.value("focusd_stacks_total", ["instance": "scope2", "result": "done"]) == 1)
    }

    @Test(arguments: [
        ("/m/focusd.prom", "focusd", nil, "/m/focusd.prom"),
        ("/m/focusd.prom", "scope1", nil, "/m/focusd-scope1.prom"),
        ("/m/scope1-metrics.prom", "scope1", nil, "/m/scope1-metrics.prom"),
        ("/m/f-{instance}.prom", "focusd", nil, "/m/f-focusd.prom"),
        ("/m/r.prom", nil, "3/16", "/m/r-shard3-of-16.prom"),
        ("/m/r-{shard}.prom", nil, "3/16", "/m/r-3-of-16.prom"),
        ("/m/r.prom", "batch", "0/2", "/m/r-batch-shard0-of-2.prom"),
        ("/m/r.prom", nil, nil, "/m/r.prom"),
    ] as [(String, String?, String?, String)])
    func metricsFileNamePerInstanceAndShard(configured: String, instance: String?, shard: String?, expected: String) throws {
        let spec = try shard.map { try ShardSpec(parsing: $0) }
        #expect(MetricsFileName.resolve(configured, instance: instance, shard: spec) == expected)
    }

    @Test func instanceIsAConfigurationKey() throws {
        let text = "state_directory: /s\ninstance: lab-3\ndrop_folders:\n  - path: /d\n    output: /o\n"
        #expect(try DaemonConfiguration.parse(text, file: "/etc/focusd/focusd.yaml", baseDirectory: "/").instance == "lab-3")
        #expect(try DaemonConfiguration.parse("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n",
                                              file: "/etc/focusd/scope2.yaml", baseDirectory: "/").instance == "scope2")
        do {
            _ = try DaemonConfiguration.parse("state_directory: /s\ninstance: a/b\ndrop_folders:\n  - path: /d\n    output: /o\n",
                                              file: "focusd.yaml", baseDirectory: "/")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "instance" && error.line == 2)
            #expect(error.description.contains("a/b"))
        }
    }

    @Test func metricsFileIsAConfigurationKey() throws {
        let config = try DaemonConfiguration.parse(
            "state_directory: /s\nmetrics_file: prom/focusd.prom\ndrop_folders:\n  - path: /d\n    output: /o\n",
            file: "focusd.yaml", baseDirectory: "/etc/focusd")
        #expect(config.metricsFile == "/etc/focusd/prom/focusd.prom")
        #expect(try DaemonConfiguration.parse("state_directory: /s\ndrop_folders:\n  - path: /d\n    output: /o\n",
                                              baseDirectory: "/").metricsFile == nil)
        do {
            _ = try DaemonConfiguration.parse("state_directory: /s\nmetrics_file: /x/focusd.txt\ndrop_folders:\n  - path: /d\n    output: /o\n",
                                              file: "focusd.yaml", baseDirectory: "/")
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "metrics_file")
            #expect(error.line == 2)
        }
    }
}
