"""Model building blocks shared by methods and baselines.

nets (MLP autoencoders, critics), backbones (ResNet/conv encoders), augment
(image augmentations), pretrain (shared autoencoder pretraining recipes and the
``PretrainedAEMethod`` base), kmeans_knn (k-means and exact k-NN: scikit-learn
or faiss), spectral (k-NN affinity, normalised-cut embedding), ensc (elastic-net
subspace clustering), geometry (latent-space diagnostics), coding_rate (MCR²/TCR),
lars (LARS optimizer), dec_loss (DEC's soft assignment, target, KL), training
(device, seeded batches, NaN guard).
"""
