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
                                                                   && (sample.name == $0 + "_sum" || sample.name == $0 + "_count")) }
            guard family != nil else { throw ParseError.bad(line: 0, text: sample.name, why: "sample without a # TYPE") }
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
        let metrics = FocusdMetrics(mode: "reprocess", startTime: 1_790_000_000.5)
        metrics.setModels([.init(name: "default.safetensors", sha256: "ab12", profile: "lab \"A\"\\1")])
        metrics.recordStack(result: "done", seconds: 2.0, fuseSeconds: 1.5, pairs: 3)
        metrics.recordStack(result: "done", seconds: 4.0, fuseSeconds: 3.0, pairs: 3)
        metrics.recordStack(result: "failed")
        metrics.setQueueDepth(5)
        let path = dir.sub("textfile/focusd.prom")
        try metrics.write(to: path)

        let parsed = try ExpositionFile(try String(contentsOfFile: path, encoding: .utf8))
        #expect(parsed.types["focusd_stacks_total"] == "counter")
        #expect(parsed.types["focusd_stack_seconds"] == "summary")
        #expect(parsed.types["focusd_queue_depth"] == "gauge")
        #expect(Set(parsed.helps.keys) == Set(parsed.types.keys), "every family has # HELP")
        #expect(parsed.value("focusd_stacks_total", ["result": "done"]) == 2)
        #expect(parsed.value("focusd_stacks_total", ["result": "failed"]) == 1)
        #expect(parsed.value("focusd_stacks_total", ["result": "quarantined"]) == 0)
        #expect(parsed.value("focusd_stack_seconds_sum") == 6)
        #expect(parsed.value("focusd_stack_seconds_count") == 2)
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
