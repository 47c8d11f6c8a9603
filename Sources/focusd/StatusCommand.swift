import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's queue and recent results from its journal.")

    func run() async throws {
        throw ValidationError("'status' is not available in this build yet")
    }
}
