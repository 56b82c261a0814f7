"""Reports: tables (markdown + booktabs LaTeX) rendered from run records and published numbers."""
