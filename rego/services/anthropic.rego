# METADATA
# title: Anthropic
# description: api.anthropic.com. Inference is `read`; mcp_servers or web_fetch make it `send`.
package airlock.services.anthropic

import rego.v1

owns_host if input.request.host == "api.anthropic.com"

secret := object.get(data.airlock.config, ["services", "anthropic", "secret"], "anthropic_api_key")

credentials contains {"secret": secret, "in": "header", "name": "x-api-key", "format": "{}"}
