import NN

extension UNet: TrainableDenoiser {
    public var parameterLayout: [(name: String, shape: [Int])] {
        parameters.entries.map { ($0.name, $0.shape) }
    }

    public func readParameters() -> [Float] { Array(parameters.values) }

    public func writeParameters(_ values: [Float]) {
        precondition(values.count == parameters.count, "\(values.count) values for \(parameters.count) parameters")
        values.withUnsafeBufferPointer { parameters.values.baseAddress!.update(from: $0.baseAddress!, count: values.count) }
    }

    public func trainingPass(
        input: Tensor, timesteps: [Int], dropoutSeed: UInt64, outputGradient: (Tensor) -> Tensor
    ) -> [Float] {
        parameters.zeroGradients()
        let output = trainingForward(input, timesteps: timesteps, dropoutSeed: dropoutSeed)
        backward(outputGradient: outputGradient(output))
        return Array(parameters.gradients)
    }

    public func predict(_ input: Tensor, timesteps: [Int]) -> Tensor {
        forward(input, timesteps: timesteps)
    }
}
