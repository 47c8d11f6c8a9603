import Daemon
import Foundation
import Imaging
import Logging

/// What `focusd web` serves, independent of HTTP: the page, thumbnails and the files of a job.
/// Reads only; the journal is opened read-only (and opened again on the next request while the
/// daemon has not created it yet).
public final class StatusService: @unchecked Sendable {
    /// Options of the page.
    public struct Options: Sendable {
        /// Finished stacks listed (newest first).
        public var recent: Int = 50
        /// Failed and quarantined jobs listed (newest first).
        public var failures: Int = 20
        /// Seconds between automatic reloads of the page; 0: none.
        public var refreshSeconds: Int = 5
        /// Longer side of thumbnails in pixels.
        public var thumbnailSide: Int = 320
        public init() {}
    }

    public let site: StatusSite
    public let options: Options
    let files: JobFiles
    let thumbnails: ThumbnailCache
    private let crateFacts = CrateFacts()
    private let logger: Logger
    private let host: String
    private let lock = NSLock()
    private var openJournal: StatusJournal?

    public init(site: StatusSite, options: Options = Options(), logger: Logger) {
        self.site = site
        self.options = options
        self.logger = logger
        files = JobFiles(site: site)
        thumbnails = ThumbnailCache(directory: site.cacheDirectory, maxSide: options.thumbnailSide, logger: logger)
        host = ProcessInfo.processInfo.hostName
    }

    /// Closes the journal's connections.
    public func close() {
        lock.withLock {
            openJournal?.close()
            openJournal = nil
        }
    }

    private func journal() throws(JournalReadError) -> StatusJournal {
        lock.lock()
        defer { lock.unlock() }
        if let openJournal { return openJournal }
        let opened = try StatusJournal(path: site.journalPath)
        openJournal = opened
        return opened
    }

    /// The status page's HTML at `now`.
    public func page(now: Date = Date()) -> String {
        let midnight = Calendar.current.startOfDay(for: now).timeIntervalSince1970
        var page = StatusPage(site: site, snapshot: JournalSnapshot(counts: [:], running: [], queued: [], recent: [], failures: [], today: []),
                              refreshSeconds: options.refreshSeconds, now: now, host: host, facts: [:], reasonFiles: [])
        do {
            page.snapshot = try journal().snapshot(recent: options.recent, failures: options.failures, since: midnight)
        } catch {
            logger.warning("cannot read the journal", metadata: ["error": "\(error)"])
            page.journalProblem = "\(error)"
            return page.render()
        }
        for job in page.snapshot.recent {
            guard let id = job.id else { continue }
            let crate = crateFacts.facts(of: job, files: files)
            page.facts[id] = StatusPage.StackFacts(slices: crate?.slices, hasCrate: crate != nil)
        }
        for job in page.snapshot.failures where job.state == .quarantined {
            if let id = job.id, files.quarantineReason(of: job) != nil { page.reasonFiles.insert(id) }
        }
        return page.render()
    }

    /// Why the journal cannot be read now, or nil when it can.
    public func journalProblem() -> String? {
        do {
            _ = try journal().job(id: 0)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A job by number; nil when there is none (or the journal cannot be read).
    func job(_ id: Int64) -> JobRecord? {
        do { return try journal().job(id: id) } catch {
            logger.warning("cannot read the journal", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The thumbnail PNG of an output (`fused` or `depth`) and its cache key; nil when the job or
    /// output is unknown, not in the output folder, or cannot be decoded.
    func thumbnail(job id: Int64, role: String) -> (png: [UInt8], key: String)? {
        guard let job = job(id), let file = files.output(role, of: job) else { return nil }
        var style = ThumbnailStyle.image
        if role == "depth" {
            // Colours span the slice indices 0…N−1 when the crate says how many slices were fused.
            let slices = crateFacts.facts(of: job, files: files)?.slices
            style = .depth(low: slices.map { _ in 0 }, high: slices.map { Float(max(0, $0 - 1)) })
        }
        do {
            let png = try thumbnails.png(for: file, style: style)
            return (png, (thumbnails.cachePath(for: file, style: style) as NSString).lastPathComponent)
        } catch {
            logger.warning("cannot make a thumbnail", metadata: ["job": "\(id)", "role": "\(role)", "error": "\(error)"])
            return nil
        }
    }
}
