"""Platform adapters: translate Slack, Teams and console traffic to the core's neutral model."""
