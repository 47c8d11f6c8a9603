/// Escaping for HTML text and attribute values. Every name that comes from a drop folder, the
/// journal or a file goes through `escape` before it is written into the page.
enum HTML {
    /// `&`, `<`, `>`, `"` and `'` as character references; control characters (other than tab and
    /// newline) as U+FFFD, so a hostile file name can neither close an element or attribute nor
    /// smuggle invisible bytes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
