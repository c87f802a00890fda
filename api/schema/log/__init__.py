"""The verifiable decision log: checkpoints, the public key, inclusion and consistency proofs."""
