import ArgumentParser
import Foundation
import Imaging
import Pipeline
import Registration

/// `focusd align`: estimate every slice's transform onto a reference slice, write the transforms
/// (T.json) and, optionally, the aligned stack.
struct AlignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Align the slices of a stack and write the transforms.",
        discussion: """
        Fits a translation, similarity (default: scale, rotation and shift, which covers stage \
        drift and focus breathing) or affine transform from every slice to the reference slice \
        (the middle one unless --reference is given), by the enhanced correlation coefficient of \
        their luminance, coarse to fine and to sub-pixel accuracy. T.json records, per slice, the \
        2×3 matrix from the slice's pixel coordinates to the reference's (origin at the centre of \
        the top-left pixel), gain, offset, match score and whether it was aligned, and the output \
        frame. The full frame is kept (a slice's uncovered border repeats its edge pixels; the padding \
        entry gives the area every slice covers and the padded border); --crop cuts to the area every \
        slice covers instead. A slice that cannot be aligned (blank, or a score under \
        --minimum-score) stays unaligned with a warning. With several channels (OME/ImageJ), the \
        first channel's transforms are applied to every channel.
        """
    )

    @Argument(help: "A multi-page TIFF, a folder of slices, or image files in slice order.")
    var inputs: [String]

    @Option(name: .long, help: "Where to write the transforms (JSON).")
    var transforms: String

    @Option(name: .long, help: "Also write the aligned stack as a multi-page TIFF in the input's sample format.")
    var out: String?

    @Option(name: .long, help: "Transform model: none, translation, similarity or affine.")
    var model: TransformModel = .similarity

    @Option(name: .long, help: "0-based reference slice (default: the middle slice).")
    var reference: Int?

    @Flag(name: .customLong("gain-offset"), help: "Also estimate and apply a per-slice brightness gain and offset.")
    var gainOffset = false

    @Flag(name: .customLong("crop"), help: "Crop to the area every slice covers instead of keeping the full frame.")
    var crop = false

    @Flag(name: .customLong("keep-size"), help: ArgumentHelp("Keep the full frame (the default; kept for scripts that pass it).", visibility: .hidden))
    var keepSize = false

    @Option(name: .customLong("minimum-score"), help: "Slices whose match score (−1…1) ends below this stay unaligned.")
    var minimumScore: Double = Registration.AlignmentOptions().minimumScore

    @Option(help: "The instrument's known focus breathing: magnification change across the stack (0.01 = 1 %), linear in slice index; with --model translation only the shift is fitted.")
    var breathing: Double = 0

    @Option(name: .customLong("render-passes"), help: "Passes refitting every slice's shift against the slice the stack's own least-squares specimen model predicts (0 = off; fluorescence: removes the pull of defocus on a direct fit; several least-squares solves per pass, seconds to minutes per stack).")
    var renderPasses: Int = 0

    @Flag(name: .customLong("fit-breathing"), help: "Also fit the breathing (one magnification slope for the stack, starting from --breathing) in the --render-passes; needs --model translation.")
    var fitBreathing = false

    func validate() throws {
        try OutputPathCheck.requireTIFF(out.map { [("--out", $0)] } ?? [])
        try OutputPathCheck.validate(inputs: inputs, outputs: [("--transforms", transforms)] + (out.map { [("--out", $0)] } ?? []))
        if let reference, reference < 0 { throw ValidationError("--reference must be 0 or more (got \(reference))") }
        guard (-1...1).contains(minimumScore) else { throw ValidationError("--minimum-score must be between -1 and 1 (got \(minimumScore))") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one input") }
        if crop && keepSize { throw ValidationError("--crop and --keep-size contradict each other; give one") }
        guard abs(breathing) <= 0.1 else { throw ValidationError("--breathing must be within ±0.1 (got \(breathing))") }
        guard (0...20).contains(renderPasses) else { throw ValidationError("--render-passes must be 0…20 (got \(renderPasses))") }
        if fitBreathing && (renderPasses == 0 || model != .translation) {
            throw ValidationError("--fit-breathing fits the breathing in the specimen-model passes: give --model translation and --render-passes N (e.g. 6)")
        }
    }

    func run() async throws {
        let stacks = try StackLoader().open(inputs)
        guard let first = stacks.first else { throw AlignCommandError.nothingToAlign(inputs: inputs) }
        // A reference past the last slice is a usage error (exit 2), known only once the stack is open.
        if let reference, reference >= first.count {
            throw ValidationError(RegistrationError.referenceOutOfRange(reference: reference, count: first.count).description)
        }
        let options = Registration.AlignmentOptions(model: model, reference: reference, estimateGainOffset: gainOffset,
                                                    keepSize: !crop, minimumScore: minimumScore, breathing: breathing,
                                                    renderPasses: renderPasses, fitBreathing: fitBreathing)
        let start = Date()
        let result = try Aligner(options: options).align(first)
        let seconds = Date().timeIntervalSince(start)
        try Self.write(try result.jsonData(), to: transforms)
        for warning in result.warnings {
            FileHandle.standardError.write(Data("focusd: warning: \(warning)\n".utf8))
        }
        let alignedCount = result.slices.filter(\.aligned).count
        if let fitted = result.rendering?.breathing {
            print(String(format: "breathing fitted against the specimen model: %+.4f (magnification change across the stack)", fitted))
        } else if model == .similarity || model == .affine, let fitted = result.fittedBreathing {
            print(String(format: "breathing shown by these slices: %+.4f (magnification change across the stack; "
                         + "a calibration for profiles' align_breathing when the stack has dense texture)", fitted))
        }
        let frame = result.padding.map { "full frame, padded border \($0.border) (left, top, right, bottom)" } ?? "crop \(result.crop)"
        print("aligned \(alignedCount) of \(result.slices.count) slices (\(model.rawValue), reference \(result.reference)) "
              + "in \(String(format: "%.2f", seconds)) s; \(frame) → \(transforms)")
        guard let out else { return }
        for (channel, stack) in stacks.enumerated() {
            let aligned = AlignedStack(stack, alignment: result)
            let pages = try (0..<aligned.count).map { try aligned.slice(at: $0) }
            let path = stacks.count == 1 ? out : Self.channelPath(out, channel)
            try TIFFWriter.write(pages, format: stack.geometry.format, metadata: stack.metadata, to: path,
                                 software: "focusd \(FocusdBuild.version)")
            print("wrote \(pages.count) aligned slices (\(aligned.geometry.width)×\(aligned.geometry.height)) → \(path)")
        }
    }

    /// `out.tif` → `out_c1.tif` for channel 1.
    static func channelPath(_ path: String, _ channel: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let ext = url.pathExtension.isEmpty ? "tif" : url.pathExtension
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)_c\(channel).\(ext)").path
    }

    /// Writes atomically (temporary file, then rename).
    static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw AlignCommandError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}

/// Errors of `focusd align` beyond those of reading and aligning.
enum AlignCommandError: Error, CustomStringConvertible {
    case nothingToAlign(inputs: [String])
    case cannotWrite(path: String, reason: String)

    var description: String {
        switch self {
        case let .nothingToAlign(inputs):
            "\(inputs.joined(separator: ", ")): no stack found; give a multi-page TIFF, a folder of slices or image files"
        case let .cannotWrite(path, reason):
            "\(path): cannot write the transforms (\(reason)); check that the folder exists and is writable"
        }
    }
}
