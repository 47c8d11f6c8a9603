import ArgumentParser
import Foundation
import Fusion
import Pipeline
import Registration

/// `focusd fuse`: one stack from the shell, through the same pipeline as the daemon.
struct FuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuse",
        abstract: "Fuse one focus stack into an all-in-focus image.",
        discussion: """
        INPUT is a multi-page TIFF (ImageJ hyperstacks and OME-TIFF: the Z series; several channels \
        give one output per channel, suffixed _c0, _c1, …), a folder of slices (natural name order), \
        or a list of image files in slice order. 8/16-bit and float TIFF, PNG and JPEG are read; the \
        fused image keeps the input's sample format unless --output-format says otherwise.
        """
    )

    @Argument(help: "A multi-page TIFF, a folder of slices, or image files in slice order.")
    var inputs: [String]

    @Option(name: .long, help: "The fused image (TIFF).")
    var out: String

    @Option(name: .customLong("depth-map"), help: "Also write the depth map (float32 slice index per pixel).")
    var depthMap: String?

    @Option(name: .customLong("confidence-map"), help: "Also write the confidence map (float32, 0…1).")
    var confidenceMap: String?

    @Option(help: ArgumentHelp("With --output-format uint8/uint16: the input values mapped onto the format's full range, as LO:HI (e.g. 73:766; default: the fused image's own minimum:maximum).",
                               valueName: "LO:HI"))
    var window: String?

    @Flag(name: .customLong("split-channels"), help: "Multi-channel stacks: one file per channel (OUT_c0.tif, OUT_c1.tif, …) instead of one multi-channel image.")
    var splitChannels = false

    @OptionGroup var fusion: FusionOptions

    func validate() throws {
        let outputs = [("--out", out)] + (depthMap.map { [("--depth-map", $0)] } ?? [])
            + (confidenceMap.map { [("--confidence-map", $0)] } ?? [])
        try OutputPathCheck.requireTIFF(outputs)
        try OutputPathCheck.validate(inputs: inputs, outputs: outputs)
        if let window, OutputWindow(parsing: window) == nil {
            throw ValidationError("--window \(window): give two numbers LO:HI, e.g. 73:766")
        }
    }

    func run() async throws {
        var settings = try fusion.settings(window: window.flatMap(OutputWindow.init(parsing:)))
        if splitChannels { settings.splitChannels = true }
        var pipeline = FusionPipeline(settings: settings, baseDirectory: fusion.profileDirectory)
        // Slices read by the engine's passes, as a bar with ETA on a terminal, else a line every 10 s.
        let progress = ProgressReporter(total: 0, interval: 10, label: "fuse", counted: "slices read")
        pipeline.progress = { progress.set(done: $0.decoded, total: $0.expected) }
        defer { progress.clear() }
        let start = Date()
        let report = try pipeline.run(inputs: inputs,
                                      outputs: OutputPaths(fused: out, depth: depthMap, confidence: confidenceMap),
                                      clock: { Date().timeIntervalSinceReferenceDate })
        for warning in report.warnings {
            FileHandle.standardError.write(Data("focusd: warning: \(warning)\n".utf8))
        }
        for conversion in report.outputConversions {
            let channel = report.outputConversions.count > 1 ? " (\((conversion.path as NSString).lastPathComponent))" : ""
            FileHandle.standardError.write(Data("focusd: converted \(conversion)\(channel)\n".utf8))
        }
        let seconds = Date().timeIntervalSince(start)
        let channelText = report.channels == 1 ? "grey" : (report.channels == 3 ? "RGB" : "\(report.channels)-channel")
        let written = report.outputs.map(\.path).joined(separator: ", ")
        print("fused \(report.sliceCount) slices (\(report.width)×\(report.height) \(report.format) \(channelText)) "
              + "with \(settings.engine.rawValue) in \(String(format: "%.2f", seconds)) s → \(written)")
    }
}

/// Fusion settings as command-line flags, shared by `fuse`, `eval` and the benchmarks.
struct FusionOptions: ParsableArguments {
    @Option(help: "A profile by name (searched like `focusd profiles list`) or path; other flags override its settings.")
    var profile: String?
    @Option(help: "Fusion engine: reference, control or fusiondiff.")
    var engine: FusionSettings.Engine?

    @Option(help: "FusionDiff model file (.safetensors).")
    var model: String?

    @Option(help: "FusionDiff sampler steps K (1…2000).")
    var steps: Int?

    @Option(help: "Seed of the sampler's initial noise.")
    var seed: UInt64?

    @Option(help: "Pairwise order across slices: sequential or tree.")
    var order: PairOrder?

    @Option(help: "Projection onto the sources: decision, soft or none.")
    var projection: ProjectionMode?

    @Flag(name: .customLong("no-projection"), help: "Write the raw generated image (same as --projection none).")
    var noProjection = false

    @Option(help: "N-slice design: selection (decide between measured slices, compose once) or pairwise (fuse the running result with each slice; needed for --projection soft/none).")
    var composition: FusionSettings.Composition?
    @Option(help: "With selection: what decides each pair — model (the generator through the projection), evidence (focus evidence alone) or gated (evidence where decisive, the model elsewhere).")
    var decision: SelectionOptions.Decision?
    @Option(name: .customLong("decision-channel"), help: "With selection: the channel focus is decided on — luminance, most-signal or an index; its decisions apply to every channel.")
    var decisionChannel: String?
    @Option(name: .customLong("depth-of-field"), help: "With selection: blend slices up to this many slices from the chosen one where their focus evidence matches within noise (0 = pure selection).")
    var depthOfField: Double?
    @Option(help: "Align slices first: none, translation, similarity or affine.")
    var align: TransformModel?

    @Option(name: .customLong("tile-size"), help: "Tile edge for model calls (0 = whole image).")
    var tileSize: Int?

    @Option(help: "Threads for numerical kernels (0 = all cores).")
    var threads: Int?

    @Option(name: .customLong("output-format"), help: "Fused sample format: same, uint8, uint16 or float32.")
    var outputFormat: FusionSettings.OutputFormat?

    /// Folder of the profile file the settings came from.
    var profileDirectory: String? {
        guard let profile, let path = try? ProfilesCommand.locate(profile, extra: nil) else { return nil }
        return ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
    }

    /// The settings these flags describe, on top of the profile's or the defaults; `window` is
    /// `fuse --window` (the output window, which only `fuse` offers).
    func settings(window: OutputWindow? = nil) throws -> FusionSettings {
        var s = FusionSettings()
        if let profile {
            let path = try ProfilesCommand.locate(profile, extra: nil)
            do {
                s = try ProfileLoader.load(.file(path), configurationFile: path).settings
            } catch {
                throw ValidationError("profile \(path): \(error)")
            }
        }
        if let engine { s.engine = engine }
        if let model {
            s.model = model
            if engine == nil { s.engine = .fusiondiff }
        }
        if let steps { s.steps = steps }
        if let seed { s.seed = seed }
        if let order { s.order = order }
        if let projection { s.projection.mode = projection }
        if noProjection { s.projection.mode = .none }
        if projection != nil || noProjection { s.composition = s.projection.mode == .decision ? .selection : .pairwise }
        if let composition { s.composition = composition }
        if let decision { s.selection.decision = decision }
        if let decisionChannel {
            guard let channel = SelectionOptions.DecisionChannel(decisionChannel) else {
                throw ValidationError("--decision-channel must be luminance, most-signal or a channel index, not '\(decisionChannel)'")
            }
            s.selection.decisionChannel = channel
        }
        if let depthOfField { s.selection.depthOfField = depthOfField }
        if let align { s.alignment.model = align }
        if let tileSize { s.tiling.size = tileSize }
        if let threads { s.threads = threads }
        if let outputFormat { s.outputFormat = outputFormat }
        if let window {
            guard s.outputFormat == .uint8 || s.outputFormat == .uint16 else {
                throw ValidationError("--window \(window) maps values onto an integer output format; add --output-format uint8 or uint16")
            }
            s.outputWindow = window
        }
        do {
            try s.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return s
    }
}
