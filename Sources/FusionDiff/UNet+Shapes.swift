import NN

/// One convolution of the U-Net at a given input size: what it computes and the GEMM it maps to.
public struct UNetLayerShape: Hashable, Sendable {
    public enum Kind: String, Sendable { case convolution, transposed }
    /// Official parameter name without `.weight`.
    public let name: String
    public let kind: Kind
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    /// Input height and width (per batch item).
    public let height: Int
    public let width: Int

    /// The equivalent GEMM `[m, k] · [k, n]` of one batch item: for a convolution
    /// `m = Cout, k = Cin·kh·kw, n = OH·OW`; for the transposed convolution `m = Cout·9, k = Cin, n = H·W`.
    public var gemm: (m: Int, n: Int, k: Int) {
        switch kind {
        case .convolution:
            let oh = (height + 2 * padding - kernel) / stride + 1, ow = (width + 2 * padding - kernel) / stride + 1
            return (outChannels, oh * ow, inChannels * kernel * kernel)
        case .transposed:
            return (outChannels * kernel * kernel, height * width, inChannels)
        }
    }

    /// Multiply-adds of the direct (or transposed) convolution per batch item (= m·n·k).
    public var multiplyAdds: Int { let g = gemm; return g.m * g.n * g.k }

    /// The shape without its name (for de-duplicating layers that compute the same thing).
    public var geometry: [Int] { [kind == .convolution ? 0 : 1, inChannels, outChannels, kernel, stride, padding, height, width] }
}

extension UNet {
    /// Every convolution and transposed convolution of one forward pass at `height × width`, in order.
    public func layerShapes(height: Int, width: Int) -> [UNetLayerShape] {
        var shapes: [UNetLayerShape] = []
        var h = height, w = width
        var skipSizes = [Int: (Int, Int)]()
        func add(_ conv: Conv2D, _ offset: Int) {
            let name = parameters.entries.first { $0.offset == offset }.map { String($0.name.dropLast(".weight".count)) } ?? "?"
            shapes.append(UNetLayerShape(
                name: name, kind: .convolution, inChannels: conv.inChannels, outChannels: conv.outChannels,
                kernel: conv.kernelHeight, stride: conv.stride, padding: conv.padding, height: h, width: w))
        }
        for stage in layout.stages {
            switch stage {
            case .convolution(let layer):
                add(layer.conv, layer.weight)
                (h, w) = layer.conv.outputSize(height: h, width: w)
            case .resBlock(let block):
                add(block.conv1.conv, block.conv1.weight)
                add(block.conv2.conv, block.conv2.weight)
                if let s = block.shortcut { add(s.conv, s.weight) }
            case .upsample(let layer):
                let name = parameters.entries.first { $0.offset == layer.weight }.map { String($0.name.dropLast(".weight".count)) } ?? "?"
                shapes.append(UNetLayerShape(
                    name: name, kind: .transposed, inChannels: layer.conv.inChannels, outChannels: layer.conv.outChannels,
                    kernel: 3, stride: 2, padding: 1, height: h, width: w))
                h *= 2
                w *= 2
            case .saveSkip(let i): skipSizes[i] = (h, w)
            case .addSkip(let i): (h, w) = skipSizes[i]!
            }
        }
        add(layout.outConv.conv, layout.outConv.weight)
        return shapes
    }
}
