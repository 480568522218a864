"""Success thresholds in practice: run figures per period, the agent scorecard and the quarterly review."""
