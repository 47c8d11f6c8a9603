import ArgumentParser
import Daemon
import Fusion
import Registration

// Enumerations that appear as command-line option values, declared once for every command.
extension FusionSettings.Engine: ExpressibleByArgument {}
extension FusionSettings.OutputFormat: ExpressibleByArgument {}
extension PairOrder: ExpressibleByArgument {}
extension ProjectionMode: ExpressibleByArgument {}
extension TransformModel: ExpressibleByArgument {}
