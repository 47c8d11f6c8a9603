import ArgumentParser
import Foundation
import FusionDiff
import Imaging
import NN

struct ModelForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run one forward pass of a model (for parity checks).",
        discussion: """
            X is a float32 multi-page TIFF with one page per input channel ([S1, S2, x_t] and, for \
            focus_features models, [E1, E2]); the output holds one page per output channel. A .npy \
            file (float32, [1, C, H, W]) works as input or output too. \
            With --sample K --noise XT, runs the K-step deterministic sampler instead, conditioned on \
            the input's S1, S2 pages (x_t pages are ignored), from x_T read from XT.
            Examples:
              focusd model forward --model m.safetensors --timestep 1234 --input x.tif --output eps.tif
              focusd model forward --model w.safetensors --config c.json --timestep 1234 --input input.npy --output out.npy
              focusd model forward --model w.safetensors --sample 4 --noise x_T.npy --input input.npy --output x0.npy
            """)

    @Option(help: "Model file (safetensors).") var model: String
    @Option(help: "Configuration JSON for a bare state_dict.") var config: String?
    @Option(help: "Timestep t (0…T−1) of the forward pass.") var timestep: Int?
    @Option(help: "Input: float32 multi-page TIFF (one page per channel) or .npy.") var input: String
    @Option(help: "Output: float32 multi-page TIFF or .npy.") var output: String
    @Option(help: "Run the K-step sampler instead of one forward pass.") var sample: Int?
    @Option(help: "x_T for --sample (TIFF or .npy, one channel per image channel).") var noise: String?
    @Option(help: "Seed of x_T for --sample when --noise is not given.") var seed: UInt64 = 0

    func validate() throws {
        if sample == nil && timestep == nil { throw ValidationError("give --timestep T (or --sample K)") }
        if let sample, sample < 1 { throw ValidationError("--sample must be at least 1") }
    }

    func run() async throws {
        let (modelFile, network) = try ModelFileLoader.load(model, configPath: config)
        let configuration = modelFile.configuration
        let x = try ChannelFile.read(input)
        if let k = sample {
            guard k <= modelFile.schedule.timesteps else { throw ValidationError("--sample must be at most \(modelFile.schedule.timesteps)") }
            let c = configuration.imageChannels
            guard x.channels >= 2 * c else {
                throw ModelFileError(path: input, message: "has \(x.channels) channels; the sampler needs at least S1 and S2 (\(2 * c))")
            }
            let plane = x.height * x.width
            let sources = Array(x.values[0..<(2 * c * plane)])
            let initial: [Float]
            if let noise {
                let xT = try ChannelFile.read(noise)
                guard xT.channels == c, xT.height == x.height, xT.width == x.width else {
                    throw ModelFileError(path: noise, message: "x_T is \(xT.channels)×\(xT.height)×\(xT.width), expected \(c)×\(x.height)×\(x.width)")
                }
                initial = xT.values
            } else {
                initial = GaussianNoise.sample(count: c * plane, seed: seed)
            }
            let features = configuration.focusFeatures
                ? FocusFeatures.compute(sources: sources, batch: 1, imageChannels: c, height: x.height, width: x.width) : nil
            let sampler = DeterministicSampler(schedule: modelFile.schedule, steps: k, prediction: configuration.prediction)
            let result = try sampler.sample(sources: sources, features: features, batch: 1, channels: c, height: x.height,
                                            width: x.width, initialNoise: initial, model: DeterministicSampler.model(network))
            try ChannelFile.write(result, channels: c, height: x.height, width: x.width, to: output)
            return
        }
        guard let t = timestep, t >= 0, t < modelFile.schedule.timesteps else {
            throw ValidationError("--timestep must lie in 0…\(modelFile.schedule.timesteps - 1)")
        }
        guard x.channels == configuration.inputChannels else {
            throw ModelFileError(path: input, message: "has \(x.channels) channels (pages) but the model takes \(configuration.inputChannels): [S1, S2, x_t\(configuration.focusFeatures ? ", E1, E2" : "")] with \(configuration.imageChannels) channel(s) each")
        }
        guard x.height % 2 == 0, x.width % 2 == 0 else {
            throw ModelFileError(path: input, message: "is \(x.width)×\(x.height); the U-Net needs even width and height")
        }
        let y = network.forward(Tensor(shape: [1, x.channels, x.height, x.width], values: x.values), timesteps: [t])
        try ChannelFile.write(y.values, channels: configuration.outputChannels, height: x.height, width: x.width, to: output)
    }
}

/// Multi-channel float32 files for parity checks: a multi-page TIFF (one page per channel, via
/// Imaging) or a NumPy `.npy` holding [1, C, H, W] or [C, H, W] little-endian float32.
enum ChannelFile {
    struct Channels {
        var channels: Int, height: Int, width: Int
        var values: [Float]  // [C, H, W]
    }

    static func read(_ path: String) throws -> Channels {
        if path.lowercased().hasSuffix(".npy") { return try readNPY(path) }
        let stacks = try StackLoader().open([path])
        guard let stack = stacks.first else { throw ModelFileError(path: path, message: "holds no image") }
        var values: [Float] = []
        var channels = 0
        for i in 0..<stack.count {
            let page = try stack.slice(at: i)
            values += page.pixels
            channels += page.channels
        }
        return Channels(channels: channels, height: stack.geometry.height, width: stack.geometry.width, values: values)
    }

    static func write(_ values: [Float], channels: Int, height: Int, width: Int, to path: String) throws {
        if path.lowercased().hasSuffix(".npy") {
            try writeNPY(values, shape: [1, channels, height, width], to: path)
            return
        }
        let plane = height * width
        let pages = (0..<channels).map {
            Image(width: width, height: height, channels: 1, pixels: Array(values[($0 * plane)..<(($0 + 1) * plane)]))
        }
        try TIFFWriter.write(pages, format: .float32, to: path, software: "focusd")
    }

    static func readNPY(_ path: String) throws -> Channels {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path: path, message: "cannot read the file; check the path")
        }
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8) else {
            throw ModelFileError(path: path, message: "not a .npy file")
        }
        let headerStart = bytes[6] == 1 ? 10 : 12
        let headerLength = bytes[6] == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard bytes.count >= headerStart + headerLength else { throw ModelFileError(path: path, message: "truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw ModelFileError(path: path, message: "expected a C-order little-endian float32 array (dtype '<f4'), header \(header)")
        }
        var shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if shape.count == 4, shape[0] == 1 { shape.removeFirst() }
        guard shape.count == 3 else { throw ModelFileError(path: path, message: "shape \(shape) is not [1, C, H, W] or [C, H, W]") }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength
        guard bytes.count >= start + 4 * count else { throw ModelFileError(path: path, message: "truncated: needs \(4 * count) data bytes") }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + 4 * i
            values[i] = Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
        return Channels(channels: shape[0], height: shape[1], width: shape[2], values: values)
    }

    static func writeNPY(_ values: [Float], shape: [Int], to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw ModelFileError(path: path, message: "cannot write the output; check that the folder exists and is writable")
        }
    }
}
