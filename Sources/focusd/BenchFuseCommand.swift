import ArgumentParser
import Foundation
import Fusion
import FusionDiff
import Imaging
import NN
import SeededRandom

struct BenchFuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuse",
        abstract: "Benchmark FusionDiff pair and stack fusion.",
        discussion: """
            Seconds per pair (generator only: K U-Net passes, untiled) at each --sizes edge for each \
            --steps K, with the given model (or a freshly initialised network of --preset, whose \
            timing equals a trained one of that shape); peak memory (VmHWM); and the time to fuse \
            the 34-slice 16-bit dev stack with the decision projection at --stack-steps. \
            Medians of --repeats runs. With --stack WxHxN instead: a simulated 16-bit widefield \
            fluorescence stack of N slices at W×H (cached in --cache) fused by every shipped profile \
            (or each --profile) through the pipeline of `focusd fuse`, with seconds, slices per second \
            and peak resident memory per profile, the reference engine's in the same run. Examples:
              focusd bench fuse --model models/default.safetensors
              focusd bench fuse --stack 2048x2048x50 --threads 2
              focusd bench fuse --stack 2048x2048x10 --profile default --profile reference --repeats 3
              focusd bench fuse --preset small16 --sizes 520 --steps 1,2,4 --json
            """)

    @Option(help: "Model file; default: a fresh network of --preset.") var model: String?
    @Option(help: "Preset when no --model is given: small16, small32, paper.") var preset: String = "small16"
    @Option(help: "Square pair sizes in pixels.") var sizes: String = "520,2048"
    @Option(help: "Step counts K.") var steps: String = "1,2,4,8,16,32"
    @Option(help: "Runs per measurement (median).") var repeats: Int = 1
    @Option(help: "Stack to fuse (folder or multi-page TIFF); 'none' to skip.")
    var stack: String = SharedData.path("dev/stacks/dfnn_lightsheet_mitochondria")
    @Option(help: "K for the stack fusion.") var stackSteps: Int = 2
    @Option(help: "With --stack WxHxN: profiles to fuse it with (default: every shipped profile).") var profile: [String] = []
    @Option(help: "With --stack WxHxN: photo-electrons at the brightest in-focus pixel.") var photons: Double = 300
    @Option(help: "With --stack WxHxN: the in-focus texture, mirror-tiled to W×H.")
    var texture: String = SharedData.path("train/microscopy/microtubules_16bit.tif")
    @Option(help: "With --stack WxHxN: folder the simulated stack is cached in.") var cache: String = NSTemporaryDirectory() + "focusd-bench-stacks"
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if SimulatedStackBench.parse(stack) != nil {
            try SharedData.requireExisting(texture, flag: "--texture", what: "an in-focus image")
        } else if stack != "none" { try SharedData.requireExisting(stack, flag: "--stack", what: "a stack (folder or multi-page TIFF), or 'none'") }
        if parse(sizes).isEmpty || parse(steps).isEmpty { throw ValidationError("--sizes and --steps take comma-separated positive integers") }
        if parse(sizes).contains(where: { $0 % 8 != 0 }) { throw ValidationError("--sizes must be multiples of 8") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if model == nil, ModelPresets.configuration(named: preset) == nil { throw ValidationError("unknown --preset \(preset)") }
    }

    private func parse(_ list: String) -> [Int] {
        list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
    }

    func run() async throws {
        try await Compute.withThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount) { try await runWithThreads() }
    }

    private func runWithThreads() async throws {
        if let geometry = SimulatedStackBench.parse(stack) {
            try runSimulatedStack(geometry)
            return
        }
        let network: UNet
        let schedule: NoiseSchedule
        var modelName = "preset \(preset) (untrained)"
        if let model {
            let loaded = try ModelFileLoader.load(model, configPath: nil)
            network = loaded.network
            schedule = loaded.model.schedule
            modelName = model
        } else {
            var c = ModelPresets.configuration(named: preset)!
            c.focusFeatures = preset.hasPrefix("small")
            network = UNet(configuration: c)
            schedule = NoiseSchedule()
        }
        let config = network.configuration
        var results: [[String: Any]] = []
        if !json {
            print("model: \(modelName), \(ModelPresets.grouped(network.parameterCount)) parameters, \(config.imageChannels) channel(s), \(Compute.threads) threads")
            print("size    K   seconds/pair  seconds/pass  GFLOP/s")
        }
        for size in parse(sizes) {
            var rng = SplitMix64(seed: 1)
            let plane = size * size * config.imageChannels
            let s1 = Image(width: size, height: size, channels: config.imageChannels,
                           pixels: (0..<plane).map { _ in Float(rng.uniform(-1, 1)) })
            let s2 = Image(width: size, height: size, channels: config.imageChannels,
                           pixels: (0..<plane).map { _ in Float(rng.uniform(-1, 1)) })
            let flops = 2.0 * Double(network.multiplyAdds(height: size, width: size))
            for k in parse(steps) {
                let generator = FusionDiffGenerator(network: network, schedule: schedule, steps: min(k, schedule.timesteps))
                var times: [Double] = []
                for _ in 0..<repeats {
                    let start = Date()
                    _ = try generator.generate(s1, s2)
                    times.append(Date().timeIntervalSince(start))
                }
                let seconds = times.sorted()[times.count / 2]
                let perPass = seconds / Double(k)
                results.append(["size": size, "steps": k, "seconds_per_pair": seconds, "seconds_per_pass": perPass,
                                "gflops_per_s": flops / perPass / 1e9])
                if !json {
                    print(String(format: "%-6d %3d   %10.3f    %10.3f  %7.1f", size, k, seconds, perPass, flops / perPass / 1e9))
                }
            }
        }
        var stackResult: [String: Any]?
        if stack != "none" {
            let sources = try StackLoader().open([stack])
            guard let slices = sources.first else { throw ModelFileError(path: stack, message: "holds no stack") }
            let generator = FusionDiffGenerator(network: network, schedule: schedule, steps: stackSteps)
            let engine = PairwiseEngine(generator: generator)
            let start = Date()
            let result = try engine.fuse(slices)
            let seconds = Date().timeIntervalSince(start)
            stackResult = ["path": stack, "slices": slices.count, "width": result.fused.width, "height": result.fused.height,
                           "format": slices.geometry.format.rawValue, "steps": stackSteps, "seconds": seconds]
            if !json {
                print(String(format: "stack %@: %d slices %d×%d %@, K = %d, decision projection: %.2f s",
                             stack, slices.count, result.fused.width, result.fused.height, slices.geometry.format.rawValue, stackSteps, seconds))
            }
        }
        let peak = PeakMemory.residentBytes()
        if json {
            var object: [String: Any] = ["model": modelName, "parameters": network.parameterCount, "threads": Compute.threads,
                                         "pairs": results, "peak_resident_bytes": peak]
            if let stackResult { object["stack"] = stackResult }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "peak resident memory: %.0f MiB", Double(peak) / 1_048_576))
        }
    }
}

extension BenchFuseCommand {
    func runSimulatedStack(_ geometry: (width: Int, height: Int, slices: Int)) throws {
        let bench = SimulatedStackBench(width: geometry.width, height: geometry.height, slices: geometry.slices, photons: photons,
                                        texture: texture, profiles: profile.isEmpty ? BenchStacksCommand.shippedProfiles : profile,
                                        threads: Compute.threads, repeats: repeats, cache: cache)
        let (path, rows) = try bench.run()
        let reference = rows.first { $0.name == "reference" }
        if json {
            let object: [String: Any] = [
                "stack": path, "width": geometry.width, "height": geometry.height, "slices": geometry.slices, "threads": Compute.threads,
                "profiles": rows.map { row -> [String: Any] in
                    var o: [String: Any] = ["profile": row.profile, "seconds": row.seconds, "runs": row.allSeconds,
                                            "slices_per_second": Double(geometry.slices) / row.seconds,
                                            "peak_resident_bytes": row.peakBytes, "stage_seconds": row.stageSeconds]
                    if let reference { o["seconds_vs_reference"] = row.seconds / reference.seconds }
                    return o
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("stack \(path): \(geometry.width)×\(geometry.height)×\(geometry.slices) uint16, \(Compute.threads) threads, median of \(repeats)")
        print("profile               seconds  slices/s  peak MiB  × reference   stages (s)")
        for row in rows {
            let stages = row.stageSeconds.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f", $0.key, $0.value) }.joined(separator: ", ")
            print(String(format: "%-20@ %8.2f  %8.2f  %8.0f  %11@   %@", row.profile as NSString, row.seconds,
                         Double(geometry.slices) / row.seconds, Double(row.peakBytes) / 1_048_576,
                         (reference.map { String(format: "%.2f", row.seconds / $0.seconds) } ?? "-") as NSString, stages as NSString))
        }
    }
}

/// The process's peak resident set size (Linux `VmHWM`), 0 where unavailable.
enum PeakMemory {
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
