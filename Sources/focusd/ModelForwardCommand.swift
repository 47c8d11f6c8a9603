import ArgumentParser

struct ModelForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forward", abstract: "Run one forward pass of a model (for parity checks).")

    func run() async throws {
        throw ValidationError("'forward' is not available in this build yet")
    }
}
