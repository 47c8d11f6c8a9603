import NN

/// What a training forward pass keeps for the backward pass.
struct TrainingTape {
}
