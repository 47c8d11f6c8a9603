import ArgumentParser
import Foundation
import Fusion
import FusionDiff
import Imaging
import NN

struct BenchQualityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Fusion quality (Q_AB/F, Q_CB) and seconds per pair against K, model and projection, beside the baselines.",
        discussion: """
            For every pair NN_A.* / NN_B.* in --dataset, fuses with each --model at each --steps K and \
            each --projection mode, and always with the two baselines in the same run: the reference \
            engine (Laplacian pyramid) and the control (7×7 Laplacian-energy choose-max through the \
            decision projection). Prints a table of means, writes an SVG plot of Q_AB/F against K.
            Examples:
              focusd bench quality --model models/default.safetensors
              focusd bench quality --model a.safetensors --model b.safetensors --steps 1,2,4 --projection decision,none --svg q.svg
            """)

    @Option(help: "Folder of pairs NN_A.* / NN_B.*.") var dataset: String = SharedData.path("dev/lytro")
    @Option(help: "Model files (repeatable); none = baselines only.") var model: [String] = []
    @Option(help: "Step counts K.") var steps: String = "1,2,4,8,16,32"
    @Option(help: "Projection modes: decision, soft, none.") var projection: String = "decision,none"
    @Option(help: "Symmetry views averaged per pair (comma-separated, each 1…8; 1 = none).") var views: String = "1"
    @Option(help: "Use only the first N pairs.") var pairs: Int?
    @Option(help: "Tile edge for the model engines (0 = untiled).") var tile: Int = 0
    @Option(help: "SVG plot path; 'none' to skip.") var svg: String = "bench-quality.svg"
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        try SharedData.requireExisting(dataset, flag: "--dataset", what: "a folder of NN_A.* / NN_B.* pairs (shared data's dev/lytro)")
        if stepList.isEmpty { throw ValidationError("--steps takes comma-separated positive integers") }
        if projectionList.isEmpty { throw ValidationError("--projection takes decision, soft and/or none") }
        if viewList.isEmpty || viewList.contains(where: { !(1...SymmetryView.all.count).contains($0) }) {
            throw ValidationError("--views takes comma-separated counts, each 1…\(SymmetryView.all.count)")
        }
    }

    var stepList: [Int] { steps.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 } }
    var viewList: [Int] { views.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var projectionList: [ProjectionMode] { projection.split(separator: ",").compactMap { ProjectionMode(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }

    struct Row {
        var engine: String
        var model: String?
        var parameters: Int?
        var objective: String?
        var steps: Int?
        var views: Int = 1
        var projection: String
        var qabf: [Double] = []
        var qcb: [Double] = []
        var seconds: [Double] = []
        func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
    }

    func run() async throws {
        try await Compute.withThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount) { try await runWithThreads() }
    }

    private func runWithThreads() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: dataset).sorted()
        var pairFiles: [(String, String, String)] = []
        for name in names where !name.hasPrefix(".") {
            let stem = (name as NSString).deletingPathExtension
            guard stem.hasSuffix("_A") else { continue }
            let base = String(stem.dropLast(2))
            guard let b = names.first(where: { ($0 as NSString).deletingPathExtension == base + "_B" }) else { continue }
            pairFiles.append((base, (dataset as NSString).appendingPathComponent(name), (dataset as NSString).appendingPathComponent(b)))
        }
        if let pairs { pairFiles = Array(pairFiles.prefix(pairs)) }
        guard !pairFiles.isEmpty else {
            throw ModelFileError(path: dataset, message: "holds no pairs NN_A.* / NN_B.*")
        }
        // Engines: the two baselines, then every model × K × projection.
        var engines: [(Row, any StackFusionEngine)] = [
            (Row(engine: "reference", projection: "-"), ReferenceEngine()),
            (Row(engine: "control", projection: "decision"), PairwiseEngine(generator: FocusMeasureGenerator())),
        ]
        for path in model {
            let loaded = try ModelFileLoader.load(path, configPath: nil)
            for n in viewList {
                for k in stepList {
                    let generator = FusionDiffGenerator(network: loaded.network, schedule: loaded.model.schedule,
                                                        steps: min(k, loaded.model.schedule.timesteps), views: n)
                    for mode in projectionList {
                        var options = ProjectionOptions()
                        options.mode = mode
                        let row = Row(engine: "fusiondiff", model: path, parameters: loaded.network.parameterCount,
                                      objective: loaded.model.configuration.prediction.rawValue, steps: k, views: n, projection: mode.rawValue)
                        engines.append((row, PairwiseEngine(generator: generator, projection: options, tiling: TileOptions(size: tile))))
                    }
                }
            }
        }
        for (name, pathA, pathB) in pairFiles {
            let a = try ImageFile.read(pathA), b = try ImageFile.read(pathB)
            let peak = a.format.maximumValue.map(Double.init) ?? FusionMetrics.inferredPeak([a.image, b.image])
            let stack = InMemoryStack(slices: [a.image, b.image], format: a.format, names: [pathA, pathB])
            for i in engines.indices {
                let start = Date()
                let fused = try engines[i].1.fuse(stack).fused
                engines[i].0.seconds.append(Date().timeIntervalSince(start))
                engines[i].0.qabf.append(FusionMetrics.qabf(a.image, b.image, fused: fused, peak: peak))
                engines[i].0.qcb.append(FusionMetrics.qcb(a.image, b.image, fused: fused, peak: peak))
            }
            if !json { FileHandle.standardError.write(Data("pair \(name) done\n".utf8)) }
        }
        let rows = engines.map(\.0)
        if svg != "none" { try QualityPlot.write(rows: rows, to: svg) }
        if json {
            let object: [String: Any] = [
                "dataset": dataset, "pairs": pairFiles.count, "threads": Compute.threads,
                "rows": rows.map { r -> [String: Any] in
                    var o: [String: Any] = ["engine": r.engine, "projection": r.projection, "qabf": r.mean(r.qabf),
                                            "qcb": r.mean(r.qcb), "seconds_per_pair": r.mean(r.seconds)]
                    if let m = r.model { o["model"] = m }
                    if let p = r.parameters { o["parameters"] = p }
                    if let obj = r.objective { o["objective"] = obj }
                    if let k = r.steps { o["steps"] = k; o["views"] = r.views }
                    return o
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("dataset \(dataset), \(pairFiles.count) pairs, \(Compute.threads) threads; means over pairs")
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        print([pad("engine", 11), pad("model", 28), pad("params", 10), pad("objective", 9), pad("K", 4), pad("views", 5), pad("projection", 10),
               pad("Q_AB/F", 7), pad("Q_CB", 7), "s/pair"].joined(separator: " "))
        for r in rows {
            let modelName = r.model.map { ($0 as NSString).lastPathComponent } ?? "-"
            print([pad(r.engine, 11), pad(modelName, 28), pad(r.parameters.map { String($0) } ?? "-", 10), pad(r.objective ?? "-", 9),
                   pad(r.steps.map { String($0) } ?? "-", 4), pad(r.steps == nil ? "-" : String(r.views), 5), pad(r.projection, 10), pad(String(format: "%.4f", r.mean(r.qabf)), 7),
                   pad(String(format: "%.4f", r.mean(r.qcb)), 7), String(format: "%.2f", r.mean(r.seconds))].joined(separator: " "))
        }
        if svg != "none" { print("plot: \(svg)") }
    }
}

/// A small hand-written SVG: Q_AB/F against K (log₂ axis) per model and projection, baselines as
/// dashed horizontal lines.
enum QualityPlot {
    static func write(rows: [BenchQualityCommand.Row], to path: String) throws {
        let width = 640.0, height = 400.0, left = 60.0, right = 200.0, top = 20.0, bottom = 50.0
        let values = rows.map { $0.mean($0.qabf) }.filter { $0.isFinite }
        let lo = max(0, (values.min() ?? 0) - 0.02), hi = min(1, (values.max() ?? 1) + 0.02)
        let ks = Set(rows.compactMap(\.steps)).sorted()
        let kMax = Double(max(ks.last ?? 1, 2))
        func x(_ k: Int) -> Double { left + (width - left - right) * log2(Double(k)) / log2(kMax) }
        func y(_ q: Double) -> Double { top + (height - top - bottom) * (1 - (q - lo) / max(hi - lo, 1e-9)) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        for k in ks { s += "<text x=\"\(x(k))\" y=\"\(height - bottom + 15)\" text-anchor=\"middle\">\(k)</text>\n" }
        s += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">sampler steps K</text>\n"
        for i in 0...4 {
            let q = lo + (hi - lo) * Double(i) / 4
            s += "<text x=\"\(left - 6)\" y=\"\(y(q) + 4)\" text-anchor=\"end\">\(String(format: "%.3f", q))</text>\n"
        }
        s += "<text x=\"14\" y=\"\((top + height - bottom) / 2)\" transform=\"rotate(-90 14 \((top + height - bottom) / 2))\" text-anchor=\"middle\">Q_AB/F</text>\n"
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
        var legend = 0
        func legendEntry(_ text: String, _ colour: String, dashed: Bool) {
            let ly = top + 14 * Double(legend)
            s += "<line x1=\"\(width - right + 10)\" y1=\"\(ly)\" x2=\"\(width - right + 30)\" y2=\"\(ly)\" stroke=\"\(colour)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"4 3\"" : "")/>\n"
            s += "<text x=\"\(width - right + 34)\" y=\"\(ly + 4)\">\(escape(text))</text>\n"
            legend += 1
        }
        for (i, r) in rows.filter({ $0.steps == nil }).enumerated() {
            let colour = i == 0 ? "#7f7f7f" : "#000000"
            let q = r.mean(r.qabf)
            s += "<line x1=\"\(left)\" y1=\"\(y(q))\" x2=\"\(width - right)\" y2=\"\(y(q))\" stroke=\"\(colour)\" stroke-dasharray=\"4 3\"/>\n"
            legendEntry("\(r.engine) \(String(format: "%.3f", q))", colour, dashed: true)
        }
        var series: [String: [(Int, Double)]] = [:]
        var order: [String] = []
        for r in rows where r.steps != nil {
            let key = "\((r.model.map { ($0 as NSString).lastPathComponent }) ?? "") \(r.projection)" + (r.views > 1 ? " ×\(r.views) views" : "")
            if series[key] == nil { order.append(key) }
            series[key, default: []].append((r.steps!, r.mean(r.qabf)))
        }
        for (i, key) in order.enumerated() {
            let colour = colours[i % colours.count]
            let points = series[key]!.map { "\(x($0.0)),\(y($0.1))" }.joined(separator: " ")
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            for (k, q) in series[key]! { s += "<circle cx=\"\(x(k))\" cy=\"\(y(q))\" r=\"3\" fill=\"\(colour)\"/>\n" }
            legendEntry(key, colour, dashed: false)
        }
        s += "</svg>\n"
        do { try s.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw ModelFileError(path: path, message: "cannot write the plot: \(error.localizedDescription)")
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
