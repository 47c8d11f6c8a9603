import Foundation
import Pipeline
import SystemCalls

/// Counters and gauges for Prometheus, written in node_exporter's textfile-collector format.
///
/// The daemon (`metrics_file:` in its configuration) and `focusd reprocess --metrics-file` record
/// each finished stack here and rewrite the file atomically (temporary file, fsync, rename) after
/// every stack and at least every 30 s. Point node_exporter's `--collector.textfile.directory` at the
/// file's folder; the file name must end in `.prom`.
///
/// Every series carries `instance` (the daemon's `instance:`, or `reprocess`) and, for a sharded
/// `focusd reprocess`, `shard="i/n"`: two daemons (`focusd@a`, `focusd@b`) or two Slurm tasks on one
/// node export distinct series, which node_exporter can gather side by side (it refuses a series
/// that two files both export). Series:
///
/// - `focusd_up` 1 while running, 0 after a clean exit; `focusd_start_time_seconds` (Unix time);
/// - `focusd_stacks_total{result="done|duplicate|failed|quarantined"}` (counter; `duplicate`: identical content, profile and model as a finished stack, outputs linked, not fused);
/// - `focusd_duplicates_total`, `focusd_retries_total` (a transient failure queued for another
///   attempt), `focusd_quarantines_total` (counters to alert on without a label selector);
/// - `focusd_stack_seconds` (histogram, `stackSecondsBuckets`) wall seconds per fused stack;
/// - `focusd_pair_seconds` (summary) fusion seconds per pairwise step (fuse stage ÷ (slices − 1));
/// - `focusd_queue_depth` stacks waiting;
/// - `focusd_model_info{name, sha256, profile} 1` for each profile in use (`name="none"` without a model).
///
/// Thread-safe: workers record, a timer writes.
public final class FocusdMetrics: @unchecked Sendable {
    /// What produces the metrics (a label on `focusd_up`): `serve` or `reprocess`.
    public let mode: String
    /// The `instance` label on every series.
    public let instance: String
    /// The `shard` label on every series (`i/n`), or nil for a process that is not one shard of many.
    public let shard: String?
    private let lock = NSLock()
    private let startTime: Double
    private var results: [String: Int] = ["done": 0, "duplicate": 0, "failed": 0, "quarantined": 0]
    private var retries = 0
    /// Upper bounds (seconds) of the `focusd_stack_seconds` buckets: a stack normally takes seconds to
    /// a few minutes, so 1–60 s resolve the usual case, and 5, 10, 30 and 60 minutes are where a
    /// facility alerts ("the 95th percentile above 5 minutes", "any stack over half an hour").
    public static let stackSecondsBuckets: [Double] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600]
    /// Observations at or below each bound of `stackSecondsBuckets` (not cumulative), then above all.
    private var stackBucketCounts = [Int](repeating: 0, count: FocusdMetrics.stackSecondsBuckets.count + 1)
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

    public init(mode: String, instance: String = "focusd", shard: String? = nil, startTime: Double = Date().timeIntervalSince1970) {
        self.mode = mode
        self.instance = instance
        self.shard = shard
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
                let bucket = Self.stackSecondsBuckets.firstIndex { seconds <= $0 } ?? Self.stackSecondsBuckets.count
                stackBucketCounts[bucket] += 1
            }
            if let fuseSeconds, pairs > 0 {
                pairSeconds.sum += fuseSeconds
                pairSeconds.count += pairs
            }
        }
    }

    /// Counts a transient failure queued for another attempt.
    public func recordRetry() { locked { retries += 1 } }

    public func setQueueDepth(_ depth: Int) { locked { queueDepth = max(0, depth) } }

    public func setModels(_ list: [ModelInfo]) { locked { models = list } }

    /// Marks the process as stopped (`focusd_up 0`) for the last write.
    public func markStopped() { locked { up = false } }

    /// The metrics in Prometheus text exposition format (version 0.0.4).
    public func render() -> String {
        locked {
            var out = ""
            var constant = [("instance", instance)]
            if let shard { constant.append(("shard", shard)) }
            /// `name{labels}` with the instance (and shard) labels first.
            func series(_ name: String, _ labels: [(String, String)] = []) -> String {
                let all = (constant + labels).map { "\($0.0)=\"\(Self.escape($0.1))\"" }
                return "\(name){\(all.joined(separator: ","))}"
            }
            func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
                for (series, value) in samples { out += "\(series) \(Self.number(value))\n" }
            }
            family("focusd_up", "gauge", "1 while focusd runs (rewritten at least every 30 s), 0 after a clean exit.",
                   [(series("focusd_up", [("mode", mode)]), up ? 1 : 0)])
            family("focusd_start_time_seconds", "gauge", "Unix time at which this focusd process started.",
                   [(series("focusd_start_time_seconds"), startTime)])
            family("focusd_stacks_total", "counter", "Stacks finished since start, by result.",
                   results.keys.sorted().map { (series("focusd_stacks_total", [("result", $0)]), Double(results[$0]!)) })
            family("focusd_duplicates_total", "counter", "Stacks identical to a finished one (content, profile, model): outputs linked, not fused.",
                   [(series("focusd_duplicates_total"), Double(results["duplicate"] ?? 0))])
            family("focusd_retries_total", "counter", "Transient failures (disk full, I/O error, memory) queued for another attempt.",
                   [(series("focusd_retries_total"), Double(retries))])
            family("focusd_quarantines_total", "counter", "Stacks moved to the quarantine folder as bad input.",
                   [(series("focusd_quarantines_total"), Double(results["quarantined"] ?? 0))])
            var cumulative = 0
            var buckets: [(String, Double)] = []
            for (bound, count) in zip(Self.stackSecondsBuckets, stackBucketCounts) {
                cumulative += count
                buckets.append((series("focusd_stack_seconds_bucket", [("le", Self.number(bound))]), Double(cumulative)))
            }
            buckets.append((series("focusd_stack_seconds_bucket", [("le", "+Inf")]), Double(stackSeconds.count)))
            family("focusd_stack_seconds", "histogram", "Wall seconds per fused stack (load, align, fuse, write).",
                   buckets + [(series("focusd_stack_seconds_sum"), stackSeconds.sum),
                              (series("focusd_stack_seconds_count"), Double(stackSeconds.count))])
            family("focusd_pair_seconds", "summary", "Fusion seconds per pairwise step (fuse stage divided by slices minus one).",
                   [(series("focusd_pair_seconds_sum"), pairSeconds.sum), (series("focusd_pair_seconds_count"), Double(pairSeconds.count))])
            family("focusd_queue_depth", "gauge", "Stacks waiting to be fused.", [(series("focusd_queue_depth"), Double(queueDepth))])
            family("focusd_model_info", "gauge", "The model and profile in use (value always 1; name=\"none\" for engines without a model).",
                   models.map { (series("focusd_model_info", [("name", $0.name), ("profile", $0.profile), ("sha256", $0.sha256)]), 1) })
            return out
        }
    }

    /// Writes `render()` to `path` atomically (hidden temporary file in the same folder, fsync, rename).
    /// - Throws: `SystemCallError` naming the path.
    public func write(to path: String) throws(SystemCallError) {
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
