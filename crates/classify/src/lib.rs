//! classify (skeleton; being written)
