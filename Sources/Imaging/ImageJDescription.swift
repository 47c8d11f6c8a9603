/// The ImageJ header ImageJ writes into the first page's ImageDescription:
/// `ImageJ=1.54f\nimages=24\nchannels=2\nslices=4\nframes=3\nhyperstack=true\n...`.
///
/// Hyperstack pages are stored in "czt" order: channel fastest, then slice (z), then frame (t),
/// so page = (t · slices + z) · channels + c.
struct ImageJDescription: Sendable, Equatable {
    /// `key=value` lines in file order.
    var entries: [(key: String, value: String)]

    /// Parses `text` if it is an ImageJ header (starts with `ImageJ=`).
    init?(_ text: String) {
        guard text.hasPrefix("ImageJ=") else { return nil }
        entries = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).compactMap { line in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    static func == (lhs: ImageJDescription, rhs: ImageJDescription) -> Bool {
        lhs.entries.map(\.key) == rhs.entries.map(\.key) && lhs.entries.map(\.value) == rhs.entries.map(\.value)
    }

    /// The value of `key` when it is a count in 0…2²⁴ (larger values are treated as absent, so
    /// hostile headers cannot overflow the page arithmetic).
    func integer(_ key: String) -> Int? {
        entries.first(where: { $0.key == key })
            .flatMap { Int($0.value.filter { !$0.isWhitespace }) }
            .flatMap { (0...(1 << 24)).contains($0) ? $0 : nil }
    }

    var channels: Int { max(1, integer("channels") ?? 1) }
    var slices: Int { max(1, integer("slices") ?? 1) }
    var frames: Int { max(1, integer("frames") ?? 1) }
    var images: Int { max(1, integer("images") ?? 1) }

    /// Sets `key` to `value`, appending the line when absent; `nil` removes it.
    mutating func set(_ key: String, _ value: Int?) {
        if let index = entries.firstIndex(where: { $0.key == key }) {
            if let value { entries[index].value = String(value) } else { entries.remove(at: index) }
        } else if let value {
            // Keep the counts together after the version line, as ImageJ writes them.
            let anchor = entries.lastIndex(where: { ["ImageJ", "images", "channels", "slices", "frames"].contains($0.key) })
            entries.insert((key, String(value)), at: (anchor ?? -1) + 1)
        }
    }

    var text: String { entries.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n" }

    /// Pages of channel `c`'s Z series at t = 0, or nil when the counts disagree with `pageCount`.
    func zSeriesPages(channel c: Int, pageCount: Int) -> [Int]? {
        let product = channels.multipliedReportingOverflow(by: slices).partialValue.multipliedReportingOverflow(by: frames)
        guard !product.overflow, product.partialValue == images, images <= pageCount, c < channels else { return nil }
        return (0..<slices).map { z in z * channels + c }
    }

    /// The header for channel `c` alone (channels=1), all else unchanged.
    func forSingleChannel() -> ImageJDescription {
        var copy = self
        copy.set("channels", nil)
        copy.set("images", slices * frames)
        if slices * frames == max(slices, frames) { copy.set("hyperstack", nil) }
        copy.set("mode", nil)
        return copy
    }

    /// The header for a fused output of `pageCount` pages (one per channel) with one Z position
    /// and one frame. Display ranges (`min=`, `max=`, `ranges=`) are dropped for float output,
    /// whose values (e.g. a depth map) need not share the source's range.
    func forFusedOutput(pageCount: Int, format: SampleFormat) -> ImageJDescription {
        var copy = self
        if format == .float32 {
            copy.entries.removeAll { ["min", "max", "ranges"].contains($0.key) }
        }
        copy.set("images", pageCount)
        copy.set("channels", pageCount > 1 ? pageCount : nil)
        copy.set("slices", 1)
        copy.set("frames", nil)
        if pageCount == 1 {
            copy.set("hyperstack", nil)
            copy.set("mode", nil)
        }
        copy.set("loop", nil)
        return copy
    }
}
