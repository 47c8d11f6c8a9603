import ArgumentParser

struct BenchNNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nn", abstract: "Benchmark the NN engine against cblas_sgemm.")

    func run() async throws {
        throw ValidationError("'nn' is not available in this build yet")
    }
}
