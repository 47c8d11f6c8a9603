import Foundation
import Fusion
import Imaging

/// The pairs of a dataset folder: `NN_A.*`, `NN_B.*` and optionally `NN_GT.*`, in natural order.
struct DatasetPairs {
    struct Pair {
        let name: String
        let a: String
        let b: String
        let truth: String?
    }

    let pairs: [Pair]

    init(directory: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw EvalError(path: directory, message: "cannot list the folder (\(error.localizedDescription)); give a folder of NN_A.* / NN_B.* pairs")
        }
        var parts: [String: [String: String]] = [:]
        for file in names {
            let stem = (file as NSString).deletingPathExtension
            for role in ["A", "B", "GT"] where stem.hasSuffix("_" + role) {
                let key = String(stem.dropLast(role.count + 1))
                parts[key, default: [:]][role] = (directory as NSString).appendingPathComponent(file)
            }
        }
        pairs = parts.keys
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            .compactMap { key in
                guard let a = parts[key]?["A"], let b = parts[key]?["B"] else { return nil }
                return Pair(name: key, a: a, b: b, truth: parts[key]?["GT"])
            }
        if pairs.isEmpty {
            throw EvalError(path: directory, message: "holds no pairs; name the sources NN_A.<ext> and NN_B.<ext>")
        }
    }

    /// The file `name.*` in `directory` (another tool's fused output for pair `name`).
    static func file(named name: String, in directory: String) throws -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard let match = names.sorted().first(where: { ($0 as NSString).deletingPathExtension == name }) else {
            throw EvalError(path: directory, message: "has no fused image \(name).* for pair \(name); name another tool's outputs after the pairs")
        }
        return (directory as NSString).appendingPathComponent(match)
    }
}

/// The metrics of one fused image.
struct PairScores {
    var qabf, qmi, qcb, qy: Double
    var psnr: Double?
    var ssim: Double?
    var seconds: Double?

    static func measure(a: Image, b: Image, fused: Image, truth: Image?, peak: Double, seconds: Double?) -> PairScores {
        PairScores(qabf: FusionMetrics.qabf(a, b, fused: fused, peak: peak),
                   qmi: FusionMetrics.qmi(a, b, fused: fused, peak: peak),
                   qcb: FusionMetrics.qcb(a, b, fused: fused, peak: peak),
                   qy: FusionMetrics.qy(a, b, fused: fused, peak: peak),
                   psnr: truth.map { FusionMetrics.psnr(fused, reference: $0, peak: peak) },
                   ssim: truth.map { FusionMetrics.ssim(fused, reference: $0, peak: peak) },
                   seconds: seconds)
    }

    static func mean(_ rows: [PairScores]) -> PairScores {
        let n = Double(max(1, rows.count))
        func average(_ values: [Double?]) -> Double? {
            let present = values.compactMap { $0 }
            return present.count == rows.count && !present.isEmpty ? present.reduce(0, +) / n : nil
        }
        return PairScores(qabf: rows.map(\.qabf).reduce(0, +) / n, qmi: rows.map(\.qmi).reduce(0, +) / n,
                          qcb: rows.map(\.qcb).reduce(0, +) / n, qy: rows.map(\.qy).reduce(0, +) / n,
                          psnr: average(rows.map(\.psnr)), ssim: average(rows.map(\.ssim)),
                          seconds: average(rows.map(\.seconds)))
    }

    func cells(truth: Bool, time: Bool) -> [String] {
        var out = [qabf, qmi, qcb, qy].map { String(format: "%.4f", $0) }
        if truth { out += [psnr.map { String(format: "%.2f", $0) } ?? "-", ssim.map { String(format: "%.4f", $0) } ?? "-"] }
        if time { out.append(seconds.map { String(format: "%.3f", $0) } ?? "-") }
        return out
    }

    func lines() -> [String] {
        var out = [String(format: "Q_AB/F  %.4f", qabf), String(format: "Q_MI    %.4f", qmi),
                   String(format: "Q_CB    %.4f", qcb), String(format: "Q_Y     %.4f", qy)]
        if let psnr { out.append(String(format: "PSNR    %.2f dB", psnr)) }
        if let ssim { out.append(String(format: "SSIM    %.4f", ssim)) }
        return out
    }

    func jsonObject(name: String?) -> [String: Any] {
        var object: [String: Any] = ["qabf": qabf, "qmi": qmi, "qcb": qcb, "qy": qy]
        if let name { object["name"] = name }
        if let psnr { object["psnr"] = psnr.isFinite ? psnr : 999.0 }
        if let ssim { object["ssim"] = ssim }
        if let seconds { object["seconds"] = seconds }
        return object
    }
}

extension Dictionary where Key == String, Value == Any {
    /// Pretty-printed JSON with sorted keys.
    var jsonString: String {
        let data = (try? JSONSerialization.data(withJSONObject: self, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
