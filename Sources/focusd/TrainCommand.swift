import ArgumentParser

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train or fine-tune a FusionDiff model.")

    func run() async throws {
        throw ValidationError("'train' is not available in this build yet")
    }
}
