"""State store, diff of wanted vs written vs current, plan and apply."""
