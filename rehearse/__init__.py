"""Rehearse a matrix before it reaches the agents: `replay` over the stored history, `drill`
through a scripted scenario on a simulated clock. Reads the state store only; writes nothing."""
