import ArgumentParser
import Foundation
import Imaging
import Simulation

/// `focusd simulate`: a simulated microscope focus stack with its ground truth.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a microscope focus stack with its ground truth from an in-focus image.",
        discussion: """
            The in-focus image becomes a 2.5-D specimen on a random smooth surface (tilt, bumps, steep \
            steps) imaged at N focal planes through a defocus PSF that widens with distance from the \
            surface (Gaussian for fluorescence, a soft disc for brightfield) by a camera with offset, \
            gain, Poisson photon noise, read noise and integer quantisation. Writes into --out: \
            stack.tif (N pages, the camera's format), ground_truth.tif (float32, the noise-free \
            in-focus image in the slices' units), height.tif (float32, the surface in slice units), \
            simulation.json (every setting) and transforms.json (each slice's true magnification and shift \
            relative to slice N/2, the ground truth for `focusd align`).
            Example:
              focusd simulate --texture ../shared/data/train/microscopy/microtubules_16bit.tif --slices 24 --photons 100 --out sim
            """)

    @Option(help: "The in-focus image (any channels; a multi-channel image keeps its channels).") var texture: String
    @Option(help: "Number of slices (focal planes).") var slices: Int = 16
    @Option(help: "Contrast mode: fluorescence or brightfield.") var modality: MicroscopeSimulation.Modality = .fluorescence
    @Option(help: "Photo-electrons at the brightest in-focus pixel (30 very noisy … 3000 clean).") var photons: Double = 300
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 1
    @Option(help: "Sample format: uint16 or uint8.") var format: SampleFormat = .uint16
    @Option(help: "PSF growth per slice of defocus, pixels (default: the modality's).") var defocusPerSlice: Double?
    @Option(help: "Magnification change across the stack (0.01 = 1 % breathing).") var breathing: Double = 0
    @Option(help: "Stage drift per slice, pixels r.m.s.") var drift: Double = 0
    @Option(help: "Defocus blur per receiving pixel (gather, the default) or per emitting depth layer (scatter: energy-conserving, slower).")
    var layering: MicroscopeSimulation.Layering = .gather
    @Option(help: "Square centre crop of the texture, pixels (0 = whole image).") var crop: Int = 0
    @Option(help: "Steep steps in the specimen surface (0 = smooth tilt and bumps only).") var surfaceSteps: Int = 2
    @Option(help: "Output folder (created).") var out: String

    func run() async throws {
        var settings = MicroscopeSimulation(modality: modality, slices: slices, photons: photons, seed: seed, format: format)
        if let defocusPerSlice { settings.defocusPerSlice = defocusPerSlice }
        settings.breathing = breathing
        settings.drift = drift
        settings.layering = layering
        settings.surfaceSteps = surfaceSteps
        var image = try ImageFile.read(texture).image
        if crop > 0 { image = BenchmarkStack.centreCrop(image, side: crop) }
        if format == .uint8 && image.channels != 3 {
            image = Image(planes: [Image](repeating: image.channel(0), count: 3))
        }
        let simulated: SimulatedStack
        do {
            simulated = try MicroscopeSimulator(settings: settings).simulate(texture: image)
        } catch {
            throw BenchStacksError(path: texture, message: "\(error)")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        try TIFFWriter.write(simulated.slices, format: format, to: path("stack.tif"), software: "focusd simulate")
        try TIFFWriter.write([simulated.groundTruth], format: .float32, to: path("ground_truth.tif"), software: "focusd simulate")
        let height = Image(width: simulated.height.width, height: simulated.height.height, channels: 1, pixels: simulated.height.values)
        try TIFFWriter.write([height], format: .float32, to: path("height.tif"), software: "focusd simulate")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(settings).write(to: URL(fileURLWithPath: path("simulation.json")))
        try encoder.encode(simulated.transforms).write(to: URL(fileURLWithPath: path("transforms.json")))
        print("simulated \(slices) slices (\(image.width)×\(image.height), \(image.channels) channel(s), \(modality.rawValue), \(Int(photons)) photons) → \(out)")
    }
}
