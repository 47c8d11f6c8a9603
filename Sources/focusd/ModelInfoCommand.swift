import ArgumentParser

struct ModelInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print a model's configuration, parameter count and sha256.")

    func run() async throws {
        throw ValidationError("'info' is not available in this build yet")
    }
}
