import Foundation
import NN

/// Transformed Winograd weights kept between inference passes, so a forward does not redo
/// `G g Gᵀ` for every 3×3 layer (on the deep 128-channel layers that costs about half as much as
/// the layer's products).
///
/// Each entry keeps a copy of the raw weights it was made from and is remade when they differ
/// (training, a load or any other write to the parameters), so it can never serve stale weights;
/// the check is one comparison of the raw weights. Kept only while all of the network's transformed
/// weights fit in ``budget`` floats (4 × the 3×3 weights: small models, e.g. width 16); larger
/// networks transform on every pass as before and hold no extra memory.
final class WinogradWeightCache {
    /// Most floats of transformed weights kept (64 MiB).
    static let budget = 16 << 20

    private struct Entry {
        let raw: UnsafeMutablePointer<Float>
        let transformed: UnsafeMutablePointer<Float>
    }

    private var entries: [Int: Entry] = [:]
    /// Whether the whole network's transformed weights fit the budget (decided on first use).
    private var enabled: Bool?

    deinit {
        for entry in entries.values {
            entry.raw.deallocate()
            entry.transformed.deallocate()
        }
    }

    /// Bytes held (raw copies and transformed weights).
    var bytes: Int { floats * MemoryLayout<Float>.size }
    private var floats = 0

    /// The transformed weights of `layer` for its current parameters, or nil when its forward is not
    /// Winograd or the network is over the budget.
    func weights(_ layer: ConvLayer, parameters: ParameterBuffer, layout: UNetLayout) -> UnsafePointer<Float>? {
        guard layer.conv.usesWinograd else { return nil }
        if enabled == nil { enabled = Self.transformedFloats(layout) <= Self.budget }
        guard enabled == true else { return nil }
        let weight = parameters.value(layer.weight)
        let count = layer.conv.weightCount
        if let entry = entries[layer.weight] {
            if memcmp(entry.raw, weight, count * MemoryLayout<Float>.size) != 0 {
                entry.raw.update(from: weight, count: count)
                layer.conv.transformWinogradWeights(weight, into: entry.transformed)
            }
            return UnsafePointer(entry.transformed)
        }
        let entry = Entry(raw: .allocate(capacity: count), transformed: .allocate(capacity: layer.conv.winogradWeightCount))
        entry.raw.initialize(from: weight, count: count)
        layer.conv.transformWinogradWeights(weight, into: entry.transformed)
        entries[layer.weight] = entry
        floats += count + layer.conv.winogradWeightCount
        return UnsafePointer(entry.transformed)
    }

    /// Floats of transformed weights of every Winograd layer of the network.
    private static func transformedFloats(_ layout: UNetLayout) -> Int {
        var total = 0
        func add(_ layer: ConvLayer) { if layer.conv.usesWinograd { total += layer.conv.winogradWeightCount } }
        for stage in layout.stages {
            switch stage {
            case .convolution(let layer): add(layer)
            case .resBlock(let block): add(block.conv1); add(block.conv2)
            case .upsample, .saveSkip, .addSkip: break
            }
        }
        add(layout.outConv)
        return total
    }
}
