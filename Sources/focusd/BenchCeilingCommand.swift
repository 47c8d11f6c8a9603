import ArgumentParser
import Foundation
import Fusion
import Imaging
import NN
import Pipeline

struct BenchCeilingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceiling",
        abstract: "How high Q_AB/F goes for fusions made of the sources' own pixels, selected or blended, around the control's and a profile's decision maps.",
        discussion: """
            For every pair NN_A.* / NN_B.* in --dataset, takes the decision map of the control (7×7 \
            Laplacian energy through the decision projection) and of each --profile, and scores on grey \
            luminance: the map as blended; the best uniform boundary shift (every boundary moved by the \
            same k pixels, up to --shift-range); the seam-free bound (each pixel's Q_AB/F term from the \
            selected source's own image — no selection reaches it); and greedy single-pixel flips that raise \
            Q_AB/F's own numerator, within --band pixels of a boundary and anywhere, with the Q_CB each \
            costs; and, within the band, blends (weights 0, ¼, ½, ¾, 1) chosen the same way. Means \
            over pairs.

            Examples:
              focusd bench ceiling
              focusd bench ceiling --profile default --profile quality --pairs 3 --json
            """)

    @Option(help: "Folder of pairs NN_A.* / NN_B.*.") var dataset: String = SharedData.path("dev/lytro")
    @Option(help: "Profiles whose decision maps are measured besides the control's (repeatable; 'none' for the control only).")
    var profile: [String] = ["default"]
    @Option(help: "Pixels from a boundary within which the band flips and blends may act.") var band: Int = 2
    @Option(help: "Sweeps of the greedy flips.") var passes: Int = 3
    @Option(help: "Largest boundary shift tried, in pixels, each way.") var shiftRange: Int = 3
    @Option(help: "Use only the first N pairs.") var pairs: Int?
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        try SharedData.requireExisting(dataset, flag: "--dataset", what: "a folder of NN_A.* / NN_B.* pairs (shared data's dev/lytro)")
        guard band >= 1 else { throw ValidationError("--band must be ≥ 1") }
        guard (1...20).contains(passes) else { throw ValidationError("--passes must be 1…20") }
        guard (0...10).contains(shiftRange) else { throw ValidationError("--shift-range must be 0…10") }
        if let pairs, pairs < 1 { throw ValidationError("--pairs must be ≥ 1") }
    }

    /// One map source (the control or a profile) and its per-pair reports.
    struct Subject {
        let name: String
        let engine: any StackFusionEngine
        let projection: ProjectionOptions
        var reports: [SelectionCeiling.Report] = []
    }

    func run() throws {
        try Compute.withThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount) { try runWithThreads() }
    }

    private func runWithThreads() throws {
        var dataset = try DatasetPairs(directory: self.dataset).pairs
        if let pairs { dataset = Array(dataset.prefix(pairs)) }
        guard !dataset.isEmpty else {
            throw EvalError(path: self.dataset, message: "holds no pairs NN_A.* / NN_B.*; give a folder of pairs")
        }
        var subjects = [Subject(name: "control", engine: PairwiseEngine(generator: FocusMeasureGenerator()),
                                projection: ProjectionOptions())]
        for name in profile where name != "none" {
            let path = try ProfilesCommand.locate(name, extra: nil)
            let loaded = try ProfileLoader.load(.file(path), configurationFile: path)
            guard loaded.settings.engine != .reference else {
                throw EvalError(path: path, message: "uses the reference engine, which blends pyramid levels and has no decision map; give a control or fusiondiff profile")
            }
            guard loaded.settings.projection.mode == .decision else {
                throw EvalError(path: path, message: "uses the \(loaded.settings.projection.mode.rawValue) projection; the ceiling is measured around decision maps — give a profile with projection: decision")
            }
            let made = try loaded.settings.makeEngine(baseDirectory: loaded.baseDirectory ?? FileManager.default.currentDirectoryPath)
            subjects.append(Subject(name: "profile \(name)", engine: made.engine, projection: loaded.settings.projection))
        }
        // Fuse every pair with every subject first (the engines use the compute threads), then
        // measure the (pair, subject) tasks in parallel: each is independent and single-threaded.
        var tasks: [(pair: Int, subject: Int, a: Image, b: Image, peak: Double, weights: [Float])] = []
        for (p, pair) in dataset.enumerated() {
            let a = try ImageFile.read(pair.a), b = try ImageFile.read(pair.b)
            guard a.image.width == b.image.width, a.image.height == b.image.height else {
                throw EvalError(path: pair.b, message: "is \(b.image.width)×\(b.image.height) but \(pair.a) is \(a.image.width)×\(a.image.height); a pair must share one size")
            }
            let peak = EvalCommand.peak(a.format, [a.image, b.image])
            let stack = InMemoryStack(slices: [a.image, b.image], format: a.format, names: [pair.a, pair.b])
            for i in subjects.indices {
                // Two slices: depth = (1 − w)·1, so the first source's weight is 1 − depth.
                let depth = try subjects[i].engine.fuse(stack).depth.pixels
                tasks.append((p, i, a.image, b.image, peak, depth.map { min(1, max(0, 1 - $0)) }))
            }
        }
        var results = [SelectionCeiling.Report?](repeating: nil, count: tasks.count)
        results.withUnsafeMutableBufferPointer { slots in
            Compute.parallelTasks(tasks.count) { t, _ in
                let task = tasks[t]
                slots[t] = SelectionCeiling.measure(
                    a: task.a, b: task.b, weights: task.weights, peak: task.peak, band: band, passes: passes,
                    shifts: -shiftRange...shiftRange, projection: subjects[task.subject].projection)
                if !json { FileHandle.standardError.write(Data("pair \(dataset[task.pair].name), \(subjects[task.subject].name) done\n".utf8)) }
            }
        }
        for (t, task) in tasks.enumerated() { subjects[task.subject].reports.append(results[t]!) }
        print(json ? jsonText(subjects, pairs: dataset.count) : table(subjects, pairs: dataset.count))
    }

    typealias Line = (label: String, scores: (SelectionCeiling.Report) -> SelectionCeiling.Scores)

    var lines: [Line] {
        [("decision map as blended", \.given),
         ("best uniform boundary shift (±\(shiftRange) px)", \.bestShift),
         ("seam-free bound (not an image)", \.seamFree),
         ("Q_AB/F-greedy flips within \(band) px of a boundary", \.bandFlips),
         ("Q_AB/F-greedy blends (w 0, ¼, ½, ¾, 1) within \(band) px", \.bandBlends),
         ("Q_AB/F-greedy flips anywhere", \.anywhereFlips)]
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }

    func table(_ subjects: [Subject], pairs: Int) -> String {
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        var out = ["dataset \(dataset), \(pairs) pairs; grey luminance, means over pairs"]
        for s in subjects {
            out.append("")
            out.append("\(s.name):")
            out.append("  " + [pad("what", 50), pad("Q_AB/F", 7), "Q_CB"].joined(separator: " "))
            for line in lines {
                let scores = s.reports.map(line.scores)
                let qcb = scores.compactMap(\.qcb)
                out.append("  " + [pad(line.label, 50), pad(String(format: "%.4f", Self.mean(scores.map(\.qabf))), 7),
                                   qcb.isEmpty ? "-" : String(format: "%.4f", Self.mean(qcb))].joined(separator: " "))
            }
            let shifts = s.reports.map { String($0.bestShiftPixels) }.joined(separator: ",")
            out.append("  best shift per pair (px, > 0 shrinks A's region): \(shifts); pixels flipped anywhere: "
                       + String(format: "%.1f %%", 100 * Self.mean(s.reports.map(\.anywhereFlippedFraction))))
        }
        return out.joined(separator: "\n")
    }

    func jsonText(_ subjects: [Subject], pairs: Int) -> String {
        let keys = ["given", "best_shift", "seam_free", "band_flips", "band_blends", "anywhere_flips"]
        let object: [String: Any] = [
            "dataset": dataset, "pairs": pairs, "band": band, "passes": passes, "shift_range": shiftRange,
            "subjects": subjects.map { s -> [String: Any] in
                var o: [String: Any] = ["name": s.name,
                                        "best_shift_pixels": s.reports.map(\.bestShiftPixels),
                                        "anywhere_flipped_fraction": Self.mean(s.reports.map(\.anywhereFlippedFraction))]
                for (key, line) in zip(keys, lines) {
                    let scores = s.reports.map(line.scores)
                    var entry: [String: Any] = ["qabf": Self.mean(scores.map(\.qabf)), "qabf_per_pair": scores.map(\.qabf)]
                    let qcb = scores.compactMap(\.qcb)
                    if !qcb.isEmpty { entry["qcb"] = Self.mean(qcb) }
                    o[key] = entry
                }
                return o
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
