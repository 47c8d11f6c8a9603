import Foundation

/// The timestep embedding (ARCHITECTURE.md, "FusionDiff"): for `half = channels/2` frequencies
/// `f_i = exp(−ln(10000)·i/half)`, `emb[n] = [cos(t_n·f_0…), sin(t_n·f_0…)]` (cos first).
///
/// Computed in Float32 like the PyTorch reference (`t.float() * freqs`), so large t rounds the
/// same way. Timesteps are integers, so the op has no backward.
public enum SinusoidalEmbedding {
    /// `output [timesteps.count, channels]`.
    public static func forward(timesteps: [Int], channels: Int, output: UnsafeMutablePointer<Float>) {
        precondition(channels >= 2 && channels % 2 == 0, "embedding channels must be even (got \(channels))")
        let half = channels / 2
        let scale = Float(-log(10000.0))
        for (n, t) in timesteps.enumerated() {
            for i in 0..<half {
                let frequency = Float(exp(Double(scale * Float(i) / Float(half))))
                let argument = Float(t) * frequency
                output[n * channels + i] = Float(cos(Double(argument)))
                output[n * channels + half + i] = Float(sin(Double(argument)))
            }
        }
    }

    /// The embedding as a `[timesteps.count, channels]` tensor.
    public static func embed(timesteps: [Int], channels: Int) -> Tensor {
        var values = [Float](repeating: 0, count: timesteps.count * channels)
        values.withUnsafeMutableBufferPointer { forward(timesteps: timesteps, channels: channels, output: $0.baseAddress!) }
        return Tensor(shape: [timesteps.count, channels], values: values)
    }
}
