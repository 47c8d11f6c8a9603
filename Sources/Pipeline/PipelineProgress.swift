import Foundation
import Imaging

/// Progress of one pipeline run, for a command's progress bar: slices decoded so far against the
/// decodes the engine is expected to make (each pass of the engine reads every slice once), per unit.
public struct PipelineProgress: Sendable {
    /// Slice decodes so far, over every channel unit.
    public var decoded: Int
    /// Slice decodes expected in all (an estimate: slices × passes × units).
    public var expected: Int
}

/// A stack that reports every slice decode: the engine's passes over the stack become progress.
struct CountingSlices: SliceSource {
    let base: any SliceSource
    let onDecode: @Sendable () -> Void
    var geometry: SliceGeometry { base.geometry }
    var count: Int { base.count }
    var metadata: ImageMetadata { base.metadata }
    func sliceName(at index: Int) -> String { base.sliceName(at: index) }
    func slice(at index: Int) throws -> Image {
        let image = try base.slice(at: index)
        onDecode()
        return image
    }
}

extension FusionSettings {
    /// How many times the engine reads every slice (measured by counting decodes: see the test
    /// `passesMatchTheDecodesCounted`).
    var expectedPasses: Int {
        switch (engine, composition) {
        case (.reference, _), (_, .pairwise):
            // The stack-range pass and the fusion.
            return 2
        case (_, .selection):
            // Decision channel, evidence pass and composition; with the generator also the stack-range
            // pass and the generator pass.
            return selection.decision == .evidence ? 3 : 5
        }
    }
}

/// A thread-safe counter (engines may decode slices from several threads).
final class DecodeCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { value += 1; return value } }
}
