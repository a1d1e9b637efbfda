# METADATA
# title: Slack
# description: The Slack Web API (slack.com/api/{method}) and incoming webhooks (hooks.slack.com).
package airlock.services.slack

import rego.v1

owns_host if input.request.host in {"slack.com", "api.slack.com", "files.slack.com", "hooks.slack.com"}

secret := object.get(data.airlock.config, ["services", "slack", "secret"], "slack_token")

# Incoming webhook URLs carry their own secret in the path: no token is injected there.
credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	input.request.host in {"slack.com", "api.slack.com", "files.slack.com"}
}
