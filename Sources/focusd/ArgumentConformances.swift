import ArgumentParser
import Fusion
import Imaging
import Pipeline
import Registration
import Simulation

// Enumerations that appear as command-line option values, declared once for every command.
extension FusionSettings.Engine: ExpressibleByArgument {}
extension FusionSettings.OutputFormat: ExpressibleByArgument {}
extension PairOrder: ExpressibleByArgument {}
extension ProjectionMode: ExpressibleByArgument {}
extension TransformModel: ExpressibleByArgument {}
extension FusionSettings.Composition: ExpressibleByArgument {}
extension SelectionOptions.Decision: ExpressibleByArgument {}
extension MicroscopeSimulation.Modality: ExpressibleByArgument {}
extension MicroscopeSimulation.Layering: ExpressibleByArgument {}
extension SampleFormat: ExpressibleByArgument {}
