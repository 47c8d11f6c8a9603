import Foundation
import NN

/// The complete state of a training run at a step boundary: resuming from it continues the run
/// bit for bit as if it had never stopped.
///
/// Checkpoint format: a safetensors file (NN's `SafeTensorsFile`) with four F32 tensors of the
/// flat parameter layout — `parameters`, `ema`, `adam.first_moment`, `adam.second_moment` — and
/// `__metadata__` keys `format` ("focusd-checkpoint-1"), `step`, `optimizer_step`, `random_state`
/// (decimal UInt64), `config` (the model configuration JSON), `options` (TrainingOptions JSON),
/// `schedule` ("cosine") and `T`.
public struct TrainerState: Sendable, Equatable {
    public var step: Int
    public var parameters: [Float]
    public var emaParameters: [Float]
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    public var optimizerStep: Int
    public var randomState: UInt64

    public static let format = "focusd-checkpoint-1"

    /// The checkpoint bytes, with the run's configuration and options for `resume` to check.
    public func checkpointData(configuration: FusionDiffConfiguration, options: TrainingOptions,
                               schedule: NoiseSchedule) -> Data {
        let n = parameters.count
        let optionsJSON = (try? JSONEncoder().encode(options)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return SafeTensorsFile.serialize(
            tensors: [("parameters", [n], parameters), ("ema", [n], emaParameters),
                      ("adam.first_moment", [n], firstMoment), ("adam.second_moment", [n], secondMoment)],
            metadata: ["format": Self.format, "step": String(step), "optimizer_step": String(optimizerStep),
                       "random_state": String(randomState), "config": configuration.jsonString(),
                       "options": optionsJSON, "schedule": NoiseSchedule.cosineName, "T": String(schedule.timesteps)])
    }

    /// Parses checkpoint bytes written by `checkpointData`.
    /// - Throws: `ModelFileError` naming `path` when the data is not a focusd checkpoint.
    public static func parse(_ data: Data, path: String) throws -> (state: TrainerState, configuration: FusionDiffConfiguration, options: TrainingOptions) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(data: data) } catch {
            throw ModelFileError(path: path, message: "not a checkpoint: \(error.description)")
        }
        let meta = file.metadata
        guard meta["format"] == format else {
            throw ModelFileError(path: path, message: "not a focusd training checkpoint (metadata format is \(meta["format"] ?? "absent"), expected \(format)); pass a file written by `focusd train`")
        }
        guard let step = meta["step"].flatMap(Int.init), let optimizerStep = meta["optimizer_step"].flatMap(Int.init),
              let random = meta["random_state"].flatMap(UInt64.init), let configText = meta["config"],
              let optionsText = meta["options"] else {
            throw ModelFileError(path: path, message: "checkpoint metadata lacks step, optimizer_step, random_state, config or options; the file is damaged")
        }
        let configuration: FusionDiffConfiguration
        let options: TrainingOptions
        do {
            configuration = try FusionDiffConfiguration.fromJSON(configText)
            options = try JSONDecoder().decode(TrainingOptions.self, from: Data(optionsText.utf8))
        } catch {
            throw ModelFileError(path: path, message: "checkpoint configuration cannot be read: \(error)")
        }
        do {
            let parameters = try file.floats("parameters")
            let n = [parameters.count]
            let state = TrainerState(
                step: step, parameters: parameters, emaParameters: try file.floats("ema", expectedShape: n),
                firstMoment: try file.floats("adam.first_moment", expectedShape: n),
                secondMoment: try file.floats("adam.second_moment", expectedShape: n),
                optimizerStep: optimizerStep, randomState: random)
            return (state, configuration, options)
        } catch {
            throw ModelFileError(path: path, message: "checkpoint tensors cannot be read: \(error.description)")
        }
    }
}
