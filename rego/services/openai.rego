# METADATA
# title: OpenAI
# description: api.openai.com. Inference is `read`; remote MCP or fetch tools make it `send`.
package airlock.services.openai

import rego.v1

owns_host if input.request.host == "api.openai.com"

secret := object.get(data.airlock.config, ["services", "openai", "secret"], "openai_api_key")

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"}
