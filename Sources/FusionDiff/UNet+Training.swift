import NN
import SeededRandom

// Training: a forward pass that records, per stage, what its backward needs, and a backward pass
// that walks the same stage list in reverse. Explicit per-block forward/backward instead of a
// general tape: the network is a fixed list of five stage kinds, so each kind's backward is
// written once beside its forward and the record is just the arrays it reads. Recorded arrays are
// Swift arrays moved from one stage to the next (copy-on-write, so a stage's output and the next
// stage's recorded input share storage).

/// What one stage recorded in the training forward pass.
enum StageRecord {
    case convolution(input: [Float], height: Int, width: Int)
    case resBlock(ResBlockRecord)
    case upsample(input: [Float], height: Int, width: Int)
    case saveSkip
    /// `croppedFrom` is the activation's size before the top-left crop to the skip's size.
    case addSkip(croppedFrom: (height: Int, width: Int), to: (height: Int, width: Int), channels: Int)
}

/// A ResBlock's recorded tensors: its input x, t1 = SiLU(GN1(x)), h1 = conv1(t1) + time shift,
/// t2 = mask·SiLU(GN2(h1)), the dropout mask and both GroupNorms' statistics.
struct ResBlockRecord {
    let height: Int
    let width: Int
    let input: [Float]
    let mean1: [Float], rstd1: [Float]
    let activated1: [Float]
    let hidden: [Float]
    let mean2: [Float], rstd2: [Float]
    let activated2: [Float]
    let mask: [Float]?
}

/// Everything a training forward pass keeps for its backward pass.
struct TrainingTape {
    let batch: Int
    let height: Int
    let width: Int
    let sinusoid: [Float]
    let timeHidden: [Float]          // before SiLU
    let timeHiddenActivated: [Float] // after SiLU
    let embedding: [Float]           // the time MLP's output
    let embeddingActivated: [Float]  // SiLU of it, read by every ResBlock
    let records: [StageRecord]
    let finalActivation: [Float]     // input of outBlock.0
    let outMean: [Float], outRstd: [Float]
    let outActivated: [Float]        // input of outBlock.2
}

extension UNet {
    /// Training forward pass: dropout on (masks from `dropoutSeed`); records what
    /// ``backward(outputGradient:)`` needs. `input` `[N, inputChannels, H, W]`.
    public func trainingForward(_ input: Tensor, timesteps: [Int], dropoutSeed: UInt64) -> Tensor {
        let (n, c, height, width) = input.nchw
        precondition(c == configuration.inputChannels, "U-Net expects \(configuration.inputChannels) input channels, got \(c)")
        precondition(timesteps.count == n, "one timestep per batch item")
        precondition(configuration.levels == 1 || (height % 2 == 0 && width % 2 == 0), "height and width must be even")
        let p = parameters
        let e = configuration.timeEmbedDim
        var generator = SplitMix64(seed: dropoutSeed)

        // Time MLP.
        var sinusoid = [Float](repeating: 0, count: n * configuration.timeChannels)
        sinusoid.withUnsafeMutableBufferPointer {
            SinusoidalEmbedding.forward(timesteps: timesteps, channels: configuration.timeChannels, output: $0.baseAddress!)
        }
        let timeHidden = run(n * e) { out in
            layout.timeLinear1.linear.forward(input: sinusoid, batch: n, weight: p.value(layout.timeLinear1.weight),
                                              bias: p.value(layout.timeLinear1.bias), output: out)
        }
        let timeHiddenActivated = run(n * e) { SiLU.forward(timeHidden, $0, count: n * e) }
        let embedding = run(n * e) { out in
            layout.timeLinear2.linear.forward(input: timeHiddenActivated, batch: n, weight: p.value(layout.timeLinear2.weight),
                                              bias: p.value(layout.timeLinear2.bias), output: out)
        }
        let embeddingActivated = run(n * e) { SiLU.forward(embedding, $0, count: n * e) }

        var current = input.values
        var channels = c
        var h = height, w = width
        var skips: [Int: (values: [Float], height: Int, width: Int)] = [:]
        var records: [StageRecord] = []
        records.reserveCapacity(layout.stages.count)
        for stage in layout.stages {
            switch stage {
            case .convolution(let layer):
                let (oh, ow) = layer.conv.outputSize(height: h, width: w)
                let x = current
                current = run(n * layer.conv.outChannels * oh * ow) { out in
                    layer.conv.forward(input: x, batch: n, height: h, width: w, weight: p.value(layer.weight),
                                       bias: p.value(layer.bias), output: out, workspace: columns)
                }
                records.append(.convolution(input: x, height: h, width: w))
                (h, w) = (oh, ow)
                channels = layer.conv.outChannels
            case .resBlock(let block):
                let record = resBlockForward(block, input: current, batch: n, height: h, width: w,
                                             embeddingActivated: embeddingActivated, generator: &generator)
                current = record.output
                records.append(.resBlock(record.record))
                channels = block.outChannels
            case .upsample(let layer):
                let x = current
                current = run(n * channels * 4 * h * w) { out in
                    layer.conv.forward(input: x, batch: n, height: h, width: w, weight: p.value(layer.weight),
                                       bias: p.value(layer.bias), output: out, workspace: columns)
                }
                records.append(.upsample(input: x, height: h, width: w))
                h *= 2
                w *= 2
            case .saveSkip(let i):
                skips[i] = (current, h, w)
                records.append(.saveSkip)
            case .addSkip(let i):
                let skip = skips[i]!
                if skip.height != h || skip.width != w {
                    let x = current
                    current = run(n * channels * skip.height * skip.width) { out in
                        Elementwise.crop(x, batchChannels: n * channels, height: h, width: w,
                                         toHeight: skip.height, width: skip.width, output: out)
                    }
                }
                current.withUnsafeMutableBufferPointer { Elementwise.accumulate(skip.values, into: $0.baseAddress!, count: $0.count) }
                records.append(.addSkip(croppedFrom: (h, w), to: (skip.height, skip.width), channels: channels))
                (h, w) = (skip.height, skip.width)
            }
        }
        let groups = layout.outNorm.norm.groups
        var outMean = [Float](repeating: 0, count: n * groups), outRstd = outMean
        let finalActivation = current
        let outActivated = run(current.count) { out in
            outMean.withUnsafeMutableBufferPointer { mean in
                outRstd.withUnsafeMutableBufferPointer { rstd in
                    layout.outNorm.norm.forward(input: finalActivation, batch: n, plane: h * w, gamma: p.value(layout.outNorm.weight),
                                                beta: p.value(layout.outNorm.bias), output: out, silu: true,
                                                mean: mean.baseAddress!, rstd: rstd.baseAddress!)
                }
            }
        }
        let output = run(n * configuration.outputChannels * h * w) { out in
            layout.outConv.conv.forward(input: outActivated, batch: n, height: h, width: w, weight: p.value(layout.outConv.weight),
                                        bias: p.value(layout.outConv.bias), output: out, workspace: columns)
        }
        tape = TrainingTape(
            batch: n, height: height, width: width, sinusoid: sinusoid, timeHidden: timeHidden,
            timeHiddenActivated: timeHiddenActivated, embedding: embedding, embeddingActivated: embeddingActivated,
            records: records, finalActivation: finalActivation, outMean: outMean, outRstd: outRstd,
            outActivated: outActivated)
        return Tensor(shape: [n, configuration.outputChannels, height, width], values: output)
    }

    private func resBlockForward(
        _ block: ResBlockLayer, input x: [Float], batch n: Int, height h: Int, width w: Int,
        embeddingActivated: [Float], generator: inout SplitMix64
    ) -> (output: [Float], record: ResBlockRecord) {
        let p = parameters
        let plane = h * w
        let groups1 = block.norm1.norm.groups, groups2 = block.norm2.norm.groups
        var mean1 = [Float](repeating: 0, count: n * groups1), rstd1 = mean1
        var mean2 = [Float](repeating: 0, count: n * groups2), rstd2 = mean2
        let activated1 = run(x.count) { out in
            mean1.withUnsafeMutableBufferPointer { m in
                rstd1.withUnsafeMutableBufferPointer { r in
                    block.norm1.norm.forward(input: x, batch: n, plane: plane, gamma: p.value(block.norm1.weight),
                                             beta: p.value(block.norm1.bias), output: out, silu: true,
                                             mean: m.baseAddress!, rstd: r.baseAddress!)
                }
            }
        }
        let shift = run(n * block.outChannels) { out in
            block.time.linear.forward(input: embeddingActivated, batch: n, weight: p.value(block.time.weight),
                                      bias: p.value(block.time.bias), output: out)
        }
        let count = n * block.outChannels * plane
        let hidden = run(count) { out in
            block.conv1.conv.forward(input: activated1, batch: n, height: h, width: w, weight: p.value(block.conv1.weight),
                                     bias: p.value(block.conv1.bias), shift: shift, output: out, workspace: columns)
        }
        var activated2 = run(count) { out in
            mean2.withUnsafeMutableBufferPointer { m in
                rstd2.withUnsafeMutableBufferPointer { r in
                    block.norm2.norm.forward(input: hidden, batch: n, plane: plane, gamma: p.value(block.norm2.weight),
                                             beta: p.value(block.norm2.bias), output: out, silu: true,
                                             mean: m.baseAddress!, rstd: r.baseAddress!)
                }
            }
        }
        var mask: [Float]? = nil
        if configuration.dropout > 0 {
            var m = [Float](repeating: 0, count: count)
            activated2.withUnsafeMutableBufferPointer { a in
                m.withUnsafeMutableBufferPointer { mp in
                    Dropout.forward(a.baseAddress!, mask: mp.baseAddress!, count: count,
                                    probability: configuration.dropout, generator: &generator)
                }
            }
            mask = m
        }
        var output: [Float]
        if let shortcut = block.shortcut {
            output = run(count) { out in
                shortcut.conv.forward(input: x, batch: n, height: h, width: w, weight: p.value(shortcut.weight),
                                      bias: p.value(shortcut.bias), output: out, workspace: columns)
            }
        } else {
            output = x
        }
        output.withUnsafeMutableBufferPointer { out in
            block.conv2.conv.forward(input: activated2, batch: n, height: h, width: w, weight: p.value(block.conv2.weight),
                                     bias: p.value(block.conv2.bias), output: out.baseAddress!, accumulate: true, workspace: columns)
        }
        let record = ResBlockRecord(
            height: h, width: w, input: x, mean1: mean1, rstd1: rstd1, activated1: activated1, hidden: hidden,
            mean2: mean2, rstd2: rstd2, activated2: activated2, mask: mask)
        return (output, record)
    }

    /// Backward pass of the last ``trainingForward(_:timesteps:dropoutSeed:)``: ADDS every
    /// parameter's gradient into `parameters.gradients` (zero them first for a fresh step).
    /// `outputGradient` has the output's shape. Consumes the recorded tape.
    public func backward(outputGradient: Tensor) {
        guard let tape else { preconditionFailure("backward needs a trainingForward first") }
        self.tape = nil
        let p = parameters
        let n = tape.batch, h = tape.height, w = tape.width
        precondition(outputGradient.shape == [n, configuration.outputChannels, h, w],
                     "output gradient shape \(outputGradient.shape) does not match the output")
        // Output block.
        var outActivatedGradient = [Float](repeating: 0, count: tape.outActivated.count)
        layout.outConv.conv.backwardWeights(
            input: tape.outActivated, batch: n, height: h, width: w, outputGradient: outputGradient.values,
            weightGradient: p.gradient(layout.outConv.weight), biasGradient: p.gradient(layout.outConv.bias), workspace: columns)
        outActivatedGradient.withUnsafeMutableBufferPointer { dx in
            layout.outConv.conv.backwardData(outputGradient: outputGradient.values, batch: n, height: h, width: w,
                                             weight: p.value(layout.outConv.weight), inputGradient: dx.baseAddress!, workspace: columns)
        }
        var gradient = run(tape.finalActivation.count) { dx in
            dx.update(repeating: 0, count: tape.finalActivation.count)
            layout.outNorm.norm.backward(
                input: tape.finalActivation, batch: n, plane: h * w, gamma: p.value(layout.outNorm.weight),
                beta: p.value(layout.outNorm.bias), mean: tape.outMean, rstd: tape.outRstd, silu: true,
                outputGradient: outActivatedGradient, inputGradient: dx,
                gammaGradient: p.gradient(layout.outNorm.weight), betaGradient: p.gradient(layout.outNorm.bias))
        }

        var embeddingActivatedGradient = [Float](repeating: 0, count: tape.embeddingActivated.count)
        var pendingSkips: [Int: [Float]] = [:]
        for (stage, record) in zip(layout.stages, tape.records).reversed() {
            switch (stage, record) {
            case (.convolution(let layer), .convolution(let input, let ih, let iw)):
                layer.conv.backwardWeights(input: input, batch: n, height: ih, width: iw, outputGradient: gradient,
                                           weightGradient: p.gradient(layer.weight), biasGradient: p.gradient(layer.bias),
                                           workspace: columns)
                let isFirst = if case .convolution(let first) = layout.stages[0] { first.weight == layer.weight } else { false }
                if isFirst {
                    gradient = []
                } else {
                    let dy = gradient
                    gradient = run(input.count) { dx in
                        dx.update(repeating: 0, count: input.count)
                        layer.conv.backwardData(outputGradient: dy, batch: n, height: ih, width: iw, weight: p.value(layer.weight),
                                                inputGradient: dx, workspace: columns)
                    }
                }
            case (.resBlock(let block), .resBlock(let blockRecord)):
                gradient = embeddingActivatedGradient.withUnsafeMutableBufferPointer { de in
                    resBlockBackward(block, record: blockRecord, batch: n, outputGradient: gradient,
                                     embeddingActivated: tape.embeddingActivated, embeddingActivatedGradient: de.baseAddress!)
                }
            case (.upsample(let layer), .upsample(let input, let ih, let iw)):
                let dy = gradient
                gradient = run(input.count) { dx in
                    dx.update(repeating: 0, count: input.count)
                    layer.conv.backward(input: input, batch: n, height: ih, width: iw, weight: p.value(layer.weight),
                                        outputGradient: dy, inputGradient: dx, weightGradient: p.gradient(layer.weight),
                                        biasGradient: p.gradient(layer.bias), workspace: columns)
                }
            case (.saveSkip(let i), .saveSkip):
                if let pending = pendingSkips.removeValue(forKey: i) {
                    gradient.withUnsafeMutableBufferPointer { Elementwise.accumulate(pending, into: $0.baseAddress!, count: $0.count) }
                }
            case (.addSkip(let i), .addSkip(let from, let to, let channels)):
                pendingSkips[i] = gradient
                if from != to {
                    let dy = gradient
                    gradient = run(n * channels * from.height * from.width) { dx in
                        dx.update(repeating: 0, count: n * channels * from.height * from.width)
                        Elementwise.cropBackward(outputGradient: dy, batchChannels: n * channels, height: from.height,
                                                 width: from.width, croppedHeight: to.height, width: to.width, inputGradient: dx)
                    }
                }
            default:
                preconditionFailure("training tape does not match the network's stages")
            }
        }

        // Time MLP: dEmbedding = dSiLU(embedding); Linear 2; SiLU; Linear 1.
        let e = configuration.timeEmbedDim
        let embeddingGradient = run(n * e) { d in
            d.update(repeating: 0, count: n * e)
            SiLU.backward(input: tape.embedding, outputGradient: embeddingActivatedGradient, inputGradient: d, count: n * e)
        }
        let hiddenActivatedGradient = run(n * e) { d in
            d.update(repeating: 0, count: n * e)
            layout.timeLinear2.linear.backward(
                input: tape.timeHiddenActivated, batch: n, weight: p.value(layout.timeLinear2.weight),
                outputGradient: embeddingGradient, inputGradient: d,
                weightGradient: p.gradient(layout.timeLinear2.weight), biasGradient: p.gradient(layout.timeLinear2.bias))
        }
        let hiddenGradient = run(n * e) { d in
            d.update(repeating: 0, count: n * e)
            SiLU.backward(input: tape.timeHidden, outputGradient: hiddenActivatedGradient, inputGradient: d, count: n * e)
        }
        layout.timeLinear1.linear.backward(
            input: tape.sinusoid, batch: n, weight: p.value(layout.timeLinear1.weight), outputGradient: hiddenGradient,
            inputGradient: nil, weightGradient: p.gradient(layout.timeLinear1.weight),
            biasGradient: p.gradient(layout.timeLinear1.bias))
    }

    /// A ResBlock's backward: adds parameter gradients and `∂L/∂SiLU(emb)`, returns `∂L/∂x`.
    private func resBlockBackward(
        _ block: ResBlockLayer, record r: ResBlockRecord, batch n: Int, outputGradient dy: [Float],
        embeddingActivated: [Float], embeddingActivatedGradient: UnsafeMutablePointer<Float>
    ) -> [Float] {
        let p = parameters
        let h = r.height, w = r.width, plane = h * w
        let count = n * block.outChannels * plane
        // conv2: t2 → out.
        block.conv2.conv.backwardWeights(input: r.activated2, batch: n, height: h, width: w, outputGradient: dy,
                                         weightGradient: p.gradient(block.conv2.weight), biasGradient: p.gradient(block.conv2.bias),
                                         workspace: columns)
        var activated2Gradient = run(count) { d in
            d.update(repeating: 0, count: count)
            block.conv2.conv.backwardData(outputGradient: dy, batch: n, height: h, width: w, weight: p.value(block.conv2.weight),
                                          inputGradient: d, workspace: columns)
        }
        if let mask = r.mask {
            for i in 0..<count { activated2Gradient[i] *= mask[i] }
        }
        // GN2 + SiLU: h1 → t2.
        let hiddenGradient = run(count) { d in
            d.update(repeating: 0, count: count)
            block.norm2.norm.backward(input: r.hidden, batch: n, plane: plane, gamma: p.value(block.norm2.weight),
                                      beta: p.value(block.norm2.bias), mean: r.mean2, rstd: r.rstd2, silu: true,
                                      outputGradient: activated2Gradient, inputGradient: d,
                                      gammaGradient: p.gradient(block.norm2.weight), betaGradient: p.gradient(block.norm2.bias))
        }
        // Time shift: h1 = conv1(t1) + shift[n, c], shift = Linear(SiLU(emb)).
        let shiftGradient = run(n * block.outChannels) { d in
            d.update(repeating: 0, count: n * block.outChannels)
            Elementwise.addChannelVectorBackward(outputGradient: hiddenGradient, vectorGradient: d, batch: n,
                                                 channels: block.outChannels, plane: plane)
        }
        block.time.linear.backward(input: embeddingActivated, batch: n, weight: p.value(block.time.weight),
                                   outputGradient: shiftGradient, inputGradient: embeddingActivatedGradient,
                                   weightGradient: p.gradient(block.time.weight), biasGradient: p.gradient(block.time.bias))
        // conv1: t1 → h1.
        block.conv1.conv.backwardWeights(input: r.activated1, batch: n, height: h, width: w, outputGradient: hiddenGradient,
                                         weightGradient: p.gradient(block.conv1.weight), biasGradient: p.gradient(block.conv1.bias),
                                         workspace: columns)
        let activated1Gradient = run(r.activated1.count) { d in
            d.update(repeating: 0, count: r.activated1.count)
            block.conv1.conv.backwardData(outputGradient: hiddenGradient, batch: n, height: h, width: w,
                                          weight: p.value(block.conv1.weight), inputGradient: d, workspace: columns)
        }
        // Shortcut, then GN1 + SiLU: x → t1.
        var inputGradient: [Float]
        if let shortcut = block.shortcut {
            shortcut.conv.backwardWeights(input: r.input, batch: n, height: h, width: w, outputGradient: dy,
                                          weightGradient: p.gradient(shortcut.weight), biasGradient: p.gradient(shortcut.bias),
                                          workspace: columns)
            inputGradient = run(r.input.count) { d in
                d.update(repeating: 0, count: r.input.count)
                shortcut.conv.backwardData(outputGradient: dy, batch: n, height: h, width: w, weight: p.value(shortcut.weight),
                                           inputGradient: d, workspace: columns)
            }
        } else {
            inputGradient = dy
        }
        inputGradient.withUnsafeMutableBufferPointer { d in
            block.norm1.norm.backward(input: r.input, batch: n, plane: plane, gamma: p.value(block.norm1.weight),
                                      beta: p.value(block.norm1.bias), mean: r.mean1, rstd: r.rstd1, silu: true,
                                      outputGradient: activated1Gradient, inputGradient: d.baseAddress!,
                                      gammaGradient: p.gradient(block.norm1.weight), betaGradient: p.gradient(block.norm1.bias))
        }
        return inputGradient
    }

    /// Peak bytes of one training step (forward records, backward temporaries, parameters,
    /// gradients, AdamW moments and im2col columns) for a batch of `batch` at `height × width`.
    public func trainingMemoryEstimate(batch n: Int, height: Int, width: Int) -> Int {
        var floats = 0
        var h = height, w = width, channels = configuration.inputChannels
        var largest = n * channels * h * w
        var skipSizes = [Int: (Int, Int)]()
        floats += n * channels * h * w  // the input
        for stage in layout.stages {
            switch stage {
            case .convolution(let layer):
                (h, w) = layer.conv.outputSize(height: h, width: w)
                channels = layer.conv.outChannels
                floats += n * channels * h * w
            case .resBlock(let block):
                let inCount = n * block.inChannels * h * w, outCount = n * block.outChannels * h * w
                // t1, h1, t2, mask, output (the input is the previous stage's output).
                floats += inCount + 4 * outCount
                channels = block.outChannels
            case .upsample:
                h *= 2
                w *= 2
                floats += n * channels * h * w
            case .saveSkip(let i):
                skipSizes[i] = (h, w)
            case .addSkip(let i):
                (h, w) = skipSizes[i]!
                floats += n * channels * h * w
            }
            largest = max(largest, n * channels * h * w)
        }
        floats += 2 * n * configuration.width * height * width  // output block activations
        floats += 8 * largest                                   // backward gradient temporaries and skip gradients
        floats += 8 * parameterCount                            // values, gradients, AdamW moments, trainer copies and EMA
        floats += 4 * Conv2D.columnBudget                       // column buffers
        // Measured peak RSS of a width-32 step at 128², batch 8, was 1.4× the live sum above
        // (allocator reuse and the runtime), so the estimate carries that factor.
        return Int(1.4 * Double(floats * MemoryLayout<Float>.size))
    }
}

/// Allocates `count` floats, lets `body` fill them, and returns them as an array.
@inline(__always)
func run(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: max(count, 0)) { buffer, initialized in
        if count > 0 { body(buffer.baseAddress!) }
        initialized = count
    }
}
