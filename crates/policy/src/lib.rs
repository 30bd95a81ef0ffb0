//! policy (skeleton; being written)
