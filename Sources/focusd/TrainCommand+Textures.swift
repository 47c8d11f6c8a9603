import Foundation
import Fusion
import FusionDiff
import Imaging
import NN
import SeededRandom
import Simulation

/// `focusd train --textures`: training triplets drawn from microscope stacks simulated from a lab's
/// sharp, in-focus images — the data-scarce regime FusionDiff promises (a handful of real images).
///
/// Each texture gives `stacksPerTexture` stacks (random `crop`² window, modality — fluorescence for
/// grey 16-bit and multi-channel images, otherwise fluorescence or brightfield —, 8…32 slices,
/// 30…3,000 photons log-uniform, PSF growth 0.6…1.6 px per slice), and each stack `pairsPerStack`
/// selection pairs (`SimulatedStack.selectionPair(slice:holders:)`), scaled to
/// [−1, 1] by the whole stack's range: the holders of selection fusion's evidence pass against
/// slice k, exactly as its generator pass scales and presents them.
enum SimulatedTrainingPairs {
    static let extensions: Set<String> = ["jpg", "jpeg", "png", "tif", "tiff"]

    /// Image files named directly or found (sorted, non-recursive) in named folders.
    static func textureFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ModelFileError(path: path, message: "does not exist; --textures takes in-focus images or folders of them")
            }
            if isDirectory.boolValue {
                files += try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .filter { !$0.contains("_A.") && !$0.contains("_B.") }  // triplet sources are blurred, not textures
                    .sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }

    static func make(textures paths: [String], channels: Int, crop: Int, stacksPerTexture: Int,
                     pairsPerStack: Int, seed: UInt64) throws -> [TrainingTriplet] {
        var rng = SplitMix64(seed: seed ^ 0x5157_4E41_5455_5245)
        var triplets: [TrainingTriplet] = []
        for file in try textureFiles(paths) {
            let image: Image
            do {
                image = try ImageFile.read(file).image
            } catch {
                FileHandle.standardError.write(Data("focusd: warning: skipping texture \(error)\n".utf8))
                continue
            }
            let side = min(crop, image.width, image.height) / 8 * 8
            guard side >= 32 else { continue }
            let grey16 = image.channels != 3
            for _ in 0..<stacksPerTexture {
                let x0 = rng.remainder(below: image.width - side + 1), y0 = rng.remainder(below: image.height - side + 1)
                // One channel (a multi-channel image's channels are different structures) or luminance.
                let plane: Image = image.channels == 3 ? image.luminanceImage() : image.channel(rng.remainder(below: image.channels))
                let texture = plane.cropped(x0: x0, y0: y0, width: side, height: side)
                let modality: MicroscopeSimulation.Modality = grey16 || rng.uniform() < 0.5 ? .fluorescence : .brightfield
                var settings = MicroscopeSimulation(modality: modality, slices: 8 + rng.remainder(below: 25),
                                                    photons: 30 * pow(100, rng.uniform()), seed: rng.next())
                settings.defocusPerSlice = 0.6 + rng.uniform()
                settings.surfaceSteps = rng.remainder(below: 4)
                guard let stack = try? MicroscopeSimulator(settings: settings).simulate(texture: texture) else { continue }
                let (lo, hi) = stack.valueRange
                // The holders selection fusion puts each slice against (its evidence pass).
                let holders = try SliceSelectionEngine(generator: nil).evidenceHolders(stack.stack)
                for _ in 0..<pairsPerStack {
                    let pair = stack.selectionPair(slice: rng.remainder(below: settings.slices), holders: holders)
                    triplets.append(TrainingTriplet(
                        source1: TrainingDataLoader.normalised(pair.source1, lo, hi, channels),
                        source2: TrainingDataLoader.normalised(pair.source2, lo, hi, channels),
                        groundTruth: TrainingDataLoader.normalised(pair.target, lo, hi, channels)))
                }
            }
        }
        guard !triplets.isEmpty else {
            throw ModelFileError(path: paths.joined(separator: ", "), message: "no usable textures (images of at least 32×32 pixels with contrast)")
        }
        return triplets
    }
}
