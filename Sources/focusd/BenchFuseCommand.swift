import ArgumentParser

struct BenchFuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fuse", abstract: "Benchmark FusionDiff pair and stack fusion.")

    func run() async throws {
        throw ValidationError("'fuse' is not available in this build yet")
    }
}
