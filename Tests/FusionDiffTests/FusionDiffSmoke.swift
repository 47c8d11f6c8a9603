import Testing
@testable import FusionDiff
