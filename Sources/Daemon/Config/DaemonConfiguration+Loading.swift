import Foundation
import Logging
import Pipeline
import Yams

extension DaemonConfiguration {
    /// The configuration file used when `--config` is not given.
    public static let defaultPath = "/etc/focusd/focusd.yaml"

    /// Reads and validates a configuration file.
    /// - Throws: `ConfigurationError` naming the file, key and line of the first problem.
    public static func load(path: String) throws(ConfigurationError) -> DaemonConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, key: "", line: nil,
                                     message: "cannot read the configuration file (\(error.localizedDescription)); pass an existing file with --config")
        }
        let base = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        return try parse(text, file: path, baseDirectory: base.isEmpty ? FileManager.default.currentDirectoryPath : base)
    }

    /// Parses configuration text; relative paths are resolved against `baseDirectory`, profile names
    /// (`profile: default`) through `profiles`, as `--profile` of the commands.
    public static func parse(_ text: String, file: String = "<string>", baseDirectory: String,
                             profiles: ProfileSearchPath = .standard()) throws(ConfigurationError) -> DaemonConfiguration {
        let reader = YAMLReader(file: file)
        let root = try reader.root(text)
        func absolute(_ p: String) -> String {
            let expanded = (p as NSString).expandingTildeInPath
            let full = expanded.hasPrefix("/") ? expanded : (baseDirectory as NSString).appendingPathComponent(expanded)
            return (full as NSString).standardizingPath
        }

        let state = absolute(try root.requiredString("state_directory"))
        var config = DaemonConfiguration(stateDirectory: state, dropFolders: [], sourceFile: file)
        if let w = try root.int("workers", in: 1...64) { config.workers = w }
        if let m = try root.int("memory_limit_mib", in: 64...(1 << 30)) { config.memoryLimitMiB = m }
        if let level = try root.string("log_level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw root.invalid("log_level", "'\(level)' is not a log level; use trace, debug, info, notice, warning, error or critical")
            }
            config.logLevel = parsed
        }
        if let t = try root.double("shutdown_timeout_seconds", in: 0...86_400) { config.shutdownTimeoutSeconds = t }
        if let p = try root.double("poll_interval_seconds", in: 0.01...60) { config.pollIntervalSeconds = p }
        if let m = try root.string("metrics_file") {
            guard !m.isEmpty, !m.hasSuffix("/") else { throw root.invalid("metrics_file", "must be a file path, e.g. /var/lib/node_exporter/textfile/focusd.prom") }
            guard m.hasSuffix(".prom") else { throw root.invalid("metrics_file", "'\(m)' must end in .prom (node_exporter's textfile collector reads only *.prom)") }
            config.metricsFile = absolute(m)
        }
        let fileName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        config.instance = MetricsFileName.isInstanceName(fileName) ? fileName : "focusd"
        if let instance = try root.string("instance") {
            guard MetricsFileName.isInstanceName(instance) else {
                throw root.invalid("instance", "'\(instance)' must be 1–64 letters, digits, '.', '_', '-' or '@' (it names the metrics file)")
            }
            config.instance = instance
        }
        config.metricsFile = config.metricsFile.map { MetricsFileName.resolve($0, instance: config.instance) }
        if let text = try root.string("output_mode") {
            guard let mode = OutputMode.parse(text) else {
                throw root.invalid("output_mode", "'\(text)' is not a file mode; give octal permission bits with owner read and write, e.g. '0644' (everyone reads) or '0640' (the group reads)")
            }
            config.outputMode = mode
        }
        let licenseName = try root.string("license_name")
        if let uri = try root.string("license") {
            guard let license = CrateLicense(uri: uri, name: licenseName) else {
                throw root.invalid("license", "'\(uri)' is not a license URI; give its address, e.g. https://creativecommons.org/publicdomain/zero/1.0/ or https://spdx.org/licenses/CC-BY-4.0")
            }
            config.license = license
        } else if licenseName != nil {
            throw root.invalid("license_name", "names a license but 'license:' (its URI) is missing; give both")
        }
        let organizationURL = try root.string("organization_url")
        if let name = try root.string("organization") {
            guard let organization = CrateOrganization(checkedName: name, url: organizationURL) else {
                throw root.invalid(organizationURL.map { CrateOrganization.isWebAddress($0) } == false ? "organization_url" : "organization",
                                   "give the facility's name (not empty) and, optionally, its web address (https://…)")
            }
            config.organization = organization
        } else if organizationURL != nil {
            throw root.invalid("organization_url", "gives a web address but 'organization:' (the facility's name) is missing; give both")
        }

        guard let folders = try root.list("drop_folders"), !folders.isEmpty else {
            throw ConfigurationError(file: file, key: "drop_folders", line: root.line,
                                     message: "is required: list at least one drop folder ('- path: …, output: …')")
        }
        for (node, key) in folders {
            let m = try reader.mapping(node, key: key)
            let path = absolute(try m.requiredString("path"))
            let name = try m.string("name") ?? (path as NSString).lastPathComponent
            guard !name.isEmpty, !name.contains("/") else { throw m.invalid("name", "must be a plain name without '/'") }
            let output = absolute(try m.requiredString("output"))
            let archive = try m.string("archive").map(absolute)
            let quarantine = try m.string("quarantine").map(absolute)
                ?? ((state as NSString).appendingPathComponent("quarantine") as NSString).appendingPathComponent(name)

            var profile = ProfileReference.defaults
            if let pnode = m.node("profile") {
                if let scalar = pnode.scalar {
                    do {
                        profile = .file(try profiles.locate(scalar.string, relativeTo: baseDirectory))
                    } catch {
                        throw m.invalid("profile", error.description)
                    }
                } else if pnode.mapping != nil {
                    let yaml = (try? Yams.serialize(node: pnode)) ?? ""
                    profile = .inline(yaml: yaml, line: pnode.mark?.line)
                } else {
                    throw m.invalid("profile", "expected a profile name (default, fluorescence-16bit, …), a profile file path or a mapping of settings")
                }
            }

            var detection = DetectionRules()
            if let d = try m.mapping("detection") {
                if let v = try d.double("stable_seconds", in: 0...3600) { detection.stableSeconds = v }
                if d.node("marker") == nil, contains(d, "marker") { detection.marker = nil }
                else if let v = try d.string("marker") {
                    guard !v.contains("/") else { throw d.invalid("marker", "must be a file name, not a path") }
                    detection.marker = v
                }
                if let v = try d.int("slice_count", in: 1...100_000) { detection.sliceCount = v }
                if d.node("quiet_seconds") == nil, contains(d, "quiet_seconds") { detection.quietSeconds = nil }
                else if let v = try d.double("quiet_seconds", in: 0...604_800) { detection.quietSeconds = v }
                if let v = try d.string("pattern") {
                    if let problem = DetectionRules.problem(withPattern: v) { throw d.invalid("pattern", problem) }
                    detection.pattern = v
                }
                if let v = try d.stringList("extensions") {
                    guard !v.isEmpty else { throw d.invalid("extensions", "list at least one file extension") }
                    detection.extensions = v.map { $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
                }
                try d.finish()
            }

            var outputs = OutputPatterns()
            if let o = try m.mapping("outputs") {
                func pattern(_ key: String) throws(ConfigurationError) -> String? {
                    guard let v = try o.string(key) else { return nil }
                    guard v.contains("{stack}") else { throw o.invalid(key, "must contain {stack} so stacks never share an output") }
                    guard !v.contains("/") else { throw o.invalid(key, "must be a file name, not a path") }
                    return v
                }
                if let v = try pattern("fused") { outputs.fused = v }
                if contains(o, "depth") { outputs.depth = try pattern("depth") }
                if contains(o, "confidence") { outputs.confidence = try pattern("confidence") }
                if let v = try pattern("sidecar") { outputs.sidecar = v }
                try o.finish()
            }

            var retry = RetryPolicy()
            if let r = try m.mapping("retry") {
                if let v = try r.int("max_attempts", in: 1...100) { retry.maxAttempts = v }
                if let v = try r.double("backoff_seconds", in: 0...86_400) { retry.backoffSeconds = v }
                if let v = try r.double("max_backoff_seconds", in: 0...604_800) { retry.maxBackoffSeconds = v }
                try r.finish()
            }
            try m.finish()

            // Outputs inside the drop folder would be picked up as new stacks.
            for (label, dir) in [("output", output), ("archive", archive), ("quarantine", quarantine)] {
                if let dir, dir == path || dir.hasPrefix(path + "/") {
                    throw m.invalid(label, "'\(dir)' is inside the drop folder '\(path)'; put it outside, or its files would be taken for new stacks")
                }
            }
            if config.dropFolders.contains(where: { $0.name == name }) {
                throw m.invalid("name", "another drop folder is already named '\(name)'; give each a distinct 'name'")
            }
            if config.dropFolders.contains(where: { path == $0.path || path.hasPrefix($0.path + "/") || $0.path.hasPrefix(path + "/") }) {
                throw m.invalid("path", "overlaps another drop folder; drop folders must not contain each other")
            }
            config.dropFolders.append(DropFolderConfiguration(
                name: name, path: path, profile: profile, output: output, archive: archive,
                quarantine: quarantine, detection: detection, outputs: outputs, retry: retry))
        }
        try root.finish()
        return config
    }

    private static func contains(_ m: MappingReader, _ key: String) -> Bool {
        m.hasKey(key)
    }
}

extension MappingReader {
    /// Whether the mapping has `key` at all (even with a null value); marks it as read.
    func hasKey(_ key: String) -> Bool {
        _ = node(key)
        return rawKeys.contains(key)
    }
}
