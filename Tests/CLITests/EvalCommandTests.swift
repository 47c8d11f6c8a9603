import Foundation
import Testing

/// `focusd eval` end to end: metrics for one fused image, their ordering, JSON output, exit codes.
@Suite("focusd eval")
struct EvalCommandTests {
    let lytro = CLI.sharedData.appendingPathComponent("dev/lytro")

    private func metrics(_ arguments: [String]) throws -> [String: Double] {
        let result = try CLI.run(["eval"] + arguments + ["--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (object ?? [:]).compactMapValues { $0 as? Double }
    }

    @Test func fusedPairScoresAboveASourceAlone() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = lytro.appendingPathComponent("01_A.jpg").path, b = lytro.appendingPathComponent("01_B.jpg").path
        let fusedPath = dir.appendingPathComponent("01.tif").path
        let fuse = try CLI.run(["fuse", a, b, "--engine", "control", "--out", fusedPath])
        #expect(fuse.status == 0, "stderr: \(fuse.stderr)")

        let fused = try metrics(["--sources", a, b, "--fused", fusedPath])
        let sourceOnly = try metrics(["--sources", a, b, "--fused", a])
        for key in ["qabf", "qmi", "qcb", "qy"] { #expect(fused[key] != nil, "missing \(key)") }
        // The control fuses Lytro 01 at Q_AB/F ≈ 0.755 and Q_CB ≈ 0.833 (release build, this machine).
        #expect(fused["qabf"]! > 0.74)
        #expect(fused["qcb"]! > 0.81)
        // A source passed off as the fused image loses the other source's detail.
        #expect(fused["qabf"]! > sourceOnly["qabf"]! + 0.05)
        #expect(fused["qcb"]! > sourceOnly["qcb"]! + 0.05)
    }

    @Test func plainTextNamesEveryMetric() throws {
        let a = lytro.appendingPathComponent("02_A.jpg").path, b = lytro.appendingPathComponent("02_B.jpg").path
        let result = try CLI.run(["eval", "--sources", a, b, "--fused", a])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for name in ["Q_AB/F", "Q_MI", "Q_CB", "Q_Y"] { #expect(result.stdout.contains(name)) }
    }

    @Test func missingFusedImageExitsOneNamingIt() throws {
        let a = lytro.appendingPathComponent("01_A.jpg").path, b = lytro.appendingPathComponent("01_B.jpg").path
        let result = try CLI.run(["eval", "--sources", a, b, "--fused", "/nonexistent/fused.tif"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/fused.tif"))
    }

    @Test func incompleteArgumentsExitTwo() throws {
        let result = try CLI.run(["eval", "--fused", "x.tif"])
        #expect(result.status == 2)
    }

    @Test func aDatasetFusedWithAProfileScoresAsItsEngineDoes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["03_A.jpg", "03_B.jpg"] {
            try FileManager.default.copyItem(at: lytro.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        func mean(_ arguments: [String]) throws -> [String: Any] {
            let result = try CLI.run(["eval", "--dataset", dir.path, "--json"] + arguments)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return object ?? [:]
        }
        let byProfile = try mean(["--profile", "reference"])
        let byEngine = try mean(["--engine", "reference"])
        #expect((byProfile["source"] as? String)?.hasPrefix("profile reference") == true)
        let p = try #require((byProfile["mean"] as? [String: Any])?["qabf"] as? Double)
        let e = try #require((byEngine["mean"] as? [String: Any])?["qabf"] as? Double)
        #expect(p == e)
        #expect(p > 0.6)
        let both = try CLI.run(["eval", "--dataset", dir.path, "--profile", "reference", "--steps", "2"])
        #expect(both.status == 2)
    }
}
