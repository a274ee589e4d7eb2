"""The Slack adapter: slack-bolt AsyncApp over HTTP or Socket Mode, Block Kit, App Home."""
