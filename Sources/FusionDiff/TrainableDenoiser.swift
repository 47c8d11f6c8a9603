import NN

/// What the trainer needs from a network: its flat parameters, their names, and one training pass
/// (forward with dropout, then backward of a given output gradient).
///
/// The U-Net conforms (see `UNet+TrainableDenoiser` in this module); tests use tiny stand-ins.
public protocol TrainableDenoiser: AnyObject {
    /// Number of scalar parameters.
    var parameterCount: Int { get }
    /// The parameters' official names and shapes in flat-buffer order (their counts sum to `parameterCount`).
    var parameterLayout: [(name: String, shape: [Int])] { get }
    /// A copy of all parameters in flat-buffer order.
    func readParameters() -> [Float]
    /// Replaces all parameters (flat-buffer order).
    func writeParameters(_ values: [Float])
    /// One training pass: forward `input` [N, inputChannels, H, W] at `timesteps` in training mode
    /// (dropout masks drawn from `dropoutSeed`), then backward of `outputGradient(output)`.
    /// Returns the gradient of every parameter (flat order), freshly computed for this pass.
    func trainingPass(input: Tensor, timesteps: [Int], dropoutSeed: UInt64,
                      outputGradient: (Tensor) -> Tensor) -> [Float]
    /// Inference forward (no dropout): [N, inputChannels, H, W] → [N, outputChannels, H, W].
    func predict(_ input: Tensor, timesteps: [Int]) -> Tensor
}
