import Foundation
import Yams

/// Reads the fusion settings of a drop folder's profile, with errors that name the key and the line.
///
/// A profile is a YAML mapping of `FusionSettings` keys (flat snake_case: `engine`, `model`, `steps`,
/// `seed`, `order`, `projection`, `align`, …); `name` and `description` are allowed for people.
public enum ProfileLoader {
    /// Keys a profile may carry besides the settings.
    static let documentationKeys: Set<String> = ["name", "description"]

    /// The settings and the folder a relative `model` path is resolved against.
    public static func load(_ reference: ProfileReference, configurationFile: String) throws(ConfigurationError) -> (settings: FusionSettings, baseDirectory: String?) {
        switch reference {
        case .defaults:
            return (FusionSettings(), nil)
        case .file(let path):
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError(file: configurationFile, key: "profile", line: nil,
                                         message: "cannot read the profile \(path) (\(error.localizedDescription)); check the path")
            }
            return (try parse(text, file: path, lineOffset: 0), (path as NSString).deletingLastPathComponent)
        case .inline(let yaml, let line):
            let base = (configurationFile as NSString).deletingLastPathComponent
            return (try parse(yaml, file: configurationFile, lineOffset: (line ?? 1) - 1, keyPrefix: "profile."), base.isEmpty ? nil : base)
        }
    }

    /// Parses profile text. `lineOffset` shifts reported lines (an inline profile inside a larger file).
    public static func parse(_ text: String, file: String, lineOffset: Int = 0, keyPrefix: String = "") throws(ConfigurationError) -> FusionSettings {
        func shifted(_ e: ConfigurationError) -> ConfigurationError {
            ConfigurationError(file: e.file, key: keyPrefix + e.key, line: e.line.map { $0 + lineOffset }, message: e.message)
        }
        let reader = YAMLReader(file: file)
        let root: MappingReader
        do { root = try reader.root(text) } catch { throw shifted(error) }
        let known = Set(FusionSettings.keys).union(documentationKeys)
        for key in root.rawKeys where !known.contains(key) {
            throw shifted(root.invalid(key, "unknown profile key; known keys: \(FusionSettings.keys.joined(separator: ", "))"))
        }
        var settingsNode = root.node
        if var mapping = root.node.mapping {
            for key in documentationKeys { mapping[Node(key)] = nil }
            settingsNode = Node.mapping(mapping)
        }
        do {
            return try YAMLDecoder().decode(FusionSettings.self, from: settingsNode)
        } catch let error as SettingsError {
            throw shifted(root.invalid(error.key, error.message))
        } catch let error as DecodingError {
            let (key, message) = describe(error)
            throw shifted(root.invalid(key, message))
        } catch {
            throw shifted(ConfigurationError(file: file, key: "", line: nil, message: "\(error)"))
        }
    }

    private static func describe(_ error: DecodingError) -> (String, String) {
        switch error {
        case .typeMismatch(let type, let context):
            return (context.codingPath.first?.stringValue ?? "", "expected a value of type \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return (context.codingPath.first?.stringValue ?? "", "missing a value of type \(type)")
        case .keyNotFound(let key, _):
            return (key.stringValue, "is required")
        case .dataCorrupted(let context):
            let key = context.codingPath.first?.stringValue ?? ""
            // Swift's own wording ("Cannot initialize Engine from invalid String value fusiondif") is
            // not for users: name the value and list the ones the key takes.
            if let range = context.debugDescription.range(of: "from invalid String value "), let choices = FusionSettings.choices[key] {
                let value = context.debugDescription[range.upperBound...]
                return (key, "'\(value)' is not a valid value; use one of \(choices.joined(separator: ", "))")
            }
            return (key, "invalid value: \(context.debugDescription)")
        @unknown default:
            return ("", "\(error)")
        }
    }
}

/// Where a drop folder's fusion settings come from.
public enum ProfileReference: Sendable, Equatable {
    /// The built-in defaults (`FusionSettings()`).
    case defaults
    /// A profile YAML file.
    case file(String)
    /// Settings written inline in the daemon configuration, as YAML text; `line` is where they start.
    case inline(yaml: String, line: Int?)
}
