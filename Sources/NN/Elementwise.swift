import SeededRandom

/// Elementwise and shape ops: add, broadcast add of a per-channel vector, top-left crop,
/// dropout and the mean squared error, each with its backward.
public enum Elementwise {
    /// `output[i] = a[i] + b[i]` (`output` may alias either input).
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int
    ) {
        Compute.parallelRanges(count, minimumPerThread: 32768) { range in
            for i in range { output[i] = a[i] + b[i] }
        }
    }

    /// `target[i] += source[i]` — also the backward of `add` for each operand.
    public static func accumulate(
        _ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int
    ) {
        Compute.parallelRanges(count, minimumPerThread: 32768) { range in
            for i in range { target[i] += source[i] }
        }
    }

    /// Broadcast add over the image: `x[n, c, ·] += vector[n, c]` for `x` `[N, C, plane]`.
    public static func addChannelVector(
        _ vector: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int
    ) {
        Compute.parallelFor(batch * channels) { row in
            let v = vector[row]
            let p = x + row * plane
            for i in 0..<plane { p[i] += v }
        }
    }

    /// Backward of ``addChannelVector``: `vectorGradient[n, c] += Σ outputGradient[n, c, ·]`.
    public static func addChannelVectorBackward(
        outputGradient: UnsafePointer<Float>, vectorGradient: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, plane: Int
    ) {
        for row in 0..<batch * channels { vectorGradient[row] += sum(outputGradient + row * plane, count: plane) }
    }

    /// Crops `[N, C, H, W]` to its top-left `[N, C, h, w]`.
    public static func crop(
        _ input: UnsafePointer<Float>, batchChannels: Int, height: Int, width: Int,
        toHeight h: Int, width w: Int, output: UnsafeMutablePointer<Float>
    ) {
        precondition(h <= height && w <= width, "crop \(h)×\(w) larger than \(height)×\(width)")
        for plane in 0..<batchChannels {
            for y in 0..<h {
                (output + (plane * h + y) * w).update(from: input + (plane * height + y) * width, count: w)
            }
        }
    }

    /// Backward of ``crop``: adds the `[N, C, h, w]` gradient into the top-left of `[N, C, H, W]`.
    public static func cropBackward(
        outputGradient: UnsafePointer<Float>, batchChannels: Int, height: Int, width: Int,
        croppedHeight h: Int, width w: Int, inputGradient: UnsafeMutablePointer<Float>
    ) {
        for plane in 0..<batchChannels {
            for y in 0..<h {
                let target = inputGradient + (plane * height + y) * width
                let source = outputGradient + (plane * h + y) * w
                for x in 0..<w { target[x] += source[x] }
            }
        }
    }
}

/// Inverted dropout: during training each element is zeroed with probability `p` and the rest
/// scaled by `1/(1 − p)`; at inference it is the identity (callers skip it).
public enum Dropout {
    /// Draws the mask (`0` or `1/(1−p)`) and applies it in place to `x`.
    public static func forward(
        _ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, generator: inout SplitMix64
    ) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        let keep = 1 / (1 - p)
        for i in 0..<count {
            mask[i] = generator.uniformFloat() < p ? 0 : keep
            x[i] *= mask[i]
        }
    }

    /// `inputGradient[i] += outputGradient[i] · mask[i]`.
    public static func backward(
        outputGradient: UnsafePointer<Float>, mask: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { inputGradient[i] += outputGradient[i] * mask[i] }
    }
}

/// Mean squared error `L = scale · mean((prediction − target)²)`.
public enum MeanSquaredError {
    /// The loss value (accumulated in Double).
    public static func forward(
        prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int, scale: Float = 1
    ) -> Float {
        var total = 0.0
        for i in 0..<count {
            let d = Double(prediction[i] - target[i])
            total += d * d
        }
        return Float(Double(scale) * total / Double(count))
    }

    /// Adds `∂L/∂prediction = 2·scale·(prediction − target)/count` into `gradient`.
    public static func backward(
        prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int, scale: Float = 1,
        gradient: UnsafeMutablePointer<Float>
    ) {
        let factor = 2 * scale / Float(count)
        for i in 0..<count { gradient[i] += factor * (prediction[i] - target[i]) }
    }
}
