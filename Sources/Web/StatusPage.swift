import Daemon
import Foundation

/// The status page: server-rendered HTML with its CSS inline, no script, nothing fetched from
/// elsewhere. Links point only at this server's `/jobs/<number>/…` routes; every name is escaped.
struct StatusPage {
    /// What the page knows of a finished stack beyond its journal row.
    struct StackFacts {
        /// Slices fused (from the provenance crate), nil when unknown.
        var slices: Int?
        /// Whether the crate file is there to link to.
        var hasCrate: Bool
    }

    var site: StatusSite
    var snapshot: JournalSnapshot
    /// Seconds between automatic reloads (`<meta http-equiv="refresh">`); 0: none.
    var refreshSeconds: Int
    var now: Date
    var host: String
    var facts: [Int64: StackFacts]
    /// Quarantined jobs whose `.error.txt` was found.
    var reasonFiles: Set<Int64>
    /// The journal could not be read: what the page says instead of its sections.
    var journalProblem: String? = nil

    func render() -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(refreshSeconds > 0 ? "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">" : "")
        <title>focusd — \(HTML.escape(host))</title>
        <style>\(Self.css)</style></head><body>
        <header><h1>focusd status</h1><p>\(HTML.escape(host)) · \(HTML.escape(Self.format(now))) \
        \(HTML.escape(TimeZone.current.abbreviation() ?? "")) · configuration \(HTML.escape(site.configurationFile))\
        \(refreshSeconds > 0 ? " · reloads every \(refreshSeconds) s" : "")</p></header>

        """
        if let journalProblem {
            html += "<section><h2>Journal</h2><p class=\"problem\">\(HTML.escape(journalProblem))</p></section></body></html>\n"
            return html
        }
        html += queueSection()
        html += todaySection()
        html += recentSection()
        html += failureSection()
        html += "<footer>focusd web · read-only · journal \(HTML.escape(site.journalPath))</footer>\n</body></html>\n"
        return html
    }

    // MARK: Sections

    private func queueSection() -> String {
        let c = snapshot.counts
        var html = "<section id=\"queue\"><h2>Queue</h2><p class=\"counts\">"
        html += "<span>queued <b>\(c[.queued] ?? 0)</b></span> <span>running <b>\(c[.running] ?? 0)</b></span> "
        html += "<span>done <b>\(c[.done] ?? 0)</b></span> <span>failed <b>\(c[.failed] ?? 0)</b></span> "
        html += "<span>quarantined <b>\(c[.quarantined] ?? 0)</b></span></p>\n"
        let jobs = snapshot.running + snapshot.queued
        guard !jobs.isEmpty else { return html + "<p class=\"quiet\">Nothing queued or running.</p></section>\n" }
        html += "<table><thead><tr><th>job</th><th>state</th><th>stack</th><th>drop folder</th><th>profile</th><th>files</th><th>attempt</th><th>since / due</th></tr></thead><tbody>\n"
        let t = now.timeIntervalSince1970
        for job in jobs {
            let when: String
            if job.state == .running {
                when = "running for \(Self.duration(t - (job.startedAt ?? t)))"
            } else if job.nextAttemptAt > t {
                when = "retry in \(Self.duration(job.nextAttemptAt - t))"
            } else {
                when = "waiting \(Self.duration(t - job.detectedAt))"
            }
            html += "<tr class=\"\(job.state.rawValue)\"><td>\(job.id ?? 0)</td><td>\(job.state.rawValue)</td>"
            html += "<td class=\"name\">\(HTML.escape(job.stack))</td><td>\(HTML.escape(job.drop))</td>"
            html += "<td>\(HTML.escape(site.profile(ofDrop: job.drop)))</td><td>\(job.inputs.count)</td>"
            html += "<td>\(job.attempts)</td><td>\(when)</td></tr>\n"
        }
        let more = (c[.queued] ?? 0) - snapshot.queued.count
        if more > 0 { html += "<tr><td colspan=\"8\" class=\"quiet\">… and \(more) more queued</td></tr>\n" }
        return html + "</tbody></table></section>\n"
    }

    /// Per profile, what finished since midnight: done, failed, time per stack, stacks per hour.
    private func todaySection() -> String {
        var byProfile: [String: (drops: [String], day: DropDay)] = [:]
        for day in snapshot.today {
            let profile = site.profile(ofDrop: day.drop)
            var entry = byProfile[profile] ?? ([], DropDay(drop: profile))
            entry.drops.append(day.drop)
            entry.day.done += day.done
            entry.day.failed += day.failed
            entry.day.busySeconds += day.busySeconds
            entry.day.first = [entry.day.first, day.first].compactMap { $0 }.min()
            entry.day.last = [entry.day.last, day.last].compactMap { $0 }.max()
            byProfile[profile] = entry
        }
        var html = "<section id=\"today\"><h2>Today, per profile</h2>\n"
        guard !byProfile.isEmpty else { return html + "<p class=\"quiet\">No stack finished today.</p></section>\n" }
        html += "<table><thead><tr><th>profile</th><th>drop folders</th><th>done</th><th>failed or quarantined</th><th>fusing time per stack</th><th>stacks per hour</th></tr></thead><tbody>\n"
        for (profile, entry) in byProfile.sorted(by: { $0.key < $1.key }) {
            let day = entry.day
            let perStack = day.done > 0 ? Self.duration(day.busySeconds / Double(day.done)) : "–"
            var rate = "–"
            if day.done > 0, let first = day.first, let last = day.last {
                // Over the span from the first start to the last finish, at least a minute.
                rate = String(format: "%.1f", Double(day.done) / max(60, last - first) * 3600)
            }
            html += "<tr><td>\(HTML.escape(profile))</td><td>\(entry.drops.sorted().map(HTML.escape).joined(separator: ", "))</td>"
            html += "<td>\(day.done)</td><td>\(day.failed)</td><td>\(perStack)</td><td>\(rate)</td></tr>\n"
        }
        return html + "</tbody></table></section>\n"
    }

    private func recentSection() -> String {
        var html = "<section id=\"recent\"><h2>Recent stacks</h2>\n"
        guard !snapshot.recent.isEmpty else { return html + "<p class=\"quiet\">No stack fused yet.</p></section>\n" }
        html += "<div class=\"stacks\">\n"
        for job in snapshot.recent {
            let id = job.id ?? 0
            let facts = self.facts[id]
            let roles = Set((job.outputs ?? []).map(\.role))
            let name = HTML.escape(job.stack)
            html += "<article class=\"stack\"><h3 class=\"name\" title=\"\(name)\">\(name)</h3>\n<div class=\"pictures\">"
            if roles.contains("fused") {
                html += "<figure><a href=\"/jobs/\(id)/files/fused\"><img src=\"/jobs/\(id)/thumbnails/fused.png\" alt=\"fused image of \(name)\" loading=\"lazy\"></a><figcaption>fused</figcaption></figure>"
            }
            if roles.contains("depth") {
                let high = facts?.slices.map { "\(max(0, $0 - 1))" } ?? "max"
                let low = facts?.slices != nil ? "0" : "min"
                html += "<figure><a href=\"/jobs/\(id)/files/depth\"><img src=\"/jobs/\(id)/thumbnails/depth.png\" alt=\"depth map of \(name)\" loading=\"lazy\"></a>"
                html += "<figcaption><span class=\"bar\"></span><span class=\"ends\"><span>\(low)</span><span>slice</span><span>\(high)</span></span></figcaption></figure>"
            }
            html += "</div>\n<dl>"
            html += "<dt>drop folder</dt><dd>\(HTML.escape(job.drop))</dd>"
            html += "<dt>profile</dt><dd>\(HTML.escape(site.profile(ofDrop: job.drop)))</dd>"
            html += "<dt>slices</dt><dd>\(facts?.slices.map(String.init) ?? "\(job.inputs.count) file\(job.inputs.count == 1 ? "" : "s")")</dd>"
            if let finished = job.finishedAt {
                html += "<dt>finished</dt><dd>\(Self.format(Date(timeIntervalSince1970: finished)))"
                if let started = job.startedAt { html += " (\(Self.duration(finished - started)))" }
                html += "</dd>"
            }
            html += "<dt>job</dt><dd>\(id)\(job.duplicateOf.map { " · duplicate of \($0)" } ?? "")\(job.supersededBy.map { " · replaced by \($0)" } ?? "")</dd>"
            html += "</dl>\n<p class=\"links\">"
            var links: [String] = []
            for role in ["fused", "depth", "confidence"] where roles.contains(role) {
                links.append("<a href=\"/jobs/\(id)/files/\(role)\">\(role)</a>")
            }
            if facts?.hasCrate ?? false { links.append("<a href=\"/jobs/\(id)/crate\">provenance</a>") }
            html += links.joined(separator: " · ") + "</p></article>\n"
        }
        return html + "</div></section>\n"
    }

    private func failureSection() -> String {
        var html = "<section id=\"failures\"><h2>Failures and quarantined stacks</h2>\n"
        guard !snapshot.failures.isEmpty else { return html + "<p class=\"quiet\">None.</p></section>\n" }
        html += "<table><thead><tr><th>finished</th><th>job</th><th>stack</th><th>drop folder</th><th>state</th><th>reason</th><th>what to do</th></tr></thead><tbody>\n"
        for job in snapshot.failures {
            let id = job.id ?? 0
            let drop = site.drops[job.drop]
            var reason = HTML.escape(job.error ?? "(no reason recorded)")
            if reasonFiles.contains(id) { reason += " <a href=\"/jobs/\(id)/reason\">reason file</a>" }
            let todo: String
            if job.state == .quarantined {
                todo = "Fix or replace the files, then move them back into <code>\(HTML.escape(drop?.path ?? job.drop))</code>; "
                    + "they are in <code>\(HTML.escape(drop?.quarantine ?? "the quarantine folder"))</code>."
            } else {
                todo = "After fixing the cause: <code>focusd retry \(id) --config \(HTML.escape(site.configurationFile))</code>"
            }
            html += "<tr class=\"\(job.state.rawValue)\"><td>\(job.finishedAt.map { Self.format(Date(timeIntervalSince1970: $0)) } ?? "–")</td>"
            html += "<td>\(id)</td><td class=\"name\">\(HTML.escape(job.stack))</td><td>\(HTML.escape(job.drop))</td>"
            html += "<td>\(job.state.rawValue)</td><td class=\"reason\">\(reason)</td><td>\(todo)</td></tr>\n"
        }
        return html + "</tbody></table></section>\n"
    }

    // MARK: Formatting

    /// `2026-12-06 18:40:12` in the machine's time zone (`localtime_r`: no shared formatter between requests).
    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// `850 ms`, `12.3 s`, `4 min 3 s`, `2 h 5 min`.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 1 { return "\(Int((s * 1000).rounded())) ms" }
        if s < 60 { return String(format: "%.1f s", s) }
        if s < 3600 { return "\(Int(s) / 60) min \(Int(s) % 60) s" }
        return "\(Int(s) / 3600) h \(Int(s) % 3600 / 60) min"
    }

    /// The colour bar's gradient uses the thumbnails' viridis stops.
    static let css: String = {
        let stops = ThumbnailRenderer.viridis.map { String(format: "#%02x%02x%02x", $0.0, $0.1, $0.2) }.joined(separator: ",")
        return """
        body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 2em;color:#222;background:#fafafa}
        header h1{margin:.6em 0 0;font-size:1.5em}header p{margin:.2em 0 1em;color:#555}
        h2{font-size:1.15em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.4em}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
        th{background:#eee;font-weight:600}.name{word-break:break-all}.reason{max-width:40em}
        tr.running td{background:#eef6ff}tr.quarantined td:nth-child(5){color:#a40}tr.failed td:nth-child(5){color:#b00}
        .counts span{margin-right:1.2em}.quiet{color:#777}.problem{color:#b00}
        .stacks{display:grid;grid-template-columns:repeat(auto-fill,minmax(370px,1fr));gap:12px}
        .stack{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
        .stack h3{margin:0 0 6px;font-size:1em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .pictures{display:flex;gap:8px}figure{margin:0;width:176px}
        figure img{width:176px;height:176px;object-fit:contain;background:#111;display:block}
        figcaption{font-size:.85em;color:#555;text-align:center}
        .bar{display:block;height:10px;margin-top:3px;background:linear-gradient(to right,\(stops))}
        .ends{display:flex;justify-content:space-between}
        dl{display:grid;grid-template-columns:auto 1fr;gap:0 .8em;margin:6px 0}dt{color:#666}dd{margin:0;word-break:break-all}
        .links{margin:0}code{background:#f0f0f0;padding:0 .2em;word-break:break-all}
        footer{margin-top:2em;color:#888;font-size:.85em}
        """
    }()
}
