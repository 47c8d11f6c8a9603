import ArgumentParser

struct BenchAlignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "align", abstract: "Benchmark slice alignment.")

    func run() async throws {
        throw ValidationError("'align' is not available in this build yet")
    }
}
