"""CodeBot's analysis core: find exact, renamed and near-miss copies of code."""
