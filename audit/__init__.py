"""Signed, hash-chained audit log, Merkle proofs, checkpoints and attestations."""
