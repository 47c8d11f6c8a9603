import Imaging
import Simulation

/// The fixed, seeded set of simulated dev stacks that `focusd bench stacks` measures (issue 17):
/// widefield fluorescence at three photon budgets, brightfield RGB (8-bit colour camera) and
/// brightfield 16-bit, N from 8 to 40, made from in-focus textures (by default the real microscope
/// images of `shared/data/train/microscopy`). A texture is named by file; `channel` picks one plane
/// of a multi-channel image (nil: all of a grey image, luminance-free RGB for colour).
struct BenchmarkStack: Sendable, Equatable {
    var name: String
    var texture: String
    var channel: Int?
    /// Side of the square centre crop of the texture, pixels.
    var crop: Int
    var settings: MicroscopeSimulation
    /// Group of the summary table, e.g. "fluorescence 50 ph".
    var group: String

    init(name: String, texture: String, channel: Int?, crop: Int, settings: MicroscopeSimulation, group: String) {
        self.name = name
        self.texture = texture
        self.channel = channel
        self.crop = crop
        self.settings = settings
        self.group = group
    }

    /// The dev set over textures in `folder` (files that are missing or unreadable are reported by
    /// the caller). The fluorescence textures rotate over the photon levels and slice counts so
    /// that every level sees several textures and depths.
    static func devSet(photonLevels: [Double] = [50, 300, 3000], crop: Int = 256) -> [BenchmarkStack] {
        let fluorescence: [(String, Int?)] = [
            ("bacteria_cords_16bit.tif", nil), ("microtubules_16bit.tif", nil), ("nuclei_golgi_2ch_16bit.tif", 0),
            ("membranes_nuclei_2ch_16bit.tif", 0), ("cell_dna_mts_actin_3ch_16bit.tif", 1),
        ]
        let depths = [8, 16, 24, 40, 12]
        var set: [BenchmarkStack] = []
        for (level, photons) in photonLevels.enumerated() {
            for (i, (file, channel)) in fluorescence.enumerated() {
                let slices = depths[(i + level) % depths.count]
                var s = MicroscopeSimulation(modality: .fluorescence, slices: slices, photons: photons,
                                             seed: UInt64(1000 + 17 * level + i))
                s.surfaceSteps = 1 + (i % 3)
                set.append(BenchmarkStack(name: "fl-\(Int(photons))-\(stem(file))", texture: file, channel: channel, crop: crop,
                                          settings: s, group: "fluorescence \(Int(photons)) ph"))
            }
        }
        for (i, (file, slices)) in [("cells_rgb.tif", 12), ("wound_healing_phase_contrast.jpg", 24), ("cells_rgb.tif", 32)].enumerated() {
            var s = MicroscopeSimulation(modality: .brightfield, slices: slices, photons: 2000, seed: UInt64(2000 + i), format: .uint8)
            s.surfaceSteps = 1 + i
            set.append(BenchmarkStack(name: "bf-rgb-\(slices)-\(stem(file))", texture: file, channel: nil, crop: crop,
                                      settings: s, group: "brightfield RGB"))
        }
        // Focus breathing (1 % across the stack) and stage drift (0.4 px per slice): profiles align
        // first; the engines and baselines see the stack as recorded.
        for (i, (file, channel, slices)) in [("bacteria_cords_16bit.tif", nil as Int?, 20), ("nuclei_golgi_2ch_16bit.tif", 0, 28)].enumerated() {
            var s = MicroscopeSimulation(modality: .fluorescence, slices: slices, photons: 300, seed: UInt64(4000 + i))
            s.breathing = 0.01
            s.drift = 0.4
            set.append(BenchmarkStack(name: "fl-drift-\(stem(file))", texture: file, channel: channel, crop: crop,
                                      settings: s, group: "fluorescence 300 ph, drift"))
        }
        do {
            var s = MicroscopeSimulation(modality: .brightfield, slices: 16, photons: 2000, seed: 4100, format: .uint8)
            s.breathing = 0.01
            s.drift = 0.4
            set.append(BenchmarkStack(name: "bf-rgb-drift-cells_rgb", texture: "cells_rgb.tif", channel: nil, crop: crop,
                                      settings: s, group: "brightfield RGB, drift"))
        }
        for (i, (file, slices)) in [("wound_healing_phase_contrast.jpg", 16), ("cells_rgb.tif", 40)].enumerated() {
            var s = MicroscopeSimulation(modality: .brightfield, slices: slices, photons: 1000, seed: UInt64(3000 + i))
            s.surfaceSteps = 2
            set.append(BenchmarkStack(name: "bf-16-\(slices)-\(stem(file))", texture: file, channel: nil, crop: crop,
                                      settings: s, group: "brightfield 16-bit"))
        }
        return set
    }

    /// A set over any in-focus images (a held-out check on textures the dev set does not use):
    /// each file gives fluorescence stacks at every photon level and one 16-bit brightfield stack,
    /// N rotating over 8…40.
    static func set(files: [String], photonLevels: [Double] = [50, 300, 3000], crop: Int = 256) -> [BenchmarkStack] {
        let depths = [8, 16, 24, 40, 12]
        var set: [BenchmarkStack] = []
        for (i, file) in files.enumerated() {
            for (level, photons) in photonLevels.enumerated() {
                var s = MicroscopeSimulation(modality: .fluorescence, slices: depths[(i + level) % depths.count], photons: photons,
                                             seed: UInt64(5000 + 31 * i + level))
                s.surfaceSteps = 1 + (i + level) % 3
                set.append(BenchmarkStack(name: "fl-\(Int(photons))-\(stem(file))", texture: file, channel: 0, crop: crop,
                                          settings: s, group: "fluorescence \(Int(photons)) ph"))
            }
            var s = MicroscopeSimulation(modality: .brightfield, slices: depths[(i + 3) % depths.count], photons: 1000,
                                         seed: UInt64(6000 + i))
            s.surfaceSteps = 2
            set.append(BenchmarkStack(name: "bf-16-\(stem(file))", texture: file, channel: nil, crop: crop,
                                      settings: s, group: "brightfield 16-bit"))
        }
        return set
    }

    static func stem(_ file: String) -> String {
        let base = file.split(separator: "/").last.map(String.init) ?? file
        return base.split(separator: ".").first.map(String.init) ?? base
    }

    /// The texture this stack simulates: the named channel, the image as it is for RGB brightfield,
    /// luminance for 16-bit brightfield of a colour image; centre-cropped.
    func prepare(_ image: Image) -> Image {
        var plane = image
        if let channel, channel < image.channels {
            plane = image.channel(channel)
        } else if image.channels == 3 && settings.format != .uint8 {
            plane = image.luminanceImage()
        } else if image.channels != 3 && settings.format == .uint8 {
            plane = Image(planes: [Image](repeating: image.channel(0), count: 3))
        } else if image.channels > 1 && image.channels != 3 {
            plane = image.channel(0)
        }
        return Self.centreCrop(plane, side: crop)
    }

    /// The centred `side`×`side` square (or the largest that fits), every channel kept.
    static func centreCrop(_ image: Image, side requested: Int) -> Image {
        let side = min(requested, image.width, image.height)
        return image.cropped(x0: (image.width - side) / 2, y0: (image.height - side) / 2, width: side, height: side)
    }
}
