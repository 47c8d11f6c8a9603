// FusionDiff module
