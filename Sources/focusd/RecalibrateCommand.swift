import ArgumentParser
import Daemon
import Foundation

/// `focusd recalibrate DROP`: forgets a drop folder's breathing calibration, so its next stacks fit
/// the breathing afresh (after an objective was changed without changing the profile).
struct RecalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalibrate",
        abstract: "Forget a drop folder's focus-breathing calibration; its next stacks calibrate it afresh.",
        discussion: """
            With align_calibrate_breathing: N in a drop folder's profile, the daemon fits the focus breathing \
            on the folder's first N stacks and aligns every later stack with their median (`focusd status` \
            shows it). A changed profile starts a new calibration by itself; after changing the objective \
            behind a folder whose profile stays the same, run this. Stacks already fused keep their outputs.
            """)

    @Argument(help: "The drop folder's name (as in the configuration and `focusd status`).")
    var drop: String

    @Option(name: .long, help: "The daemon configuration file (its state_directory holds the journal).")
    var config: String = DaemonConfiguration.defaultPath

    func run() async throws {
        let configuration = try DaemonConfiguration.load(path: config)
        guard configuration.dropFolders.contains(where: { $0.name == drop }) else {
            let names = configuration.dropFolders.map(\.name).joined(separator: ", ")
            throw ValidationError("no drop folder named '\(drop)' in \(config) (its drop folders: \(names))")
        }
        guard FileManager.default.fileExists(atPath: configuration.journalPath) else {
            print("no journal at \(configuration.journalPath) yet: nothing calibrated")
            return
        }
        let removed = try Journal(path: configuration.journalPath).resetBreathingCalibration(drop: drop)
        print("\(drop): \(removed) breathing fit\(removed == 1 ? "" : "s") forgotten; its next stacks calibrate the breathing afresh")
    }
}
