"""The five papers' methods (AHCL, PAD, DCCM, R-DC, NMCE). One paper per file."""
