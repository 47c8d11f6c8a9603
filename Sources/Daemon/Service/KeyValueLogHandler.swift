import Foundation
import Logging

/// A swift-log handler that writes one `level message="…" key=value …` line per entry to stderr.
///
/// No timestamp: under systemd, journald adds one. Values with spaces, quotes or `=` are quoted
/// with Go-style escapes, so each line stays machine-parseable (logfmt).
public struct KeyValueLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: @Sendable (String) -> Void

    /// - Parameter sink: where finished lines go; stderr by default.
    public init(label: String, level: Logger.Level = .info,
                sink: @escaping @Sendable (String) -> Void = KeyValueLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "\(event.level.rawValue) msg=\(Self.quote(event.message.description))"
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.quote(Self.flatten(merged[key]!)))"
        }
        sink(line)
    }

    @Sendable public static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return a.map(flatten).joined(separator: ",")
        case .dictionary(let d): return d.keys.sorted().map { "\($0):\(flatten(d[$0]!))" }.joined(separator: ",")
        }
    }

    /// `value` as is when it is a plain token, else in double quotes with `\"`, `\\`, `\n` escaped.
    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0.value < 0x7f && $0 != "\"" && $0 != "=" && $0 != "\\"
        }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
