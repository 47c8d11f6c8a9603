import Foundation
import Yams

/// An error in a YAML configuration file: which file, which key, which line, and what to do.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file the configuration came from (or `<string>` when parsed from text).
    public let file: String
    /// The dotted key path, e.g. `drop_folders[0].detection.quiet_seconds`.
    public let key: String
    /// The 1-based line of the offending node, when known.
    public let line: Int?
    /// What was wrong and what to do.
    public let message: String

    public init(file: String, key: String, line: Int?, message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(message)" : "\(location): key '\(key)': \(message)"
    }
}

/// Walks a `Yams.Node` tree with the key path and line numbers at hand, so every error names the key
/// and the line. Each mapping read through `MappingReader` rejects keys nobody asked for.
public struct YAMLReader {
    public let file: String

    public init(file: String) {
        self.file = file
    }

    /// Parses `text` into a root mapping.
    /// - Throws: `ConfigurationError` for YAML syntax errors or a root that is not a mapping.
    public func root(_ text: String) throws(ConfigurationError) -> MappingReader {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(file: file, key: "", line: Self.line(of: error),
                                     message: "not valid YAML: \(error)")
        } catch {
            throw ConfigurationError(file: file, key: "", line: nil, message: "not valid YAML: \(error)")
        }
        guard let node else {
            throw ConfigurationError(file: file, key: "", line: 1, message: "the file is empty; it needs a mapping of settings")
        }
        return try mapping(node, key: "")
    }

    public func mapping(_ node: Node, key: String) throws(ConfigurationError) -> MappingReader {
        guard let mapping = node.mapping else {
            throw error(key, node, "expected a mapping of 'key: value' lines")
        }
        return MappingReader(reader: self, path: key, mapping: mapping, node: node)
    }

    public func error(_ key: String, _ node: Node?, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, key: key, line: node?.mark?.line, message: message)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

/// One YAML mapping being read; remembers which keys were consumed so `finish()` can reject the rest.
public final class MappingReader {
    public let reader: YAMLReader
    public let path: String
    public let node: Node
    private var entries: [(key: String, keyNode: Node, value: Node)] = []
    private var used = Set<String>()

    public init(reader: YAMLReader, path: String, mapping: Node.Mapping, node: Node) {
        self.reader = reader
        self.path = path
        self.node = node
        for (k, v) in mapping {
            entries.append((k.string ?? "\(k)", k, v))
        }
    }

    public var line: Int? { node.mark?.line }

    /// Every key present in the mapping.
    public var rawKeys: [String] { entries.map(\.key) }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw node for `key`, or nil when absent (a YAML `null` counts as absent).
    public func node(_ key: String) -> Node? {
        used.insert(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        if entry.value.null != nil, entry.value.scalar != nil { return nil }
        return entry.value
    }

    public func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let n = node(key) else { return nil }
        guard let scalar = n.scalar else { throw reader.error(keyPath(key), n, "expected a text value") }
        return scalar.string
    }

    public func requiredString(_ key: String) throws(ConfigurationError) -> String {
        guard let s = try string(key), !s.isEmpty else {
            throw ConfigurationError(file: reader.file, key: keyPath(key), line: line,
                                     message: "is required; add '\(key): …' to this section")
        }
        return s
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let n = node(key) else { return nil }
        guard n.scalar != nil, let value = n.int else {
            throw reader.error(keyPath(key), n, "expected a whole number, found '\(n.string ?? "")'")
        }
        guard range.contains(value) else {
            throw reader.error(keyPath(key), n, "\(value) is out of range; use \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    public func double(_ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let n = node(key) else { return nil }
        guard n.scalar != nil, let value = n.float, value.isFinite else {
            throw reader.error(keyPath(key), n, "expected a number, found '\(n.string ?? "")'")
        }
        guard range.contains(value) else {
            throw reader.error(keyPath(key), n, "\(value) is out of range; use \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    public func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let n = node(key) else { return nil }
        guard n.scalar != nil, let value = n.bool else {
            throw reader.error(keyPath(key), n, "expected true or false, found '\(n.string ?? "")'")
        }
        return value
    }

    public func stringList(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let n = node(key) else { return nil }
        if let s = n.scalar { return [s.string] }
        guard n.sequence != nil else { throw reader.error(keyPath(key), n, "expected a list of text values") }
        var result: [String] = []
        for (i, item) in n.array().enumerated() {
            guard let s = item.scalar else { throw reader.error("\(keyPath(key))[\(i)]", item, "expected a text value") }
            result.append(s.string)
        }
        return result
    }

    public func mapping(_ key: String) throws(ConfigurationError) -> MappingReader? {
        guard let n = node(key) else { return nil }
        return try reader.mapping(n, key: keyPath(key))
    }

    public func list(_ key: String) throws(ConfigurationError) -> [(Node, String)]? {
        guard let n = node(key) else { return nil }
        guard n.sequence != nil else { throw reader.error(keyPath(key), n, "expected a list ('- …' items)") }
        return n.array().enumerated().map { ($1, "\(keyPath(key))[\($0)]") }
    }

    /// Rejects every key not read so far.
    public func finish() throws(ConfigurationError) {
        for entry in entries where !used.contains(entry.key) {
            throw reader.error(keyPath(entry.key), entry.keyNode,
                               "unknown key; check its spelling (known keys here: \(used.sorted().joined(separator: ", ")))")
        }
    }

    /// The error for a bad value of `key`.
    public func invalid(_ key: String, _ message: String) -> ConfigurationError {
        let n = entries.first(where: { $0.key == key })?.value
        return ConfigurationError(file: reader.file, key: keyPath(key), line: n?.mark?.line ?? line, message: message)
    }
}
