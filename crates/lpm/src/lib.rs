//! lpm (skeleton; being written)
