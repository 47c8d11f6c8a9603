import Foundation
import Logging
import Pipeline

/// The daemon's configuration file (`/etc/focusd/focusd.yaml` by default).
///
/// ```yaml
/// state_directory: /var/lib/focusd       # journal (SQLite) and default quarantine
/// workers: 1                             # stacks fused at the same time
/// memory_limit_mib: 4096                 # optional: refuse stacks whose fusion would need more (below MemoryMax and RAM)
/// log_level: info                        # trace, debug, info, notice, warning, error, critical
/// shutdown_timeout_seconds: 60           # on SIGTERM: wait this long for running jobs, then re-queue them
/// poll_interval_seconds: 0.25            # how often pending files are re-examined
/// metrics_file: /var/lib/node_exporter/textfile/focusd.prom   # optional: Prometheus textfile metrics
/// instance: scope1                       # optional: the metrics' instance label; default: this file's name without .yaml
/// output_mode: '0644'                    # permissions of fused images, maps and sidecars (octal; default 0644)
/// drop_folders:
///   - path: /data/drop/scope1            # watched recursively
///     name: scope1                       # optional; defaults to the folder's name
///     profile: default                   # a profile name (as `focusd profiles list`), a file, or an inline mapping
///     output: /data/fused/scope1
///     archive: /data/archive/scope1      # optional: inputs are moved here after success
///     quarantine: /data/quarantine/scope1  # optional; default <state_directory>/quarantine/<name>
///     detection: { stable_seconds: 2, marker: COMPLETE, slice_count: 20, quiet_seconds: 60,
///                  pattern: '(?<stack>.+)_z(?<z>\d+)\.tif', extensions: [tif, tiff, png, jpg, jpeg] }
///     outputs: { fused: '{stack}_fused.tif', depth: '{stack}_depth.tif', confidence: null,
///                sidecar: '{stack}-ro-crate-metadata.json' }
///     retry: { max_attempts: 4, backoff_seconds: 10, max_backoff_seconds: 600 }
/// ```
/// Relative paths are relative to the configuration file's folder.
public struct DaemonConfiguration: Sendable, Equatable {
    public var stateDirectory: String
    public var workers: Int = 1
    /// A memory limit for the daemon in MiB, below the cgroup's (`MemoryMax=`) and the machine's; nil: those alone.
    public var memoryLimitMiB: Int? = nil
    public var logLevel: Logger.Level = .info
    public var shutdownTimeoutSeconds: Double = 60
    public var pollIntervalSeconds: Double = 0.25
    /// Prometheus metrics in node_exporter's textfile format (`FocusdMetrics`), rewritten after each
    /// job and at least every 30 s; nil (the default) writes none.
    /// When the file name does not name the instance, `-<instance>` is added before `.prom`
    /// (`MetricsFileName`), so two daemons given one `metrics_file` still write two files.
    public var metricsFile: String? = nil
    /// The `instance` label on every metrics series: `instance:`, else the configuration file's name
    /// without its extension (`focusd@scope1` reads scope1.yaml: `scope1`).
    public var instance: String = "focusd"
    /// Permission bits of every output file (fused images, maps, sidecars), set before each is
    /// renamed into place; independent of the process's umask. Default 0644: readable by analysts
    /// outside the service's group.
    public var outputMode: UInt16 = 0o644
    /// The license every provenance crate declares (`license:` URI and `license_name:`); CC BY 4.0 by default.
    public var license: CrateLicense = .default
    /// The facility running focusd (`organization:` name, `organization_url:`): every crate's agent,
    /// author and publisher; nil names none (the host is the agent).
    public var organization: CrateOrganization? = nil
    public var dropFolders: [DropFolderConfiguration]
    /// Where the configuration was read from (for messages).
    public var sourceFile: String

    public init(stateDirectory: String, dropFolders: [DropFolderConfiguration], sourceFile: String = "<memory>") {
        self.stateDirectory = stateDirectory
        self.dropFolders = dropFolders
        self.sourceFile = sourceFile
    }

    /// The journal database inside the state directory.
    public var journalPath: String { (stateDirectory as NSString).appendingPathComponent("journal.sqlite") }
}

/// One watched drop folder and what to do with the stacks that arrive in it.
public struct DropFolderConfiguration: Sendable, Equatable {
    /// A short name for logs, the journal and default folder names.
    public var name: String
    public var path: String
    public var profile: ProfileReference
    public var output: String
    public var archive: String?
    public var quarantine: String
    public var detection: DetectionRules
    public var outputs: OutputPatterns
    public var retry: RetryPolicy

    public init(name: String, path: String, profile: ProfileReference = .defaults, output: String,
                archive: String? = nil, quarantine: String, detection: DetectionRules = DetectionRules(),
                outputs: OutputPatterns = OutputPatterns(), retry: RetryPolicy = RetryPolicy()) {
        self.name = name
        self.path = path
        self.profile = profile
        self.output = output
        self.archive = archive
        self.quarantine = quarantine
        self.detection = detection
        self.outputs = outputs
        self.retry = retry
    }
}

/// Output file names; `{stack}` is replaced by the stack's name. `nil` turns an optional output off.
public struct OutputPatterns: Sendable, Equatable, Codable {
    public var fused: String = "{stack}_fused.tif"
    public var depth: String? = "{stack}_depth.tif"
    public var confidence: String? = nil
    /// The provenance sidecar: an RO-Crate detached crate, named as RO-Crate 1.2 names detached crates.
    public var sidecar: String = "{stack}-ro-crate-metadata.json"
    /// The sidecar name of releases before RO-Crate sidecars: `focusd reprocess` still reads it for
    /// its up-to-date check when a stack has no sidecar under `sidecar` (kept for one release).
    public static let legacySidecar = "{stack}.prov.json"
    public init() {}

    /// `pattern` with `{stack}` replaced.
    public static func resolve(_ pattern: String, stack: String) -> String {
        pattern.replacingOccurrences(of: "{stack}", with: stack)
    }
}

/// How stacks are recognised in a drop folder and when they count as complete.
///
/// - A file directly in the drop folder whose name matches `pattern` is a loose slice, grouped by
///   the pattern's `stack` capture and ordered by its `z` capture; the group is complete at
///   `sliceCount` slices or after `quietSeconds` without change.
/// - Any other image file directly in the drop folder is a (multi-page) stack file, complete when it was
///   closed after writing (or moved in) and is stable.
/// - A folder directly in the drop folder is a stack of slices (its image files in natural name order),
///   complete when `marker` appears in it, or at `sliceCount` slices, or after `quietSeconds` without change.
/// In every case each file's size and mtime must have been stable for `stableSeconds`.
public struct DetectionRules: Sendable, Equatable {
    public var stableSeconds: Double = 2
    public var marker: String? = "COMPLETE"
    public var sliceCount: Int? = nil
    public var quietSeconds: Double? = 60
    public var pattern: String? = nil
    public var extensions: [String] = ["tif", "tiff", "png", "jpg", "jpeg"]
    public init() {}

    /// What is wrong with a loose-file `pattern` (nil when it is usable): it must compile and have
    /// the named captures `stack` and `z`. One check for the daemon's configuration and `reprocess --pattern`.
    public static func problem(withPattern pattern: String) -> String? {
        do { _ = try NSRegularExpression(pattern: pattern) } catch {
            return "not a valid regular expression: \(error.localizedDescription)"
        }
        guard pattern.contains("(?<stack>"), pattern.contains("(?<z>") else {
            return "needs the named captures (?<stack>…) and (?<z>…)"
        }
        return nil
    }
}

/// Retries of transient failures: attempt n (1-based) that failed waits
/// `min(backoffSeconds · 2^(n−1), maxBackoffSeconds)` before the next; after `maxAttempts` the job fails.
public struct RetryPolicy: Sendable, Equatable, Codable {
    public var maxAttempts: Int = 4
    public var backoffSeconds: Double = 10
    public var maxBackoffSeconds: Double = 600
    public init(maxAttempts: Int = 4, backoffSeconds: Double = 10, maxBackoffSeconds: Double = 600) {
        self.maxAttempts = maxAttempts
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    /// Seconds to wait after the `attempt`-th failed attempt (1-based).
    public func delay(afterAttempt attempt: Int) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 40)))
        return min(backoffSeconds * pow(2, exponent), maxBackoffSeconds)
    }

    /// Whether another attempt is allowed after `attempts` attempts.
    public func allowsRetry(after attempts: Int) -> Bool { attempts < maxAttempts }
}
