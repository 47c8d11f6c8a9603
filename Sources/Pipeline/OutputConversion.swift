import Foundation
import Imaging

/// Input values mapped onto an integer output format's full range: `low` → 0, `high` → 255 or
/// 65535, linear between, clamped outside. A profile's `output_window: [LO, HI]`, `fuse --window LO:HI`.
public struct OutputWindow: Codable, Sendable, Equatable, CustomStringConvertible {
    public var low: Double
    public var high: Double

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }

    /// Parses `LO:HI` (e.g. `73:766`, `0:1`).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Double(parts[0].trimmingCharacters(in: .whitespaces)),
              let high = Double(parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
        self.init(low: low, high: high)
    }

    /// Encoded as the two-element list `[LO, HI]`.
    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        guard c.count == 2 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected two numbers [LO, HI], e.g. [73, 766]")
        }
        low = try c.decode(Double.self)
        high = try c.decode(Double.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(low)
        try c.encode(high)
    }

    public var description: String { "\(Self.format(low))…\(Self.format(high))" }

    /// A value as people write it: integers without a fraction, others to 6 significant digits.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.6g", value)
    }
}

/// How one fused image's values became the output's sample format, recorded in `PipelineReport`.
public struct OutputConversion: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Where the input window came from.
    public enum Source: String, Codable, Sendable {
        /// The fused image's own minimum…maximum (a narrowing conversion without an explicit window).
        case dataRange = "data range"
        /// `output_window` in the profile, or `fuse --window`.
        case explicit
        /// A wider integer format from a narrower one: full range onto full range, which loses nothing.
        case fullRange = "full range"
    }

    /// Sample formats (`uint16`, `uint8`, …).
    public var from: String
    public var to: String
    /// Input values mapped onto `target`.
    public var window: OutputWindow
    /// The output format's range the window is mapped onto (`0…255`, `0…65535`).
    public var target: OutputWindow
    public var source: Source
    /// The output file the conversion was written to.
    public var path: String

    /// `uint16 → uint8: window 73…766 → 0…255 (the fused image's range)`.
    public var description: String {
        let why = switch source {
        case .dataRange: "the fused image's range"
        case .explicit: "as asked"
        case .fullRange: "full range, lossless"
        }
        return "\(from) → \(to): window \(window) → \(target) (\(why))"
    }
}

extension FusionPipeline {
    /// Converts a fused image from the stack's sample format to the output's.
    ///
    /// - Same format, or float32 output: values unchanged (nil conversion).
    /// - To a narrower format (uint16 → uint8, float32 → uint8/uint16): `window` (or, without one,
    ///   the image's own minimum…maximum) is mapped linearly onto the target's full range, so the
    ///   data keep every grey level the target can hold instead of a few of them.
    /// - To a wider integer format (uint8 → uint16): full range onto full range (lossless), or
    ///   `window` when given.
    /// Values outside the window are clamped to the target's range.
    static func convert(_ image: Image, from: SampleFormat, to: SampleFormat, window: OutputWindow?,
                        path: String) -> (image: Image, conversion: OutputConversion?) {
        guard from != to, let targetMax = to.maximumValue else { return (image, nil) }
        let source: OutputConversion.Source
        var used: OutputWindow
        if let window {
            (source, used) = (.explicit, window)
        } else if let sourceMax = from.maximumValue, sourceMax < targetMax {
            (source, used) = (.fullRange, OutputWindow(low: 0, high: Double(sourceMax)))
        } else {
            var low = Float.infinity, high = -Float.infinity
            for v in image.pixels where v.isFinite {
                low = min(low, v)
                high = max(high, v)
            }
            if low > high { (low, high) = (0, 0) }   // no finite value at all
            (source, used) = (.dataRange, OutputWindow(low: Double(low), high: Double(high)))
        }
        let low = Float(used.low)
        // A constant image (or an empty window) maps onto 0 rather than dividing by zero.
        let scale = used.high > used.low ? targetMax / Float(used.high - used.low) : 0
        var out = image
        for i in out.pixels.indices {
            let v = out.pixels[i]
            out.pixels[i] = v.isNaN ? 0 : min(max((v - low) * scale, 0), targetMax)
        }
        let conversion = OutputConversion(from: from.rawValue, to: to.rawValue, window: used,
                                          target: OutputWindow(low: 0, high: Double(targetMax)), source: source, path: path)
        return (out, conversion)
    }
}
