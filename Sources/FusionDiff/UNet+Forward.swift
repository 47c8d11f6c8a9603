import NN

// Inference: a fixed path that reuses its buffers. Slots of `buffers`: 0/1 the current activation
// and the other (ping-pong), 2/3 a ResBlock's two temporaries, 4… small time-embedding vectors,
// 16 + i skip i. After the first pass at a given size, no pass allocates.
private enum Slot {
    static let activationA = 0, activationB = 1, temporary1 = 2, temporary2 = 3
    static let sinusoid = 4, timeHidden = 5, timeEmbedding = 6, timeActivated = 7, shift = 8
    static let skipBase = 16
}

extension UNet {
    /// One forward pass: `input` `[N, inputChannels, H, W]`, one timestep per item →
    /// `[N, outputChannels, H, W]`. Dropout is off.
    public func forward(_ input: Tensor, timesteps: [Int]) -> Tensor {
        let (n, c, h, w) = input.nchw
        precondition(c == configuration.inputChannels, "U-Net expects \(configuration.inputChannels) input channels, got \(c)")
        var output = Tensor(zeros: [n, configuration.outputChannels, h, w])
        input.values.withUnsafeBufferPointer { x in
            output.values.withUnsafeMutableBufferPointer { y in
                forward(input: x.baseAddress!, batch: n, height: h, width: w, timesteps: timesteps, output: y.baseAddress!)
            }
        }
        return output
    }

    /// The time MLP's output `[N, timeEmbedDim]` for the given timesteps.
    public func timeEmbedding(timesteps: [Int]) -> Tensor {
        let embedding = computeTimeEmbedding(timesteps: timesteps)
        return Tensor(shape: [timesteps.count, configuration.timeEmbedDim],
                      values: Array(UnsafeBufferPointer(start: embedding.raw, count: timesteps.count * configuration.timeEmbedDim)))
    }

    /// Sinusoid → Linear → SiLU → Linear; returns the embedding and its SiLU (what every
    /// ResBlock's `time_emb` Linear reads), both `[N, timeEmbedDim]` in `buffers`.
    func computeTimeEmbedding(timesteps: [Int]) -> (raw: UnsafeMutablePointer<Float>, activated: UnsafeMutablePointer<Float>) {
        let n = timesteps.count
        let e = configuration.timeEmbedDim
        let sinusoid = buffers.floats(n * configuration.timeChannels, slot: Slot.sinusoid)
        let hidden = buffers.floats(n * e, slot: Slot.timeHidden)
        let embedding = buffers.floats(n * e, slot: Slot.timeEmbedding)
        let activated = buffers.floats(n * e, slot: Slot.timeActivated)
        SinusoidalEmbedding.forward(timesteps: timesteps, channels: configuration.timeChannels, output: sinusoid)
        let p = parameters
        layout.timeLinear1.linear.forward(input: sinusoid, batch: n, weight: p.value(layout.timeLinear1.weight),
                                          bias: p.value(layout.timeLinear1.bias), output: hidden)
        SiLU.forward(hidden, hidden, count: n * e)
        layout.timeLinear2.linear.forward(input: hidden, batch: n, weight: p.value(layout.timeLinear2.weight),
                                          bias: p.value(layout.timeLinear2.bias), output: embedding)
        SiLU.forward(embedding, activated, count: n * e)
        return (embedding, activated)
    }

    /// Largest activation (floats) any stage holds for a batch of `n` at `height × width`.
    func largestActivation(batch n: Int, height: Int, width: Int) -> Int {
        var largest = n * configuration.inputChannels * height * width
        var h = height, w = width, channels = configuration.width
        var skipSizes = [Int: (Int, Int)]()
        for stage in layout.stages {
            switch stage {
            case .convolution(let layer):
                (h, w) = layer.conv.outputSize(height: h, width: w)
                channels = layer.conv.outChannels
            case .resBlock(let block): channels = block.outChannels
            case .upsample: h *= 2; w *= 2
            case .saveSkip(let i): skipSizes[i] = (h, w)
            case .addSkip(let i): (h, w) = skipSizes[i]!
            }
            largest = max(largest, n * channels * h * w)
        }
        return largest
    }

    /// Pointer form of ``forward(_:timesteps:)``: `input` `[N, inputChannels, H, W]`, `output`
    /// `[N, outputChannels, H, W]`. Reuses the instance's buffers.
    public func forward(
        input: UnsafePointer<Float>, batch n: Int, height: Int, width: Int, timesteps: [Int],
        output: UnsafeMutablePointer<Float>
    ) {
        precondition(timesteps.count == n, "one timestep per batch item: \(timesteps.count) for \(n)")
        precondition(configuration.levels == 1 || (height % 2 == 0 && width % 2 == 0),
                     "U-Net input height and width must be even (got \(height)×\(width))")
        let p = parameters
        func transformed(_ layer: ConvLayer) -> UnsafePointer<Float>? {
            winogradWeights.weights(layer, parameters: p, layout: layout)
        }
        let largest = largestActivation(batch: n, height: height, width: width)
        var current = buffers.floats(largest, slot: Slot.activationA)
        var other = buffers.floats(largest, slot: Slot.activationB)
        let temporary1 = buffers.floats(largest, slot: Slot.temporary1)
        let temporary2 = buffers.floats(largest, slot: Slot.temporary2)
        let time = computeTimeEmbedding(timesteps: timesteps)
        let shift = buffers.floats(n * configuration.width * (configuration.mults.max() ?? 1), slot: Slot.shift)

        var source = input
        var channels = configuration.inputChannels
        var h = height, w = width
        var skips = [Int: (pointer: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int)]()
        for stage in layout.stages {
            switch stage {
            case .convolution(let layer):
                let size = layer.conv.outputSize(height: h, width: w)
                layer.conv.forward(input: source, batch: n, height: h, width: w, weight: p.value(layer.weight),
                                   bias: p.value(layer.bias), output: other, transformedWeights: transformed(layer),
                                   workspace: columns)
                swap(&current, &other)
                (h, w) = size
                channels = layer.conv.outChannels
            case .resBlock(let block):
                let plane = h * w
                block.norm1.norm.forward(input: source, batch: n, plane: plane, gamma: p.value(block.norm1.weight),
                                         beta: p.value(block.norm1.bias), output: temporary1, silu: true)
                block.time.linear.forward(input: time.activated, batch: n, weight: p.value(block.time.weight),
                                          bias: p.value(block.time.bias), output: shift)
                block.conv1.conv.forward(input: temporary1, batch: n, height: h, width: w, weight: p.value(block.conv1.weight),
                                         bias: p.value(block.conv1.bias), shift: shift, output: temporary2,
                                         transformedWeights: transformed(block.conv1), workspace: columns)
                block.norm2.norm.forward(input: temporary2, batch: n, plane: plane, gamma: p.value(block.norm2.weight),
                                         beta: p.value(block.norm2.bias), output: temporary2, silu: true)
                if let shortcut = block.shortcut {
                    shortcut.conv.forward(input: source, batch: n, height: h, width: w, weight: p.value(shortcut.weight),
                                          bias: p.value(shortcut.bias), output: other, workspace: columns)
                    swap(&current, &other)
                } else if UnsafePointer(current) != source {
                    current.update(from: source, count: n * channels * plane)
                }
                // current = shortcut(x) + conv2(t2) + bias
                block.conv2.conv.forward(input: temporary2, batch: n, height: h, width: w, weight: p.value(block.conv2.weight),
                                         bias: p.value(block.conv2.bias), output: current, accumulate: true,
                                         transformedWeights: transformed(block.conv2), workspace: columns)
                channels = block.outChannels
            case .upsample(let layer):
                layer.conv.forward(input: source, batch: n, height: h, width: w, weight: p.value(layer.weight),
                                   bias: p.value(layer.bias), output: other, workspace: columns)
                swap(&current, &other)
                h *= 2
                w *= 2
            case .saveSkip(let i):
                let count = n * channels * h * w
                let skip = buffers.floats(count, slot: Slot.skipBase + i)
                skip.update(from: source, count: count)
                skips[i] = (skip, channels, h, w)
            case .addSkip(let i):
                let skip = skips[i]!
                precondition(skip.channels == channels, "skip \(i) has \(skip.channels) channels, activation \(channels)")
                if skip.height == h && skip.width == w {
                    if UnsafePointer(current) != source { current.update(from: source, count: n * channels * h * w) }
                    Elementwise.accumulate(skip.pointer, into: current, count: n * channels * h * w)
                } else {
                    Elementwise.crop(source, batchChannels: n * channels, height: h, width: w,
                                     toHeight: skip.height, width: skip.width, output: other)
                    swap(&current, &other)
                    (h, w) = (skip.height, skip.width)
                    Elementwise.accumulate(skip.pointer, into: current, count: n * channels * h * w)
                }
            }
            source = UnsafePointer(current)
        }
        precondition(h == height && w == width, "U-Net output \(h)×\(w) differs from input \(height)×\(width)")
        layout.outNorm.norm.forward(input: source, batch: n, plane: h * w, gamma: p.value(layout.outNorm.weight),
                                    beta: p.value(layout.outNorm.bias), output: temporary1, silu: true)
        layout.outConv.conv.forward(input: temporary1, batch: n, height: h, width: w, weight: p.value(layout.outConv.weight),
                                    bias: p.value(layout.outConv.bias), output: output,
                                    transformedWeights: transformed(layout.outConv), workspace: columns)
    }
}
