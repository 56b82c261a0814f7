"""Baselines: k-means, spectral clustering and the autoencoder family. One method per file."""
