import ArgumentParser

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Compute fusion-quality metrics.")

    func run() async throws {
        throw ValidationError("'eval' is not available in this build yet")
    }
}
