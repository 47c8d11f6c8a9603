import ArgumentParser
import Foundation
import Pipeline

/// The `focusd` command: a thin root whose subcommands live in their own files.
///
/// Exit codes: 0 success, 1 processing error (the message says what and where), 2 usage error.
@main
struct Focusd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "focusd",
        abstract: "Fuse microscope focus stacks into all-in-focus images with FusionDiff.",
        version: FocusdBuild.version,
        subcommands: [
            FuseCommand.self,
            SimulateCommand.self,
            DemoCommand.self,
            AlignCommand.self,
            ServeCommand.self,
            ReprocessCommand.self,
            RetryCommand.self,
            RecalibrateCommand.self,
            StatusCommand.self,
            WebCommand.self,
            ProfilesCommand.self,
            ModelCommand.self,
            TrainCommand.self,
            EvalCommand.self,
            BenchCommand.self,
        ]
    )

    /// Runs the parsed command, mapping errors onto focusd's exit codes.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help and --version land here.
                exit(withError: error)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as ValidationError {
            FileHandle.standardError.write(Data("focusd: \(error)\n".utf8))
            Foundation.exit(2)
        } catch where exitCode(for: error) == .success {
            exit(withError: error)  // help or version requested
        } catch {
            FileHandle.standardError.write(Data("focusd: error: \(describe(error))\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// The text a user sees for an error: its localized description, else its `description`.
func describe(_ error: any Error) -> String {
    if let e = error as? any LocalizedError, let text = e.errorDescription { return text }
    return String(describing: error)
}


/// The group of benchmark commands; each benchmark lives in its own file.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print ratios measured in the same run.",
        subcommands: [BenchNNCommand.self, BenchAlignCommand.self, BenchFuseCommand.self, BenchQualityCommand.self, BenchCeilingCommand.self,
                      BenchStacksCommand.self, BenchHashCommand.self, BenchWebCommand.self]
    )
}

/// The group of model commands.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect FusionDiff model files and run single forward passes.",
        subcommands: [ModelInfoCommand.self, ModelForwardCommand.self]
    )
}
