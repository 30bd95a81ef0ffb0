//! dataplane (skeleton; being written)
