import ArgumentParser

struct BenchQualityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quality", abstract: "Fusion quality against steps, model and projection, beside baselines.")

    func run() async throws {
        throw ValidationError("'quality' is not available in this build yet")
    }
}
