import Checksum
import Foundation
import Fusion
import Imaging
import NN
import Registration

/// Where one pipeline run writes its images.
public struct OutputPaths: Sendable, Equatable {
    public var fused: String
    public var depth: String?
    public var confidence: String?

    public init(fused: String, depth: String? = nil, confidence: String? = nil) {
        self.fused = fused
        self.depth = depth
        self.confidence = confidence
    }

    /// The same paths with `_c<channel>` before the extension, for multi-channel inputs fused one
    /// channel stack at a time.
    func forChannel(_ channel: Int, of count: Int) -> OutputPaths {
        guard count > 1 else { return self }
        func suffixed(_ path: String) -> String {
            let url = URL(fileURLWithPath: path)
            let ext = url.pathExtension
            let base = url.deletingPathExtension().path
            return ext.isEmpty ? "\(base)_c\(channel)" : "\(base)_c\(channel).\(ext)"
        }
        return OutputPaths(fused: suffixed(fused), depth: depth.map(suffixed), confidence: confidence.map(suffixed))
    }
}

/// A file the pipeline read or wrote, as recorded in provenance.
public struct FileRecord: Codable, Sendable, Equatable {
    public var path: String
    public var size: Int
    public var sha256: String

    public init(path: String, size: Int, sha256: String) {
        self.path = path
        self.size = size
        self.sha256 = sha256
    }

    /// Hashes the file at `path`.
    public static func of(_ path: String) throws -> FileRecord {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        return FileRecord(path: path, size: size, sha256: try SHA256.hex(fileAt: path))
    }
}

/// The model a run used.
public struct ModelRecord: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    /// The model's configuration as JSON (ARCHITECTURE.md, "Model configuration keys").
    public var configuration: String

    public init(path: String, sha256: String, configuration: String) {
        self.path = path
        self.sha256 = sha256
        self.configuration = configuration
    }
}

/// What one pipeline run did: everything a provenance sidecar records about the processing.
public struct PipelineReport: Codable, Sendable {
    /// Input files in slice order (a multi-page TIFF is one file).
    public var inputs: [FileRecord]
    /// The slices in fusion order, as `file` or `file page N`.
    public var sliceNames: [String]
    /// Written images: fused, then depth and confidence maps when asked for, per channel stack.
    public var outputs: [FileRecord]
    /// Wall seconds per stage: `load`, `align`, `fuse`, `write`.
    public var stageSeconds: [String: Double]
    /// Slice transforms when the stack was aligned (one entry per channel stack).
    public var alignment: [AlignmentResult]
    public var model: ModelRecord?
    public var settings: FusionSettings
    public var width: Int
    public var height: Int
    public var channels: Int
    public var sliceCount: Int
    /// The stack's sample format (`uint8`, `uint16`, `float32`).
    public var format: String
    /// How each fused image's values were mapped onto the output's sample format (`output_format`,
    /// `output_window`); empty when the fused images kept the stack's format.
    public var outputConversions: [OutputConversion]
    /// Warnings a user should see (e.g. a slice that could not be aligned).
    public var warnings: [String]
}

/// Why a pipeline run failed, classified for the daemon's retry and quarantine decisions.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public enum Class: String, Sendable, Codable {
        /// The input cannot be fused as it is (unreadable, truncated, mismatched slices): quarantine it.
        case badInput
        /// The system failed (disk full, I/O error, out of memory): retry later.
        case transient
        /// The settings cannot work (missing model, bad value): fix the profile.
        case configuration
    }

    public let errorClass: Class
    /// Names the file, what was wrong and what to do.
    public let message: String

    public init(_ errorClass: Class, _ message: String) {
        self.errorClass = errorClass
        self.message = message
    }

    public var description: String { message }
}

/// The processing shared by `focusd fuse`, the daemon and `focusd reprocess`: read a stack,
/// align it if asked, fuse it, and write the images atomically (temporary file, fsync, rename).
/// Inputs are only read, never modified.
public struct FusionPipeline: Sendable {
    public let settings: FusionSettings
    /// Folder against which a relative model path is resolved (the profile's folder).
    public let baseDirectory: String?
    /// A memory limit below the cgroup's and the machine's (the daemon's `memory_limit_mib`), or nil.
    public var memoryLimitBytes: Int? = nil
    /// Called after every slice decode with the progress so far (from the fusing thread).
    public var progress: (@Sendable (PipelineProgress) -> Void)? = nil
    /// Where the model is read and hashed: once per process and version of the file.
    public var modelStore: ModelStore = .shared

    public init(settings: FusionSettings, baseDirectory: String? = nil) {
        self.settings = settings
        self.baseDirectory = baseDirectory
    }

    /// Runs the pipeline writing to explicit paths. The images appear together (all renamed into
    /// place after all were written) or, on error, not at all.
    public func run(inputs: [String], outputs: OutputPaths, clock: () -> Double) throws(PipelineError) -> PipelineReport {
        let (report, staged) = try runStaged(inputs: inputs, outputs: outputs, clock: clock)
        do {
            try staged.commit()
        } catch {
            throw PipelineError(error.isTransient ? .transient : .configuration, "cannot move the outputs into place: \(error)")
        }
        return report
    }

    /// Runs the pipeline and leaves the images staged: the report names their final paths (with the
    /// sizes and hashes of what was written); nothing is visible under those names until the set is
    /// committed. On error, whatever was staged is removed.
    public func runStaged(inputs: [String], outputs: OutputPaths, clock: () -> Double) throws(PipelineError) -> (PipelineReport, OutputSet) {
        var staged = OutputSet()
        do {
            let report = try Compute.withThreads(settings.threadCount) {
                try runUnclassified(inputs: inputs, outputs: outputs, staged: &staged, clock: clock)
            }
            return (report, staged)
        } catch let error as PipelineError {
            staged.discard()
            throw error
        } catch {
            staged.discard()
            throw Self.classify(error)
        }
    }

    /// The focus breathing this pipeline's alignment fits on the stack at `inputs`
    /// (`align_fit_breathing`), aligning it exactly as fusing it would (the same loading, channels
    /// and options) but fusing nothing; nil when the settings do not fit the breathing or the stack
    /// has one slice. For calibrating an objective over several stacks (`BreathingCalibration`).
    public func fittedBreathing(inputs: [String]) throws(PipelineError) -> Double? {
        guard settings.alignment.fitBreathing, settings.alignment.model != .none else { return nil }
        do {
            return try Compute.withThreads(settings.threadCount) { () throws -> Double? in
                let (files, _) = try Self.inputFiles(inputs)
                let stacks = try StackLoader().open(inputs.count == 1 ? files : inputs)
                try checkMemory(stacks, inputs: inputs)
                guard let first = stacks.first else { return nil }
                let source: any SliceSource = fusesJointly(stacks) ? ChannelStack(stacks) : first
                guard source.count > 1 else { return nil }
                return try Aligner(options: settings.alignment).align(source).rendering?.breathing
            }
        } catch let error as PipelineError {
            throw error
        } catch {
            throw Self.classify(error)
        }
    }

    private func runUnclassified(inputs: [String], outputs: OutputPaths, staged: inout OutputSet, clock: () -> Double) throws -> PipelineReport {
        var stages: [String: Double] = [:]
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let start = clock()
            defer { stages[stage, default: 0] += clock() - start }
            return try body()
        }

        let (files, skipped) = try Self.inputFiles(inputs)
        var warnings = skipped.map { "\($0): skipped, focusd wrote it (an earlier output, not a slice); move it out of the stack folder" }
        // A folder is read as the files it lists, so focusd's own outputs stay out of the stack.
        let stacks = try timed("load") { try StackLoader().open(inputs.count == 1 ? files : inputs) }
        try checkMemory(stacks, inputs: inputs)
        let inputRecords = try timed("hash") { try files.map { try FileRecord.of($0) } }
        let engineBundle = try settings.makeEngine(baseDirectory: baseDirectory, models: modelStore)

        var outputRecords: [FileRecord] = []
        var alignments: [AlignmentResult] = []
        var conversions: [OutputConversion] = []
        var sliceNames: [String] = []
        var fusedGeometry: SliceGeometry?
        let joint = fusesJointly(stacks)
        let units: [(channels: [Int], source: any SliceSource)] = joint
            ? [(Array(stacks.indices), ChannelStack(stacks))]
            : stacks.enumerated().map { ([$0.offset], $0.element) }
        // What each unit fused, written once every unit is done: one multi-channel image (and one
        // depth and confidence map per decision) unless `split_channels` asks for a file per channel.
        var fusedPlanes: [(channel: Int, image: Image, format: SampleFormat, metadata: ImageMetadata, inputFormat: SampleFormat)] = []
        var maps: [(channel: Int, depth: Image, confidence: Image, depthMetadata: ImageMetadata, mapMetadata: ImageMetadata)] = []
        for (unitIndex, unit) in units.enumerated() {
            let original = unit.source
            var stack: any SliceSource = original
            if settings.alignment.model != .none && original.count > 1 {
                let alignment = try timed("align") { try Aligner(options: settings.alignment).align(original) }
                alignments.append(alignment)
                warnings += alignment.warnings
                stack = AlignedStack(original, alignment: alignment)
            }
            if unitIndex == 0 { sliceNames = (0..<stack.count).map { stack.sliceName(at: $0) } }
            if let progress {
                let counter = DecodeCounter()
                let expected = stack.count * settings.expectedPasses * units.count
                let before = unitIndex * stack.count * settings.expectedPasses
                stack = CountingSlices(base: stack) {
                    let n = counter.increment()
                    progress(PipelineProgress(decoded: min(before + n, expected - 1), expected: expected))
                }
            }
            let result = try timed("fuse") { try engineBundle.engine.fuse(stack) }
            let mapMetadata = ImageMetadata(xResolution: stack.metadata.xResolution,
                                            yResolution: stack.metadata.yResolution,
                                            resolutionUnit: stack.metadata.resolutionUnit)
            // The depth map stores slice indices; where the stack records its z step, an ImageJ
            // value calibration makes Fiji show them as distance from the first slice.
            var depthMetadata = mapMetadata
            if let spacing = ZSpacing(description: stack.metadata.imageDescription) {
                depthMetadata.imageDescription = spacing.depthMapDescription
            }
            let format = outputFormat(for: stack.geometry.format)
            for (position, channel) in unit.channels.enumerated() {
                let image = unit.channels.count == 1 ? result.fused : result.fused.channel(position)
                fusedPlanes.append((channel, image, format, stack.metadata, stack.geometry.format))
            }
            maps.append((unit.channels[0], result.depth, result.confidence, depthMetadata, mapMetadata))
            fusedGeometry = SliceGeometry(width: result.fused.width, height: result.fused.height,
                                          channels: result.fused.channels, format: stack.geometry.format)
        }
        let software = "focusd \(FocusdBuild.version)"
        func stage(_ pages: [Image], _ format: SampleFormat, _ metadata: ImageMetadata, as path: String) throws {
            let temporary = try TIFFWriter.writeStaged(pages, format: format, metadata: metadata, for: path, software: software)
            staged.add(temporary: temporary, final: path)
            var record = try FileRecord.of(temporary)
            record.path = path
            outputRecords.append(record)
        }
        // One file holds every channel when they are single-plane and share a format.
        let oneImage = stacks.count > 1 && !settings.splitChannels
            && fusedPlanes.allSatisfy { $0.image.channels == 1 && $0.format == fusedPlanes[0].format }
        try timed("write") {
            if oneImage || stacks.count == 1 {
                var pages: [Image] = []
                for plane in fusedPlanes {
                    let (image, conversion) = Self.convert(plane.image, from: plane.inputFormat, to: plane.format,
                                                           window: settings.outputWindow, path: outputs.fused)
                    if let conversion { conversions.append(conversion) }
                    pages.append(image)
                }
                // One page per channel (a single stack: one page, grey or RGB). The channel stacks carry
                // single-channel descriptions; the multi-channel image takes the file's own (ImageJ or
                // OME: channel names, colours and calibration), rewritten for C planes at one Z.
                var metadata = fusedPlanes[0].metadata
                if oneImage, inputs.count == 1, let description = StackLoader.fileDescription(inputs[0]) {
                    metadata.imageDescription = description
                }
                try stage(pages, fusedPlanes[0].format, metadata, as: outputs.fused)
                if let depth = outputs.depth { try stage(maps.map(\.depth), .float32, maps[0].depthMetadata, as: depth) }
                if let confidence = outputs.confidence { try stage(maps.map(\.confidence), .float32, maps[0].mapMetadata, as: confidence) }
            } else {
                for plane in fusedPlanes {
                    let paths = outputs.forChannel(plane.channel, of: stacks.count)
                    let (image, conversion) = Self.convert(plane.image, from: plane.inputFormat, to: plane.format,
                                                           window: settings.outputWindow, path: paths.fused)
                    if let conversion { conversions.append(conversion) }
                    try stage([image], plane.format, plane.metadata, as: paths.fused)
                }
                // One depth and confidence map per decision: per channel, or once for joined channels.
                for map in maps {
                    let mapPaths = joint ? outputs : outputs.forChannel(map.channel, of: stacks.count)
                    if let depth = mapPaths.depth { try stage([map.depth], .float32, map.depthMetadata, as: depth) }
                    if let confidence = mapPaths.confidence { try stage([map.confidence], .float32, map.mapMetadata, as: confidence) }
                }
            }
        }
        if oneImage, let g = fusedGeometry { fusedGeometry = SliceGeometry(width: g.width, height: g.height, channels: fusedPlanes.count, format: g.format) }
        let geometry = fusedGeometry ?? stacks[0].geometry
        return PipelineReport(
            inputs: inputRecords, sliceNames: sliceNames, outputs: outputRecords, stageSeconds: stages,
            alignment: alignments, model: engineBundle.model, settings: settings,
            width: geometry.width, height: geometry.height, channels: geometry.channels,
            sliceCount: stacks[0].count, format: geometry.format.rawValue, outputConversions: conversions,
            warnings: warnings + Self.unusedWindowWarning(settings, conversions: conversions, format: geometry.format))
    }

    /// Whether the channel stacks are fused as one: focus decided on one channel applies to every channel.
    func fusesJointly(_ stacks: [any SliceSource]) -> Bool {
        settings.composition == .selection && settings.selection.decisionChannel != .luminance && ChannelStack.canJoin(stacks)
    }

    /// Refuses, before any pixel is decoded, a stack whose fusion would need more memory than the
    /// process may have (bad input: it will never fit here), or than is free now (transient: retried).
    func checkMemory(_ stacks: [any SliceSource], inputs: [String]) throws(PipelineError) {
        guard let g = stacks.first?.geometry else { return }
        let channels = fusesJointly(stacks) ? stacks.reduce(0) { $0 + $1.geometry.channels } : g.channels
        let needed = settings.estimatedPeakBytes(width: g.width, height: g.height, channels: channels)
        let limit = MemoryBudget.limit(configured: memoryLimitBytes)
        let name = inputs.count == 1 ? inputs[0] : "\(inputs[0]) (and \(inputs.count - 1) more)"
        let what = "fusing this \(g.width)×\(g.height) stack with \(channels) channel(s) (engine \(settings.engine.rawValue))"
        if needed > limit.bytes {
            throw PipelineError(.badInput, "\(name): \(what) needs about \(byteCount(needed)), more than the \(byteCount(limit.bytes)) allowed by \(limit.source); raise that limit, fuse it with a lighter profile (reference needs about a third of default's memory) or crop the stack")
        }
        if let available = MemoryBudget.availableBytes(), needed - MemoryBudget.residentBytes() > available {
            throw PipelineError(.transient, "\(name): \(what) needs about \(byteCount(needed)) but only \(byteCount(available)) is free now; retried when memory is freed")
        }
    }

    /// An explicit window that changed nothing (the stack already has the output format) is said, not dropped.
    static func unusedWindowWarning(_ settings: FusionSettings, conversions: [OutputConversion], format: SampleFormat) -> [String] {
        guard let window = settings.outputWindow, conversions.isEmpty else { return [] }
        return ["output window \(window) not used: the stack is already \(format.rawValue), the output format; values are written unchanged"]
    }

    private func outputFormat(for input: SampleFormat) -> SampleFormat {
        switch settings.outputFormat {
        case .same: input
        case .uint8: .uint8
        case .uint16: .uint16
        case .float32: .float32
        }
    }

    /// The files behind the inputs, in order: a folder contributes its slices (`StackLoader`'s
    /// order) except TIFFs focusd wrote (`skipped`: an earlier fused image or map left beside the slices).
    /// - Throws: `PipelineError` (`.badInput`) when an input does not exist or a folder holds only focusd's outputs.
    static func inputFiles(_ inputs: [String]) throws -> (files: [String], skipped: [String]) {
        var files: [String] = []
        var skipped: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw PipelineError(.badInput, "\(input): not found; check the path (was the input moved or deleted?)")
            }
            guard isDirectory.boolValue else {
                files.append(input)
                continue
            }
            let slices = try StackLoader().sliceFiles(inFolder: input)
            let outputs = slices.filter(ImageFile.isWrittenByFocusd)
            guard outputs.count < slices.count else {
                throw PipelineError(.badInput, "\(input): holds only images focusd wrote (\(outputs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))), no slices; give the folder of the stack's slices")
            }
            files += slices.filter { !outputs.contains($0) }
            skipped += outputs
        }
        return (files, skipped)
    }

    static func classify(_ error: any Error) -> PipelineError {
        switch error {
        case let e as ImagingError:
            switch e.kind {
            case .writeFailed: return PipelineError(.transient, e.description)
            default: return PipelineError(.badInput, e.description)
            }
        case let e as SettingsError:
            return PipelineError(.configuration, e.description)
        case let e as CocoaError where e.code == .fileWriteOutOfSpace || e.code == .fileWriteVolumeReadOnly:
            return PipelineError(.transient, e.localizedDescription)
        case let e as RegistrationError:
            return PipelineError(.badInput, e.description)
        case let e as FusionError:
            return PipelineError(.badInput, e.description)
        case let e as ChecksumError:
            return PipelineError(.transient, e.description)
        default:
            return PipelineError(.transient, String(describing: error))
        }
    }
}

/// File-name extensions focusd reads as images.
enum ImageFileKind {
    static let extensions: Set<String> = ["tif", "tiff", "png", "jpg", "jpeg"]
    static func isImageName(_ name: String) -> Bool {
        extensions.contains((name as NSString).pathExtension.lowercased())
    }
}
