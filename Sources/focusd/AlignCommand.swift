import ArgumentParser

struct AlignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "align", abstract: "Align the slices of a stack and write the transforms.")

    func run() async throws {
        throw ValidationError("'align' is not available in this build yet")
    }
}
