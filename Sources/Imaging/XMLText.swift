/// Minimal text-level XML surgery for OME-XML: find elements by local name (any namespace
/// prefix), read and set attributes of a start tag, keep/replace/remove elements. Everything not
/// touched stays byte for byte, which a DOM round trip would not guarantee.
enum XMLText {
    private static func elementPattern(_ name: String) -> Regex<AnyRegexOutput> {
        // <prefix:Name ... /> or <prefix:Name ...> ... </prefix:Name>
        try! Regex(#"<(?:[A-Za-z_][\w.\-]*:)?"# + name + #"\b[^>]*?(?:/>|>[\s\S]*?</(?:[A-Za-z_][\w.\-]*:)?"# + name + #"\s*>)"#)
    }

    /// Ranges of every `name` element in `text`, in order.
    static func elements(_ name: String, in text: Substring) -> [Range<String.Index>] {
        text.matches(of: elementPattern(name)).map(\.range)
    }

    static func firstElement(_ name: String, in text: String) -> Range<String.Index>? {
        text.firstMatch(of: elementPattern(name))?.range
    }

    /// The start tag at the beginning of `element`, up to and including its first `>`.
    static func startTag(of element: Substring) -> Substring {
        guard let end = element.firstIndex(of: ">") else { return element }
        return element[...end]
    }

    /// The namespace prefix of a start tag, with its colon ("ome:"), or "".
    static func prefix(ofStartTag tag: Substring) -> String {
        let name = tag.dropFirst().prefix(while: { !$0.isWhitespace && $0 != ">" && $0 != "/" })
        guard let colon = name.firstIndex(of: ":") else { return "" }
        return String(name[...colon])
    }

    private static func attributePattern(_ name: String) -> Regex<AnyRegexOutput> {
        try! Regex(#"(\s)"# + name + #"\s*=\s*(?:"([^"]*)"|'([^']*)')"#)
    }

    /// The value of attribute `name` in a start tag.
    static func attribute(_ name: String, in tag: Substring) -> String? {
        guard let match = tag.firstMatch(of: attributePattern(name)) else { return nil }
        if let double = match.output[2].substring { return String(double) }
        return match.output[3].substring.map(String.init)
    }

    /// `element` with attribute `name` of its start tag set to `value` (added when absent).
    static func settingAttribute(_ name: String, to value: String, inStartTagOf element: String) -> String {
        let tag = startTag(of: element[...])
        var result = element
        if let match = tag.firstMatch(of: attributePattern(name)) {
            result.replaceSubrange(match.range, with: "\(match.output[1].substring ?? " ")\(name)=\"\(value)\"")
        } else {
            // Before "/>" or ">" of the start tag.
            var insertion = tag.index(before: tag.endIndex)
            if insertion > tag.startIndex, tag[tag.index(before: insertion)] == "/" { insertion = tag.index(before: insertion) }
            result.insert(contentsOf: " \(name)=\"\(value)\"", at: insertion)
        }
        return result
    }

    static func removingAttribute(_ name: String, fromStartTag tag: String) -> String {
        guard let match = tag.firstMatch(of: attributePattern(name)) else { return tag }
        var result = tag
        result.removeSubrange(match.range)
        return result
    }

    enum ElementAction { case keep, remove, replace(String) }

    /// `text` with each `name` element kept, removed or replaced as `decide` says (called in order).
    static func filterElements(_ name: String, in text: String, _ decide: (Substring) -> ElementAction) -> String {
        var result = ""
        var position = text.startIndex
        for range in elements(name, in: text[...]) {
            result += text[position..<range.lowerBound]
            switch decide(text[range]) {
            case .keep: result += text[range]
            case .remove: break
            case .replace(let replacement): result += replacement
            }
            position = range.upperBound
        }
        result += text[position...]
        return result
    }
}
