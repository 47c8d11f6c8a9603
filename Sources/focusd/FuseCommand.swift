import ArgumentParser

struct FuseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fuse", abstract: "Fuse one focus stack into an all-in-focus image.")

    func run() async throws {
        throw ValidationError("'fuse' is not available in this build yet")
    }
}
