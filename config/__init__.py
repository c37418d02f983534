"""Loading and validating the YAML configuration that ops teams edit."""
