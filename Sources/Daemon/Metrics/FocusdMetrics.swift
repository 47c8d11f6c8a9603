import Foundation

/// Counters and gauges for Prometheus, written in node_exporter's textfile-collector format.
///
/// The daemon (`metrics_file:` in its configuration) and `focusd reprocess --metrics-file` record
/// each finished stack here and rewrite the file atomically (temporary file, fsync, rename) after
/// every stack and at least every 30 s. Point node_exporter's `--collector.textfile.directory` at the
/// file's folder; the file name must end in `.prom`. Series:
///
/// - `focusd_up` 1 while running, 0 after a clean exit; `focusd_start_time_seconds` (Unix time);
/// - `focusd_stacks_total{result="done|duplicate|failed|quarantined"}` (counter; `duplicate`: identical content, profile and model as a finished stack, outputs linked, not fused);
/// - `focusd_stack_seconds` (summary: `_sum`, `_count`) wall seconds per fused stack;
/// - `focusd_pair_seconds` (summary) fusion seconds per pairwise step (fuse stage ÷ (slices − 1));
/// - `focusd_queue_depth` stacks waiting;
/// - `focusd_model_info{name, sha256, profile} 1` for each profile in use (`name="none"` without a model).
///
/// Thread-safe: workers record, a timer writes.
public final class FocusdMetrics: @unchecked Sendable {
    /// What produces the metrics (a label on `focusd_up`): `serve` or `reprocess`.
    public let mode: String
    private let lock = NSLock()
    private let startTime: Double
    private var results: [String: Int] = ["done": 0, "duplicate": 0, "failed": 0, "quarantined": 0]
    private var stackSeconds = (sum: 0.0, count: 0)
    private var pairSeconds = (sum: 0.0, count: 0)
    private var queueDepth = 0
    private var models: [ModelInfo] = []
    private var up = true

    /// One `focusd_model_info` series.
    public struct ModelInfo: Sendable, Equatable {
        public var name: String
        public var sha256: String
        public var profile: String
        public init(name: String, sha256: String, profile: String) {
            self.name = name
            self.sha256 = sha256
            self.profile = profile
        }
    }

    public init(mode: String, startTime: Double = Date().timeIntervalSince1970) {
        self.mode = mode
        self.startTime = startTime
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Counts a finished stack. `result` is `done`, `failed` or `quarantined`; timings only for `done`.
    /// - Parameters:
    ///   - seconds: wall seconds the stack took.
    ///   - fuseSeconds: seconds in the fusion stage, spread over `pairs` pairwise steps.
    public func recordStack(result: String, seconds: Double? = nil, fuseSeconds: Double? = nil, pairs: Int = 0) {
        locked {
            results[result, default: 0] += 1
            if let seconds {
                stackSeconds.sum += seconds
                stackSeconds.count += 1
            }
            if let fuseSeconds, pairs > 0 {
                pairSeconds.sum += fuseSeconds
                pairSeconds.count += pairs
            }
        }
    }

    public func setQueueDepth(_ depth: Int) { locked { queueDepth = max(0, depth) } }

    public func setModels(_ list: [ModelInfo]) { locked { models = list } }

    /// Marks the process as stopped (`focusd_up 0`) for the last write.
    public func markStopped() { locked { up = false } }

    /// The metrics in Prometheus text exposition format (version 0.0.4).
    public func render() -> String {
        locked {
            var out = ""
            func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
                for (series, value) in samples { out += "\(series) \(Self.number(value))\n" }
            }
            family("focusd_up", "gauge", "1 while focusd runs (rewritten at least every 30 s), 0 after a clean exit.",
                   [("focusd_up{mode=\"\(Self.escape(mode))\"}", up ? 1 : 0)])
            family("focusd_start_time_seconds", "gauge", "Unix time at which this focusd process started.",
                   [("focusd_start_time_seconds", startTime)])
            family("focusd_stacks_total", "counter", "Stacks finished since start, by result.",
                   results.keys.sorted().map { ("focusd_stacks_total{result=\"\(Self.escape($0))\"}", Double(results[$0]!)) })
            family("focusd_stack_seconds", "summary", "Wall seconds per fused stack (load, align, fuse, write).",
                   [("focusd_stack_seconds_sum", stackSeconds.sum), ("focusd_stack_seconds_count", Double(stackSeconds.count))])
            family("focusd_pair_seconds", "summary", "Fusion seconds per pairwise step (fuse stage divided by slices minus one).",
                   [("focusd_pair_seconds_sum", pairSeconds.sum), ("focusd_pair_seconds_count", Double(pairSeconds.count))])
            family("focusd_queue_depth", "gauge", "Stacks waiting to be fused.", [("focusd_queue_depth", Double(queueDepth))])
            family("focusd_model_info", "gauge", "The model and profile in use (value always 1; name=\"none\" for engines without a model).",
                   models.map { ("focusd_model_info{name=\"\(Self.escape($0.name))\",profile=\"\(Self.escape($0.profile))\",sha256=\"\(Self.escape($0.sha256))\"}", 1) })
            return out
        }
    }

    /// Writes `render()` to `path` atomically (hidden temporary file in the same folder, fsync, rename).
    /// - Throws: `FileOperationError` naming the path.
    public func write(to path: String) throws(FileOperationError) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileOperations.createDirectory(folder) }
        try FileOperations.writeAtomically(Data(render().utf8), to: path)
    }

    /// A label value escaped as the exposition format requires (backslash, double quote, newline).
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6f", value)
    }
}
