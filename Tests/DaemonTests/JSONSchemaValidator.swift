import Foundation

/// A validator for the subset of JSON Schema (2020-12) that `schemas/provenance.schema.json` uses:
/// `type`, `const`, `enum`, `properties`, `required`, `additionalProperties`, `items`, `prefixItems`,
/// `minItems`, `maxItems`, `contains`, `allOf`, `anyOf`, `$ref` (to `#/$defs/…`), `pattern`, `minLength`, `minimum`.
/// Any other keyword in a schema is reported as unsupported, so the schema cannot silently outgrow it.
struct JSONSchemaValidator {
    let root: [String: Any]
    static let annotations: Set<String> = ["$schema", "$id", "title", "description", "$defs"]
    static let supported: Set<String> = ["type", "const", "enum", "properties", "required", "additionalProperties", "items",
                                         "prefixItems", "minItems", "maxItems", "contains", "allOf", "anyOf", "$ref", "pattern",
                                         "minLength", "minimum"]

    /// Every violation, as `path: message`; empty when `instance` is valid.
    func validate(_ instance: Any) -> [String] {
        var errors: [String] = []
        check(instance, against: root, at: "$", errors: &errors)
        return errors
    }

    private func resolve(_ ref: String) -> [String: Any]? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: Any = root
        for part in ref.dropFirst(2).split(separator: "/") {
            guard let object = node as? [String: Any], let next = object[String(part)] else { return nil }
            node = next
        }
        return node as? [String: Any]
    }

    static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let n as NSNumber:
            if type(of: n) != NSNumber.self, value is Bool { return "boolean" }
            let d = n.doubleValue
            return d.rounded() == d && !"\(n)".contains(".") ? "integer" : "number"
        case is String: return "string"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        case is Bool: return "boolean"
        default: return "unknown"
        }
    }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case let (x as String, y as String): return x == y
        case let (x as NSNumber, y as NSNumber): return x == y
        case (is NSNull, is NSNull): return true
        default:
            guard let x = try? JSONSerialization.data(withJSONObject: [a], options: .sortedKeys),
                  let y = try? JSONSerialization.data(withJSONObject: [b], options: .sortedKeys) else { return false }
            return x == y
        }
    }

    private func check(_ value: Any, against schema: [String: Any], at path: String, errors: inout [String]) {
        for key in schema.keys where !Self.supported.contains(key) && !Self.annotations.contains(key) {
            errors.append("\(path): schema keyword '\(key)' is not supported by this validator")
        }
        if let ref = schema["$ref"] as? String {
            guard let target = resolve(ref) else { errors.append("\(path): unresolved $ref \(ref)"); return }
            check(value, against: target, at: path, errors: &errors)
        }
        let actual = Self.typeName(value)
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [(type as? String) ?? ""]
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { errors.append("\(path): expected \(allowed.joined(separator: " or ")), found \(actual)"); return }
        }
        if let c = schema["const"], !Self.equal(c, value) { errors.append("\(path): expected the constant \(c), found \(value)") }
        if let e = schema["enum"] as? [Any], !e.contains(where: { Self.equal($0, value) }) {
            errors.append("\(path): \(value) is not one of \(e)")
        }
        if let s = value as? String {
            if let min = schema["minLength"] as? Int, s.count < min { errors.append("\(path): shorter than \(min)") }
            if let p = schema["pattern"] as? String {
                if s.range(of: p, options: .regularExpression) == nil { errors.append("\(path): '\(s)' does not match \(p)") }
            }
        }
        if let n = value as? NSNumber, !(value is String), let min = schema["minimum"] as? NSNumber, n.doubleValue < min.doubleValue {
            errors.append("\(path): \(n) is below the minimum \(min)")
        }
        if let object = value as? [String: Any] {
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
                errors.append("\(path): missing required property '\(key)'")
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            for (key, child) in object {
                if let sub = properties[key] as? [String: Any] {
                    check(child, against: sub, at: "\(path).\(key)", errors: &errors)
                } else if let extra = schema["additionalProperties"] {
                    if let allowed = extra as? Bool, !allowed {
                        errors.append("\(path): unexpected property '\(key)'")
                    } else if let sub = extra as? [String: Any] {
                        check(child, against: sub, at: "\(path).\(key)", errors: &errors)
                    }
                }
            }
        }
        if let array = value as? [Any] {
            if let min = schema["minItems"] as? Int, array.count < min { errors.append("\(path): fewer than \(min) items") }
            if let max = schema["maxItems"] as? Int, array.count > max { errors.append("\(path): more than \(max) items") }
            let prefix = (schema["prefixItems"] as? [[String: Any]]) ?? []
            for (i, item) in array.enumerated() {
                if i < prefix.count {
                    check(item, against: prefix[i], at: "\(path)[\(i)]", errors: &errors)
                } else if let items = schema["items"] as? [String: Any] {
                    check(item, against: items, at: "\(path)[\(i)]", errors: &errors)
                }
            }
            if let contains = schema["contains"] as? [String: Any], !array.contains(where: { matches($0, contains) }) {
                errors.append("\(path): no item matches the 'contains' schema \(contains["$ref"] ?? "")")
            }
        }
        for sub in (schema["allOf"] as? [[String: Any]]) ?? [] {
            check(value, against: sub, at: path, errors: &errors)
        }
        if let options = schema["anyOf"] as? [[String: Any]], !options.contains(where: { matches(value, $0) }) {
            let id = (value as? [String: Any])?["@id"] ?? ""
            let details = options.map { option -> String in
                var e: [String] = []
                check(value, against: option, at: path, errors: &e)
                return "\(option["$ref"] ?? "?"): \(e.first ?? "")"
            }
            errors.append("\(path) (\(id)): matches none of anyOf — \(details.joined(separator: "; "))")
        }
    }

    private func matches(_ value: Any, _ schema: [String: Any]) -> Bool {
        var errors: [String] = []
        check(value, against: schema, at: "", errors: &errors)
        return errors.isEmpty
    }
}
