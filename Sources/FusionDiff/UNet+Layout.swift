import NN

// The U-Net as a flat list of stages, built once from the configuration (ARCHITECTURE.md, "FusionDiff"
// and "Model configuration keys"). Inference and training walk the
// same list: forward in order, backward in reverse. Each layer keeps the offsets of its weight
// and bias in the model's one flat ParameterBuffer; names are the official PyTorch module paths.

/// A convolution layer and where its parameters live.
struct ConvLayer {
    let conv: Conv2D
    let weight: Int
    let bias: Int
}

/// A transposed convolution (k3, s2, p1, output padding 1) and its parameters.
struct UpsampleLayer {
    let conv: ConvTranspose2D
    let weight: Int
    let bias: Int
}

/// A GroupNorm and its affine parameters.
struct NormLayer {
    let norm: GroupNorm
    let weight: Int
    let bias: Int
}

/// A linear layer and its parameters.
struct LinearLayer {
    let linear: Linear
    let weight: Int
    let bias: Int
}

/// ResBlock(in, out): GN → SiLU → conv3×3; + Linear(SiLU(emb)); GN → SiLU → Dropout → conv3×3;
/// + shortcut (1×1 conv when in ≠ out). Names `conv1.0`, `conv1.2`, `time_emb.1`, `conv2.0`,
/// `conv2.3`, `shortcut`.
struct ResBlockLayer {
    let inChannels: Int
    let outChannels: Int
    let norm1: NormLayer
    let conv1: ConvLayer
    let time: LinearLayer
    let norm2: NormLayer
    let conv2: ConvLayer
    let shortcut: ConvLayer?
}

/// One step of the network after the time MLP.
enum UNetStage {
    /// A plain convolution: `inBlock` or a stride-2 downsample (`downBlock.N.0.op`).
    case convolution(ConvLayer)
    case resBlock(ResBlockLayer)
    /// `upBlock.N.0.op`: doubles height and width.
    case upsample(UpsampleLayer)
    /// Keeps the current activation as skip `index`.
    case saveSkip(Int)
    /// Crops the current activation to skip `index`'s size (top left) and adds the skip.
    case addSkip(Int)
}

/// The whole network's layers.
struct UNetLayout {
    let timeLinear1: LinearLayer   // time_embed.0
    let timeLinear2: LinearLayer   // time_embed.2
    let stages: [UNetStage]
    let outNorm: NormLayer         // outBlock.0
    let outConv: ConvLayer         // outBlock.2
    let skipCount: Int

    /// Declares every parameter in `parameters` (official names, PyTorch order) and builds the stages.
    init(configuration c: FusionDiffConfiguration, parameters: ParameterBuffer) {
        let embed = c.timeEmbedDim
        func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int) -> LinearLayer {
            let l = Linear(inFeatures: inFeatures, outFeatures: outFeatures)
            let w = parameters.declare(name + ".weight", shape: l.weightShape)
            let b = parameters.declare(name + ".bias", shape: [outFeatures])
            return LinearLayer(linear: l, weight: w, bias: b)
        }
        func conv(_ name: String, _ inC: Int, _ outC: Int, kernel: Int, stride: Int = 1) -> ConvLayer {
            let k = Conv2D(inChannels: inC, outChannels: outC, kernelSize: kernel, stride: stride, padding: kernel / 2)
            let w = parameters.declare(name + ".weight", shape: k.weightShape)
            let b = parameters.declare(name + ".bias", shape: [outC])
            return ConvLayer(conv: k, weight: w, bias: b)
        }
        func norm(_ name: String, _ channels: Int) -> NormLayer {
            let g = GroupNorm(channels: channels, groups: c.groups)
            let w = parameters.declare(name + ".weight", shape: [channels])
            let b = parameters.declare(name + ".bias", shape: [channels])
            return NormLayer(norm: g, weight: w, bias: b)
        }
        func resBlock(_ prefix: String, _ inC: Int, _ outC: Int) -> UNetStage {
            let n1 = norm(prefix + ".conv1.0", inC)
            let c1 = conv(prefix + ".conv1.2", inC, outC, kernel: 3)
            let t = linear(prefix + ".time_emb.1", embed, outC)
            let n2 = norm(prefix + ".conv2.0", outC)
            let c2 = conv(prefix + ".conv2.3", outC, outC, kernel: 3)
            let s = inC != outC ? conv(prefix + ".shortcut", inC, outC, kernel: 1) : nil
            return .resBlock(ResBlockLayer(
                inChannels: inC, outChannels: outC, norm1: n1, conv1: c1, time: t, norm2: n2, conv2: c2, shortcut: s))
        }

        timeLinear1 = linear("time_embed.0", c.timeChannels, embed)
        timeLinear2 = linear("time_embed.2", embed, embed)
        var stages: [UNetStage] = []
        stages.append(.convolution(conv("inBlock", c.inputChannels, c.width, kernel: 3)))
        let levels = c.mults.count
        var channels = c.width
        var index = 0
        for (level, mult) in c.mults.enumerated() {
            for _ in 0..<c.resBlocks {
                stages.append(resBlock("downBlock.\(index).0", channels, c.width * mult))
                channels = c.width * mult
                index += 1
            }
            if level < levels - 1 {
                stages.append(.convolution(conv("downBlock.\(index).0.op", channels, channels, kernel: 3, stride: 2)))
                stages.append(.saveSkip(level))
                index += 1
            }
        }
        stages.append(.saveSkip(levels - 1))
        for i in 0..<2 { stages.append(resBlock("middleBlock.\(i).0", channels, channels)) }
        stages.append(.addSkip(levels - 1))
        index = 0
        for level in 0..<levels {
            let outC = level < levels - 1 ? c.width * c.mults[levels - 2 - level] : c.width
            for _ in 0..<c.resBlocks {
                stages.append(resBlock("upBlock.\(index).0", channels, outC))
                channels = outC
                index += 1
            }
            if level > 0 {
                let up = ConvTranspose2D(inChannels: channels, outChannels: channels)
                let w = parameters.declare("upBlock.\(index).0.op.weight", shape: up.weightShape)
                let b = parameters.declare("upBlock.\(index).0.op.bias", shape: [channels])
                stages.append(.upsample(UpsampleLayer(conv: up, weight: w, bias: b)))
                index += 1
            }
            if level < levels - 1 { stages.append(.addSkip(levels - 2 - level)) }
        }
        outNorm = norm("outBlock.0", channels)
        outConv = conv("outBlock.2", channels, c.outputChannels, kernel: 3)
        self.stages = stages
        skipCount = levels
    }

    /// Multiply-adds of one forward pass (convolutions and transposed convolutions) at `height × width`.
    func multiplyAdds(batch: Int, height: Int, width: Int) -> Int {
        var total = 0
        var h = height, w = width
        var skipSizes = [Int: (Int, Int)]()
        for stage in stages {
            switch stage {
            case .convolution(let layer):
                total += layer.conv.multiplyAdds(batch: batch, height: h, width: w)
                (h, w) = layer.conv.outputSize(height: h, width: w)
            case .resBlock(let block):
                total += block.conv1.conv.multiplyAdds(batch: batch, height: h, width: w)
                total += block.conv2.conv.multiplyAdds(batch: batch, height: h, width: w)
                if let s = block.shortcut { total += s.conv.multiplyAdds(batch: batch, height: h, width: w) }
            case .upsample(let layer):
                total += layer.conv.multiplyAdds(batch: batch, height: h, width: w)
                h *= 2
                w *= 2
            case .saveSkip(let i):
                skipSizes[i] = (h, w)
            case .addSkip(let i):
                (h, w) = skipSizes[i]!
            }
        }
        total += outConv.conv.multiplyAdds(batch: batch, height: h, width: w)
        return total
    }
}
