/// Natural sort order for file names: runs of digits compare by their numeric value, so
/// `slice_2` < `slice_10`; other text compares case-insensitively; exact ties fall back to plain
/// string order so the order is total and stable.
enum NaturalOrder {
    static func areInIncreasingOrder(_ a: String, _ b: String) -> Bool {
        let left = chunks(a), right = chunks(b)
        for (l, r) in zip(left, right) {
            switch (l, r) {
            case let (.number(x), .number(y)):
                // Compare digit strings without leading zeros: longer is larger, then lexicographic.
                let xs = x.drop(while: { $0 == "0" }), ys = y.drop(while: { $0 == "0" })
                if xs.count != ys.count { return xs.count < ys.count }
                if xs != ys { return xs.lexicographicallyPrecedes(ys) }
                if x.count != y.count { return x.count < y.count } // "01" before "001"? keep it total
            case let (.text(x), .text(y)):
                let lx = x.lowercased(), ly = y.lowercased()
                if lx != ly { return lx < ly }
            case (.number, .text):
                return true
            case (.text, .number):
                return false
            }
        }
        if left.count != right.count { return left.count < right.count }
        return a < b
    }

    private enum Chunk {
        case number(Substring)
        case text(Substring)
    }

    private static func chunks(_ s: String) -> [Chunk] {
        var result: [Chunk] = []
        var index = s.startIndex
        while index < s.endIndex {
            let isDigit = s[index].isASCII && s[index].isNumber
            let end = s[index...].firstIndex(where: { ($0.isASCII && $0.isNumber) != isDigit }) ?? s.endIndex
            result.append(isDigit ? .number(s[index..<end]) : .text(s[index..<end]))
            index = end
        }
        return result
    }
}
