import ArgumentParser
import Foundation
import FusionDiff
import NN
import SeededRandom

/// `focusd bench nn`: the NN engine's convolution throughput against `cblas_sgemm` on the
/// equivalent GEMM, measured in the same run, and a whole luminance U-Net forward pass.
///
/// The reference is one plain `cblas_sgemm` call with OpenBLAS's own threading at `--threads`
/// (the engine itself runs OpenBLAS single-threaded inside its own workers).
struct BenchNNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Benchmark the NN engine against cblas_sgemm.",
        discussion: """
            For every distinct convolution of the luminance U-Net (mults 1,2,4,8) at each width and size, \
            times the engine's forward pass and cblas_sgemm on the equivalent GEMM (same threads), then a \
            whole U-Net forward at --unet-size. forward_efficiency = U-Net GFLOP/s ÷ sgemm GFLOP/s on the \
            same GEMM shapes, time-weighted (Σ sgemm time ÷ U-Net time). FLOPs are 2·multiply-adds of the \
            direct and transposed convolutions. Medians over --runs. Build with -c release.
            """)

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    @Option(help: "Threads for GEMM and the engine's loops.")
    var threads = 2

    @Option(help: "Timed runs per measurement (the median is reported).")
    var runs = 5

    @Option(parsing: .upToNextOption, help: "U-Net base widths.")
    var widths: [Int] = [16, 32, 64]

    @Option(parsing: .upToNextOption, help: "Square input sizes of the per-layer table.")
    var sizes: [Int] = [256, 512]

    @Option(help: "Square input size of the whole-U-Net pass.")
    var unetSize = 512

    @Option(help: "Width whose figures are reported at the top level of the JSON.")
    var reportWidth = 32

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard !widths.isEmpty, widths.allSatisfy({ $0 >= 8 && $0 % 8 == 0 }) else {
            throw ValidationError("--widths must be multiples of 8 (the small configuration uses 8 groups)")
        }
        guard sizes.allSatisfy({ $0 >= 8 && $0 % 8 == 0 }), unetSize >= 8, unetSize % 8 == 0 else {
            throw ValidationError("sizes must be positive multiples of 8")
        }
    }

    func run() async throws {
        try Compute.withThreads(threads) { try measure() }
    }

    /// Runs every measurement and prints the tables or the JSON object.
    func measure() throws {
        let timer = LayerTimer(runs: runs)
        var layerRows: [[String: Any]] = []
        var perWidth: [String: [String: Any]] = [:]
        if !json {
            print("focusd bench nn — \(threads) thread(s), median of \(runs), 3×3 convolution kernels \(Conv2D.kernelPath)")
            print("layer (Cin→Cout k s @ H×W)            GEMM m×n×k                conv GF/s  sgemm GF/s  ratio")
        }
        for width in widths {
            let network = UNet(configuration: .small(width: width))
            for size in sizes {
                var seen = Set<[Int]>()
                for shape in network.layerShapes(height: size, width: size) where seen.insert(shape.geometry).inserted {
                    let (conv, gemm, ratio) = timer.pairedSeconds(shape)
                    let flops = 2 * Double(shape.multiplyAdds)
                    let row: [String: Any] = [
                        "width": width, "size": size, "layer": shape.name, "kind": shape.kind.rawValue,
                        "in_channels": shape.inChannels, "out_channels": shape.outChannels, "kernel": shape.kernel,
                        "stride": shape.stride, "height": shape.height, "width_px": shape.width,
                        "gemm_m": shape.gemm.m, "gemm_n": shape.gemm.n, "gemm_k": shape.gemm.k,
                        "conv_gflops_per_s": flops / conv / 1e9, "sgemm_gflops_per_s": flops / gemm / 1e9,
                        "ratio": ratio,
                    ]
                    layerRows.append(row)
                    if !json {
                        let label = "\(shape.kind == .transposed ? "T " : "")\(shape.inChannels)→\(shape.outChannels) k\(shape.kernel) s\(shape.stride) @ \(shape.height)×\(shape.width)"
                        let g = shape.gemm
                        print(pad(label, 37) + pad("\(g.m)×\(g.n)×\(g.k)", 26)
                              + pad(String(format: "%8.1f", flops / conv / 1e9), 11)
                              + pad(String(format: "%9.1f", flops / gemm / 1e9), 12)
                              + String(format: "%5.2f", ratio))
                    }
                }
            }
            // Whole network.
            let flops = 2 * Double(network.multiplyAdds(height: unetSize, width: unetSize))
            let (seconds, sgemmTotal, efficiency) = timer.unetSeconds(network, size: unetSize)
            let figures: [String: Any] = [
                "unet_forward_seconds": seconds,
                "unet_forward_gflops_per_s": flops / seconds / 1e9,
                "sgemm_seconds": sgemmTotal,
                "sgemm_gflops_per_s": flops / sgemmTotal / 1e9,
                "forward_efficiency": efficiency,
                "gflop": flops / 1e9,
                "parameters": network.parameterCount,
                "size": unetSize,
            ]
            perWidth[String(width)] = figures
            if !json {
                print(String(format: "U-Net width %d at %d²: %.3f s, %.1f GFLOP, %.1f GFLOP/s; sgemm on the same shapes %.1f GFLOP/s; forward_efficiency %.3f",
                             width, unetSize, seconds, flops / 1e9, flops / seconds / 1e9, flops / sgemmTotal / 1e9, efficiency))
            }
        }
        let memoryNetwork = UNet(configuration: .small(width: reportWidth))
        let trainingBytes = memoryNetwork.trainingMemoryEstimate(batch: 8, height: 128, width: 128)
        if !json {
            print(String(format: "training step memory (small width %d, batch 8, 128²): %.2f GB (estimate)",
                         reportWidth, Double(trainingBytes) / 1e9))
            return
        }
        var object: [String: Any] = [
            "threads": threads, "runs": runs, "widths": perWidth, "layers": layerRows,
            "training_step_bytes_small_b8_128": trainingBytes, "convolution_kernels": Conv2D.kernelPath,
        ]
        if let top = perWidth[String(reportWidth)] {
            for key in ["unet_forward_seconds", "unet_forward_gflops_per_s", "sgemm_gflops_per_s", "forward_efficiency"] {
                object[key] = top[key]
            }
            object["width"] = reportWidth
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// Times engine ops against their equivalent GEMMs. Every run times the engine and then the
/// GEMM back to back, so load from other processes hits both alike; medians over the runs, and
/// the ratio is the median of the per-run ratios.
private struct LayerTimer {
    let runs: Int

    init(runs: Int) { self.runs = runs }

    private func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Medians of (engine, reference, reference ÷ engine) over `runs` paired runs after a warm-up.
    private func paired(_ engine: () -> Void, _ reference: () -> Void) -> (Double, Double, Double) {
        engine()
        reference()
        var e: [Double] = [], r: [Double] = [], ratio: [Double] = []
        for _ in 0..<runs {
            let te = seconds(engine), tr = seconds(reference)
            e.append(te)
            r.append(tr)
            ratio.append(tr / te)
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        return (median(e), median(r), median(ratio))
    }

    /// A GEMM `[m, k]·[k, n]` with its own random operands, ready to run.
    private final class GEMMCase {
        let m: Int, n: Int, k: Int
        let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>
        let threads: Int
        init(_ g: (m: Int, n: Int, k: Int), threads: Int) {
            (m, n, k) = (g.m, g.n, g.k)
            self.threads = threads
            a = randomBuffer(m * k)
            b = randomBuffer(k * n)
            c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        }
        deinit { a.deallocate(); b.deallocate(); c.deallocate() }
        func run() { referenceMatrixMultiply(m: m, n: n, k: k, a: a, b: b, c: c, threads: threads) }
    }

    /// The engine's op for `shape`, ready to run.
    private final class EngineCase {
        let shape: UNetLayerShape
        let workspace = Workspace()
        let input: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
        let weight: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
        init(_ shape: UNetLayerShape) {
            self.shape = shape
            input = randomBuffer(shape.inChannels * shape.height * shape.width)
            bias = randomBuffer(shape.outChannels)
            weight = randomBuffer(shape.inChannels * shape.outChannels * shape.kernel * shape.kernel)
            output = UnsafeMutablePointer<Float>.allocate(capacity: shape.outChannels * 4 * shape.height * shape.width)
        }
        deinit { input.deallocate(); bias.deallocate(); weight.deallocate(); output.deallocate() }
        func run() {
            switch shape.kind {
            case .convolution:
                Conv2D(inChannels: shape.inChannels, outChannels: shape.outChannels, kernelSize: shape.kernel,
                       stride: shape.stride, padding: shape.padding)
                    .forward(input: input, batch: 1, height: shape.height, width: shape.width, weight: weight, bias: bias,
                             output: output, workspace: workspace)
            case .transposed:
                ConvTranspose2D(inChannels: shape.inChannels, outChannels: shape.outChannels)
                    .forward(input: input, batch: 1, height: shape.height, width: shape.width, weight: weight, bias: bias,
                             output: output, workspace: workspace)
            }
        }
    }

    /// Engine op and equivalent GEMM for one layer shape.
    func pairedSeconds(_ shape: UNetLayerShape) -> (engine: Double, sgemm: Double, ratio: Double) {
        let engine = EngineCase(shape), reference = GEMMCase(shape.gemm, threads: Compute.threads)
        return paired(engine.run, reference.run)
    }

    /// Whole U-Net pass and, paired with it, the equivalent GEMM of every one of its layers.
    func unetSeconds(_ network: UNet, size: Int) -> (unet: Double, sgemm: Double, efficiency: Double) {
        let c = network.configuration
        let input = randomBuffer(c.inputChannels * size * size)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: c.outputChannels * size * size)
        defer { input.deallocate(); output.deallocate() }
        let gemms = network.layerShapes(height: size, width: size).map { GEMMCase($0.gemm, threads: Compute.threads) }
        return paired({
            network.forward(input: input, batch: 1, height: size, width: size, timesteps: [999], output: output)
        }, {
            for g in gemms { g.run() }
        })
    }
}

private func randomBuffer(_ count: Int) -> UnsafeMutablePointer<Float> {
    var generator = SplitMix64(seed: UInt64(count))
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
    for i in 0..<count { buffer[i] = generator.uniformFloat(bound: 1) }
    return buffer
}
