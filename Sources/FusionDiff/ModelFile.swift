import Foundation
import NN

/// A FusionDiff model file that cannot be used; the message says what was wrong and what to do.
public struct ModelFileError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// The file concerned.
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
    public var errorDescription: String? { description }
}

/// A FusionDiff model: safetensors weights under the official parameter names, with the
/// configuration and schedule.
///
/// Format: a safetensors file whose `__metadata__` holds `config` (the configuration as JSON with
/// ARCHITECTURE.md's keys), `schedule` ("cosine") and `T` (decimal, 2000), and optionally anything else
/// (`focusd train` adds `steps`, `objective`, `trained_by`). A bare PyTorch `state_dict` saved as
/// safetensors (no metadata) is accepted together with a separate configuration JSON; it then
/// uses the published cosine schedule with T = 2000.
public struct ModelFile: Sendable {
    public let configuration: FusionDiffConfiguration
    public let schedule: NoiseSchedule
    public let tensors: SafeTensorsFile
    /// The file's metadata map, as read.
    public var metadata: [String: String] { tensors.metadata }

    /// Parses model bytes read from `path`.
    ///
    /// - Parameter configurationJSON: the configuration for a bare state_dict (`--config`); when the
    ///   file carries one too, both must agree.
    /// - Throws: `ModelFileError` naming `path`: not safetensors, no configuration, bad
    ///   configuration, unknown schedule, or a configuration that disagrees with `--config`.
    public static func parse(_ data: Data, path: String, configurationJSON: String? = nil) throws -> ModelFile {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(data: data) } catch {
            throw ModelFileError(path: path, message: error.description)
        }
        var fromFile: FusionDiffConfiguration?
        if let text = file.metadata["config"] {
            do { fromFile = try FusionDiffConfiguration.fromJSON(text) } catch {
                throw ModelFileError(path: path, message: "the configuration in the file's metadata cannot be read (\(error)); re-export the model with a `config` entry using ARCHITECTURE.md's keys")
            }
        }
        var given: FusionDiffConfiguration?
        if let configurationJSON {
            do { given = try FusionDiffConfiguration.fromJSON(configurationJSON) } catch {
                throw ModelFileError(path: path, message: "the --config JSON cannot be read (\(error)); it needs image_channels, width, mults, res_blocks, groups, time_channels, time_embed_dim")
            }
        }
        let configuration: FusionDiffConfiguration
        switch (fromFile, given) {
        case (nil, nil):
            throw ModelFileError(path: path, message: "the file carries no configuration (no `config` in __metadata__); pass one with --config CONFIG.json")
        case let (file?, given?) where file != given:
            throw ModelFileError(path: path, message: "the file's configuration \(file.jsonString()) differs from --config \(given.jsonString()); drop --config or fix it")
        case let (file?, _): configuration = file
        case let (nil, given?): configuration = given
        }
        let problems = configuration.problems
        guard problems.isEmpty else {
            throw ModelFileError(path: path, message: "invalid configuration: \(problems.joined(separator: "; "))")
        }
        let scheduleName = file.metadata["schedule"] ?? NoiseSchedule.cosineName
        guard scheduleName == NoiseSchedule.cosineName else {
            throw ModelFileError(path: path, message: "schedule '\(scheduleName)' is not supported; focusd implements the cosine schedule only")
        }
        let timesteps = file.metadata["T"].flatMap { Int($0) } ?? 2000
        guard timesteps >= 1 else {
            throw ModelFileError(path: path, message: "T = \(file.metadata["T"] ?? "") is not a positive integer")
        }
        return ModelFile(configuration: configuration, schedule: NoiseSchedule(cosineWithTimesteps: timesteps), tensors: file)
    }

    /// Number of scalar parameters stored in the file.
    public var storedParameterCount: Int {
        tensors.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }
    }

    /// Model-file bytes for `stateDict` (official names, F32) with the configuration and schedule in
    /// the metadata, plus `extraMetadata`.
    public static func serialize(configuration: FusionDiffConfiguration, stateDict: [(name: String, shape: [Int], values: [Float])],
                                 schedule: NoiseSchedule = NoiseSchedule(), extraMetadata: [String: String] = [:]) -> Data {
        var metadata = extraMetadata
        metadata["config"] = configuration.jsonString()
        metadata["schedule"] = NoiseSchedule.cosineName
        metadata["T"] = String(schedule.timesteps)
        return SafeTensorsFile.serialize(tensors: stateDict, metadata: metadata)
    }
}
