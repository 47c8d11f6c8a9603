import Foundation
import Logging

/// The daemon's metrics file: counts each finished job and rewrites the file after it, and (through
/// `writeIfDue`) at least every `interval` seconds.
public final class MetricsSink: @unchecked Sendable {
    public let metrics: FocusdMetrics
    public let path: String
    public let interval: Double
    let logger: Logger
    private let lock = NSLock()
    private var lastWrite = -Double.infinity
    private var warned = false

    public init(metrics: FocusdMetrics, path: String, interval: Double = 30, logger: Logger) {
        self.metrics = metrics
        self.path = path
        self.interval = interval
        self.logger = logger
    }

    /// Counts `job` by the state the journal now holds for it (done, failed, quarantined; a job
    /// waiting for a retry counts as a retry, not yet as a stack), then writes the file.
    func record(job: JobRecord, report: ProcessReport?, journal: Journal) {
        if let id = job.id, let current = try? journal.job(id: id), current.state == .queued, current.error != nil {
            // A transient failure queued for another attempt (a job re-queued at shutdown has no error).
            metrics.recordRetry()
        }
        if let id = job.id, let current = try? journal.job(id: id), current.state.isFinal {
            let seconds = current.finishedAt.flatMap { end in current.startedAt.map { end - $0 } }
            // A duplicate (identical content and profile: linked, not fused) is counted apart from fused stacks.
            let duplicate = current.state == .done && report == nil
            metrics.recordStack(result: duplicate ? "duplicate" : current.state.rawValue,
                                seconds: current.state == .done && !duplicate ? seconds : nil,
                                fuseSeconds: report?.stageSeconds["fuse"],
                                pairs: report.map { max(0, $0.sliceCount - 1) * max(1, $0.outputs.filter { $0.role == "fused" }.count) } ?? 0)
        }
        write(journal: journal)
    }

    /// Writes when `interval` seconds have passed since the last write.
    func writeIfDue(journal: Journal) {
        lock.lock()
        let due = Date().timeIntervalSince1970 - lastWrite >= interval
        lock.unlock()
        if due { write(journal: journal) }
    }

    /// Updates the queue depth from the journal and writes the file now.
    func write(journal: Journal?) {
        if let journal, let counts = try? journal.counts() {
            metrics.setQueueDepth((counts[.queued] ?? 0) + (counts[.detected] ?? 0))
        }
        lock.lock()
        defer { lock.unlock() }
        lastWrite = Date().timeIntervalSince1970
        do {
            try metrics.write(to: path)
            warned = false
        } catch {
            if !warned {
                logger.warning("cannot write the metrics file", metadata: ["path": "\(path)", "error": "\(error)"])
                warned = true
            }
        }
    }
}

extension FocusdMetrics.ModelInfo {
    /// The model series of a drop folder: its profile's name (`defaults`, `inline`, or the file name
    /// without `.yaml`), the model file's name (`none` without a model) and its SHA-256.
    static func of(drop: DropFolderConfiguration, processor: any StackProcessor) -> FocusdMetrics.ModelInfo {
        let profile: String = switch drop.profile {
        case .defaults: "defaults"
        case .inline: "inline"
        case .file(let path): ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        }
        let processor = (processor as? OutputModeProcessor)?.inner ?? processor
        let modelName = (processor as? PipelineProcessor).flatMap { $0.settings.engine == .fusiondiff ? $0.settings.model : nil }
            .map { ($0 as NSString).lastPathComponent } ?? "none"
        let sha = (try? processor.identity())?.modelSHA256 ?? ""
        return FocusdMetrics.ModelInfo(name: modelName, sha256: sha, profile: profile)
    }
}
